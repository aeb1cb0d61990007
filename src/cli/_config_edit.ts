/**
 * Editing the config file for `add`, `remove` and `import`: find the file the CLI would use,
 * parse it, change `mcpServers`, validate the result with the real validator, and write it back
 * atomically as JSON with 2-space indent (every other key and entry kept, in its order).
 */
import { dirname } from "node:path";
import { ConfigError } from "../errors.ts";
import { type ConfigToEdit, findConfigToEdit } from "../config/find_config.ts";
import { parseConfigJson, readConfigText } from "../config/load_config.ts";
import { isRecord } from "../config/is_record.ts";
import { writeFileAtomically } from "../config/private_file.ts";
import { toolscriptHome } from "../config/toolscript_home.ts";
import {
  checkConfigTrusted,
  trustConfig,
  UntrustedConfigError,
} from "../config/trusted_configs.ts";
import { validateConfig } from "../config/validate_config.ts";
import type { EnvLookup } from "../config/expand_vars.ts";
import type { CliIo } from "./cli_runtime.ts";

/** A config file opened for editing. */
export interface ConfigEdit {
  target: ConfigToEdit;
  /** The whole parsed document; `servers` is its `mcpServers` object. */
  doc: Record<string, unknown>;
  servers: Record<string, unknown>;
  /** The text read, undefined for a file still to be created. */
  text?: string;
}

/**
 * Stands in for variables unset in the shell that runs the edit: the gateway may run with other
 * variables, so an edit is checked for shape, not for this environment.
 */
const UNSET_PLACEHOLDER = "toolscript-unset";

/**
 * Opens the config the CLI would use (`--config`, `$TOOLSCRIPT_CONFIG`, `./.toolscript.json`,
 * `$XDG_CONFIG_HOME/toolscript/config.json`). With `create`, a missing file gives an empty
 * document to fill; without, it is a {@link ConfigError}. An existing file must already
 * validate, so an edit never hides an earlier problem.
 *
 * @throws {ConfigError} when the file is missing (without `create`), unreadable, not JSON, not
 *   an object with an `mcpServers` object, or does not validate.
 */
export async function openConfigEdit(
  io: CliIo,
  flag: string | undefined,
  options: { create: boolean; command: string },
): Promise<ConfigEdit> {
  const target = await findConfigToEdit({ flag, env: io.env, cwd: io.cwd, home: io.home });
  if (!target.exists) {
    if (!options.create) {
      throw new ConfigError(
        `No config file to ${options.command} from; ` +
          `pass --config <path>, or add a server first with toolscript add`,
        { file: target.file },
      );
    }
    const servers: Record<string, unknown> = {};
    return { target, doc: { mcpServers: servers }, servers };
  }
  const text = await readConfigText(target.file);
  const doc = parseConfigJson(text, target.file);
  if (!isRecord(doc)) {
    throw new ConfigError("The config is not a JSON object", { file: target.file });
  }
  doc.mcpServers ??= {};
  if (!isRecord(doc.mcpServers)) {
    throw new ConfigError('"mcpServers" is not an object', {
      file: target.file,
      path: "mcpServers",
    });
  }
  validateEdited(doc, target.file, io.env);
  return { target, doc, servers: doc.mcpServers, text };
}

/**
 * Validates the document as the gateway would load it, with each `${VAR}` unset here (and
 * without default) replaced by a placeholder (see {@link UNSET_PLACEHOLDER}).
 *
 * @throws {ConfigError} naming the file and JSON path of the first problem.
 */
export function validateEdited(doc: unknown, file: string, env: EnvLookup): void {
  validateConfig(fillUnset(doc, env), { file, source: "flag", env });
}

/** A copy of `value` with every `${NAME}` (no default) whose variable is unset filled in. */
function fillUnset(value: unknown, env: EnvLookup): unknown {
  if (typeof value === "string") {
    return value.replace(
      /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g,
      (reference, name) => env(name) === undefined ? UNSET_PLACEHOLDER : reference,
    );
  }
  if (Array.isArray(value)) return value.map((item) => fillUnset(item, env));
  if (!isRecord(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillUnset(v, env)]));
}

/**
 * Validates the edited document and writes it: JSON, 2-space indent, final newline, mode 0600,
 * atomically (temp file, fsync, rename) to the file a symlink points at. A new file's missing
 * directories are made 0700. A `./.toolscript.json` that was trusted stays trusted (the edit is
 * the user's own); one that was not stays untrusted.
 *
 * @throws {ConfigError} when the result does not validate; nothing is written then.
 */
export async function saveConfigEdit(edit: ConfigEdit, io: CliIo): Promise<void> {
  const { target, doc } = edit;
  validateEdited(doc, target.file, io.env);
  const text = JSON.stringify(doc, null, 2) + "\n";
  const trustOptions = { home: toolscriptHome(io.env, io.home), logger: io.logger, now: io.now };
  let wasTrusted = false;
  if (target.source === "cwd" && edit.text !== undefined) {
    try {
      await checkConfigTrusted(target.file, edit.text, trustOptions);
      wasTrusted = true;
    } catch (error) {
      if (!(error instanceof UntrustedConfigError)) throw error;
    }
  }
  let path = target.file;
  if (target.exists) {
    path = await Deno.realPath(target.file);
  } else {
    await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
  }
  await writeFileAtomically(path, new TextEncoder().encode(text), {
    logger: io.logger,
    signal: io.signal,
  });
  if (wasTrusted) await trustConfig(target.file, text, trustOptions);
}

/** `${VAR}` references without default in `value` whose variable is unset in `env`. */
export function unsetVariables(value: unknown, env: EnvLookup): string[] {
  const names = new Set<string>();
  const walk = (item: unknown): void => {
    if (typeof item === "string") {
      for (const [, name, fallback] of item.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(:-)?/g)) {
        if (fallback === undefined && env(name) === undefined) names.add(name);
      }
    } else if (Array.isArray(item)) item.forEach(walk);
    else if (isRecord(item)) Object.values(item).forEach(walk);
  };
  walk(value);
  return [...names];
}
