/**
 * Private to src/config: the per-server fields that decide what the gateway exposes, `prefix`
 * and `tools: {allow, deny}`, and the rule that no server name or prefix contains `__` (the
 * separator between a prefix and the upstream's own names).
 */
import { ConfigError } from "../errors.ts";
import { Fields, joinPath } from "./_fields.ts";
import { NAME_SEPARATOR as SEPARATOR } from "./name_separator.ts";
import type { ToolFilterConfig } from "./types.ts";

/** The prefix of toolscript's own tools (`toolscript__exec`, …), refused in the config. */
const RESERVED_PREFIX = "toolscript";

/** Characters a non-empty prefix may use (those of server names). */
const PREFIX = /^[a-zA-Z0-9_-]{1,64}$/;

/** Keys of a server entry read here. */
export const EXPOSURE_KEYS: readonly string[] = ["prefix", "tools"];

/** The message for a server name holding `__`, or undefined when the name is fine. */
export function separatorInServerName(name: string): string | undefined {
  if (!name.includes(SEPARATOR)) return undefined;
  return `Invalid server name "${name}": it must not contain "${SEPARATOR}", which separates ` +
    `a server's prefix from its tool names; rename the server (e.g. "${
      name.replaceAll(SEPARATOR, "-")
    }")`;
}

/** Reads `prefix` (default `name`; `""` allowed) and `tools` of the server entry `f`. */
export function validateExposure(
  f: Fields,
  name: string,
): { prefix: string; tools?: ToolFilterConfig } {
  const prefix = readPrefix(f, name);
  if (!f.has("tools")) return { prefix };
  const tools = new Fields(f.ctx, f.obj.tools, f.at("tools"), `"tools" of server "${name}"`);
  tools.allowKeys(["allow", "deny"], `"tools" of server "${name}"`);
  const filter: ToolFilterConfig = {};
  for (const key of ["allow", "deny"] as const) {
    const globs = tools.stringArray(key);
    if (globs === undefined) continue;
    globs.forEach((glob, i) => {
      if (glob === "") {
        throw new ConfigError(`Expected "${key}" to hold non-empty globs`, {
          file: f.ctx.file,
          path: joinPath(tools.at(key), i),
        });
      }
    });
    filter[key] = globs;
  }
  return { prefix, tools: filter };
}

function readPrefix(f: Fields, name: string): string {
  if (!f.has("prefix")) return name;
  const prefix = f.obj.prefix;
  if (typeof prefix !== "string") f.fail("prefix", `Expected "prefix" to be a string`);
  if (prefix.includes(SEPARATOR)) {
    f.fail(
      "prefix",
      `Invalid prefix: it must not contain "${SEPARATOR}", which separates the prefix from ` +
        `the tool name`,
    );
  }
  if (prefix === RESERVED_PREFIX) {
    f.fail("prefix", `Prefix "${RESERVED_PREFIX}" is reserved for toolscript's own tools`);
  }
  if (prefix !== "" && !PREFIX.test(prefix)) {
    f.fail("prefix", `Invalid prefix; use "" or 1 to 64 letters, digits, '_' or '-'`);
  }
  return prefix;
}
