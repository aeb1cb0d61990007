/**
 * `${VAR}` and `${VAR:-default}` expansion of config strings. The environment is passed in as
 * a lookup function, so nothing here reads `Deno.env`.
 */
import { ConfigError } from "../errors.ts";
import { joinPath } from "./_fields.ts";

/** Looks up an environment variable; undefined when it is not set. */
export type EnvLookup = (name: string) => string | undefined;

/** Where the text being expanded sits, for error messages. */
export interface ExpandVarsWhere {
  /** The config file, when there is one. */
  file?: string;
  /** JSON path of the value, e.g. `mcpServers.github.url`. */
  path?: string;
  /** The server whose entry holds the value. */
  server?: string;
  /** Called with each variable that was set and used, e.g. to record secret values. */
  onVariable?: (name: string, value: string) => void;
}

const REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;

/**
 * Expands every `${NAME}` and `${NAME:-default}` in `text`. As in the shell, the default is
 * used when the variable is unset or empty; the default itself is taken literally, up to the
 * first `}`. A `$` not followed by `{` is left as is.
 *
 * @throws {ConfigError} when a variable without default is unset, or a reference is malformed.
 *   The message names the variable, the server and (via `path`) the JSON path, never a value.
 * @example
 * ```ts
 * import { expandVars } from "./expand_vars.ts";
 * const env = (name: string) => ({ HOST: "example.com" } as Record<string, string>)[name];
 * expandVars("https://${HOST}:${PORT:-443}/mcp", env, { path: "mcpServers.a.url" });
 * // "https://example.com:443/mcp"
 * ```
 */
export function expandVars(text: string, env: EnvLookup, where: ExpandVarsWhere): string {
  let out = "";
  let from = 0;
  for (;;) {
    const start = text.indexOf("${", from);
    if (start < 0) return out + text.slice(from);
    const end = text.indexOf("}", start + 2);
    const match = end < 0 ? null : REFERENCE.exec(text.slice(start + 2, end));
    if (!match) {
      throw new ConfigError(
        `Malformed variable reference${serverSuffix(where)}; write \${NAME} or \${NAME:-default}`,
        { file: where.file, path: where.path },
      );
    }
    const [, name, fallback] = match;
    const value = env(name);
    let replacement: string;
    if (value !== undefined && value !== "") where.onVariable?.(name, value);
    if (fallback !== undefined) {
      replacement = value === undefined || value === "" ? fallback : value;
    } else if (value !== undefined) {
      replacement = value;
    } else {
      throw new ConfigError(
        `Environment variable "${name}" is not set${serverSuffix(where)}; ` +
          `set it, or give a default as \${${name}:-default}`,
        { file: where.file, path: where.path },
      );
    }
    out += text.slice(from, start) + replacement;
    from = end + 1;
  }
}

/**
 * Returns a copy of a JSON value with {@link expandVars} applied to every string in it (not to
 * object keys). Values under keys starting with `_` or `$` are comments and stay as written.
 *
 * @throws {ConfigError} as {@link expandVars}, with the JSON path of the offending string.
 */
export function expandStrings(value: unknown, env: EnvLookup, where: ExpandVarsWhere): unknown {
  if (typeof value === "string") return expandVars(value, env, where);
  if (Array.isArray(value)) {
    return value.map((item, i) =>
      expandStrings(item, env, { ...where, path: `${where.path ?? ""}[${i}]` })
    );
  }
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = key.startsWith("_") || key.startsWith("$")
      ? item
      : expandStrings(item, env, { ...where, path: joinPath(where.path, key) });
  }
  return out;
}

function serverSuffix(where: ExpandVarsWhere): string {
  return where.server === undefined ? "" : ` (used by server "${where.server}")`;
}
