/**
 * Finds the config file: `--config <path>`, `$TOOLSCRIPT_CONFIG`, `./.toolscript.json`, then
 * `$XDG_CONFIG_HOME/toolscript/config.json` (default `~/.config/toolscript/config.json`).
 */
import { isAbsolute, join, resolve } from "node:path";
import { ConfigError } from "../errors.ts";
import type { EnvLookup } from "./expand_vars.ts";
import type { Config } from "./types.ts";

/** Options of {@link findConfigFile}. */
export interface FindConfigOptions {
  /** The `--config` argument, if given. */
  flag?: string;
  env: EnvLookup;
  /** Directory that relative paths and `./.toolscript.json` are relative to. */
  cwd: string;
  /** The user's home directory. */
  home: string;
}

/** A config file that exists, and which rule found it. */
export interface FoundConfig {
  /** Absolute path. */
  file: string;
  source: Exclude<Config["source"], "adhoc">;
}

/**
 * Returns the first config file of the lookup order, or undefined when there is none.
 *
 * @throws {ConfigError} when the file named by `--config` or `$TOOLSCRIPT_CONFIG` does not
 *   exist, or a candidate exists but is not a readable regular file.
 * @example
 * ```ts
 * import { findConfigFile } from "./find_config.ts";
 * const found = await findConfigFile({ env: () => undefined, cwd: "/tmp", home: "/nonexistent" });
 * // { file: "/tmp/.toolscript.json", source: "cwd" } when that file exists, else undefined
 * ```
 */
export async function findConfigFile(options: FindConfigOptions): Promise<FoundConfig | undefined> {
  const named: [string | undefined, FoundConfig["source"], string][] = [
    [options.flag, "flag", "--config"],
    [options.env("TOOLSCRIPT_CONFIG"), "env", "$TOOLSCRIPT_CONFIG"],
  ];
  for (const [path, source, what] of named) {
    if (!path) continue;
    const file = absolute(path, options);
    if (!(await isConfigFile(file))) {
      throw new ConfigError(
        `Config file given by ${what} does not exist; check the path or create the file`,
        { file },
      );
    }
    return { file, source };
  }
  for (const candidate of defaultConfigPaths(options)) {
    if (await isConfigFile(candidate.file)) return candidate;
  }
  return undefined;
}

/** The config file an editing command (`add`, `remove`, `import`) changes, and whether it exists. */
export interface ConfigToEdit extends FoundConfig {
  /** False when the file is still to be created. */
  exists: boolean;
}

/**
 * The file an editing command changes: the one the lookup order finds; else the file named by
 * `--config` or `$TOOLSCRIPT_CONFIG` (to be created); else, with nothing anywhere,
 * `$XDG_CONFIG_HOME/toolscript/config.json` (default `~/.config/toolscript/config.json`), to be
 * created. Reads nothing but file metadata.
 *
 * @throws {ConfigError} when a candidate exists but is not a readable regular file.
 * @example
 * ```ts
 * import { findConfigToEdit } from "./find_config.ts";
 * const target = await findConfigToEdit({ env: () => undefined, cwd: "/tmp", home: "/nonexistent" });
 * // { file: "/nonexistent/.config/toolscript/config.json", source: "xdg", exists: false }
 * // unless /tmp/.toolscript.json exists
 * ```
 */
export async function findConfigToEdit(options: FindConfigOptions): Promise<ConfigToEdit> {
  const named: [string | undefined, FoundConfig["source"]][] = [
    [options.flag, "flag"],
    [options.env("TOOLSCRIPT_CONFIG"), "env"],
  ];
  for (const [path, source] of named) {
    if (!path) continue;
    const file = absolute(path, options);
    return { file, source, exists: await isConfigFile(file) };
  }
  const candidates = defaultConfigPaths(options);
  for (const candidate of candidates) {
    if (await isConfigFile(candidate.file)) return { ...candidate, exists: true };
  }
  return { ...candidates[candidates.length - 1], exists: false };
}

/** The places searched when neither `--config` nor `$TOOLSCRIPT_CONFIG` is given, in order. */
export function defaultConfigPaths(
  options: Omit<FindConfigOptions, "flag">,
): FoundConfig[] {
  const xdg = options.env("XDG_CONFIG_HOME");
  // The XDG spec says to ignore a relative XDG_CONFIG_HOME.
  const configHome = xdg && isAbsolute(xdg) ? xdg : join(options.home, ".config");
  return [
    { file: resolve(options.cwd, ".toolscript.json"), source: "cwd" },
    { file: join(configHome, "toolscript", "config.json"), source: "xdg" },
  ];
}

function absolute(path: string, options: FindConfigOptions): string {
  if (path === "~" || path.startsWith("~/")) return join(options.home, path.slice(1));
  return resolve(options.cwd, path);
}

/**
 * True for a regular file, false when nothing is there.
 * @throws {ConfigError} naming the file when it is something else or cannot be accessed.
 */
export async function isConfigFile(file: string): Promise<boolean> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(file);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return false;
    }
    throw new ConfigError(`Cannot access config file (${(error as Error).name})`, {
      file,
      cause: error,
    });
  }
  if (!info.isFile) {
    throw new ConfigError("Config path is not a regular file; point it at a JSON file", { file });
  }
  return true;
}
