/**
 * Finds, reads, parses and validates the config, or builds the ad-hoc `MCP_SERVER_URL` config
 * when there is no file.
 */
import { validateStore } from "./_validate_store.ts";
import { ConfigError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { checkHttpUrl } from "./_fields.ts";
import { locateJsonError } from "./_json_error.ts";
import type { EnvLookup } from "./expand_vars.ts";
import { defaultConfigPaths, findConfigFile } from "./find_config.ts";
import { toolscriptHome } from "./toolscript_home.ts";
import { checkConfigTrusted } from "./trusted_configs.ts";
import type { Config } from "./types.ts";
import {
  DEFAULT_GATEWAY,
  DEFAULT_TIMEOUT_MS,
  tokenOverrideVariable,
  validateConfig,
} from "./validate_config.ts";

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** The `--config` argument, if given. */
  flag?: string;
  /** The environment (`(name) => Deno.env.get(name)` in `main.ts`). */
  env: EnvLookup;
  /** Working directory: relative `--config` paths and `./.toolscript.json` are relative to it. */
  cwd: string;
  /**
   * The user's home directory: expands `~/` in `--config` and `$TOOLSCRIPT_CONFIG`, gives
   * `~/.config` when `$XDG_CONFIG_HOME` is unset or relative, and `~/.toolscript` (where
   * `trusted.json` is) when `$TOOLSCRIPT_HOME` is unset.
   */
  home: string;
  /** Reads the config file; default `Deno.readTextFile`. */
  readTextFile?: (path: string) => Promise<string>;
  /** Receives debug lines (which file was loaded, or the ad-hoc config); default silent. */
  logger?: Logger;
}

/**
 * Loads the config: `--config <path>`, `$TOOLSCRIPT_CONFIG`, `./.toolscript.json`, then
 * `$XDG_CONFIG_HOME/toolscript/config.json` (default `~/.config/toolscript/config.json`).
 * With no file anywhere and `MCP_SERVER_URL` set, returns an ad-hoc config with one http
 * server named `default` whose token override is `MCP_AUTH_TOKEN`.
 *
 * A `./.toolscript.json` (found by lookup, not named by `--config` or `$TOOLSCRIPT_CONFIG`) is
 * used only when `$TOOLSCRIPT_HOME/trusted.json` holds the SHA-256 of its text; that is checked
 * right after reading, before the text is parsed or any `${VAR}` expanded.
 *
 * Secret files are not read here, only resolved; use `readSecret` when a value is needed.
 * `Config.secrets` lists the secret values met, for the caller to register with its redactor.
 *
 * @throws {UntrustedConfigError} (a {@link ConfigError}) when a `./.toolscript.json` found by
 *   lookup was never trusted or changed since.
 * @throws {ConfigError} when no config is found, the file cannot be read, is not valid JSON
 *   (the message gives line and column) or does not validate (`path` names the value).
 * @example
 * ```ts
 * import { loadConfig } from "./load_config.ts";
 * const config = await loadConfig({
 *   env: (name) => ({ MCP_SERVER_URL: "http://127.0.0.1:8080/mcp" } as Record<string, string>)[name],
 *   cwd: "/nonexistent",
 *   home: "/nonexistent",
 * });
 * config.servers[0].name; // "default"
 * ```
 */
export async function loadConfig(options: LoadConfigOptions): Promise<Config> {
  const found = await findConfigFile(options);
  if (!found) {
    const url = options.env("MCP_SERVER_URL");
    if (url) {
      options.logger?.debug('No config file; using MCP_SERVER_URL as server "default"');
      return adhocConfig(url, options.env);
    }
    const places = defaultConfigPaths(options).map((c) => `"${c.file}"`).join(" or ");
    throw new ConfigError(
      `No config file found: neither --config nor $TOOLSCRIPT_CONFIG is given, and there is ` +
        `none at ${places}; create one of those with ` +
        `{"mcpServers": {"<name>": {"url": "https://…"}}}, pass --config <path>, ` +
        `or set MCP_SERVER_URL for a single server`,
    );
  }
  const { file, source } = found;
  const text = await readConfigText(file, options.readTextFile);
  const config = await loadConfigText(text, { ...options, file, source });
  options.logger?.debug("Loaded config", { file, source, servers: config.servers.length });
  return config;
}

/** Options of {@link loadConfigText}. */
export interface LoadConfigTextOptions {
  /** The file the text was read from (absolute). */
  file: string;
  /** How that file was found; `cwd` (a project config) requires trust. */
  source: Exclude<Config["source"], "adhoc">;
  /** The environment `${VAR}` expands from. */
  env: EnvLookup;
  /** The user's home directory (for `$TOOLSCRIPT_HOME`'s default, where `trusted.json` is). */
  home: string;
  /** Receives trust-file permission warnings; default silent. */
  logger?: Logger;
}

/**
 * Turns the text of a config file already found (and read) into a config, as
 * {@link loadConfig} does: a project config (`source: "cwd"`) is checked against
 * `trusted.json` first, before the text is parsed or any `${VAR}` expanded. The gateway's
 * config watch calls it with each saved text, so an edit of a project config is refused until
 * it is trusted again.
 *
 * @throws {UntrustedConfigError} and {@link ConfigError} as {@link loadConfig}.
 */
export async function loadConfigText(
  text: string,
  options: LoadConfigTextOptions,
): Promise<Config> {
  const { file, source } = options;
  if (source === "cwd") {
    await checkConfigTrusted(file, text, {
      home: toolscriptHome(options.env, options.home),
      logger: options.logger,
    });
  }
  return validateConfig(parseConfigJson(text, file), { file, source, env: options.env });
}

/**
 * Reads a config file's text with `read` (default `Deno.readTextFile`).
 * @throws {ConfigError} naming the file and the kind of failure.
 */
export async function readConfigText(
  file: string,
  read: (path: string) => Promise<string> = Deno.readTextFile,
): Promise<string> {
  try {
    return await read(file);
  } catch (error) {
    throw new ConfigError(`Cannot read config file (${(error as Error).name})`, {
      file,
      cause: error,
    });
  }
}

/**
 * Parses config text read from `file` (a leading byte order mark is allowed) into JSON, for
 * `validateConfig`.
 *
 * @throws {ConfigError} naming the file, and the line and column of a syntax error; never
 *   quoting the text.
 */
export function parseConfigJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    const where = locateJsonError(text);
    throw new ConfigError(
      where
        ? `Invalid JSON at line ${where.line}, column ${where.column}: ${where.reason}`
        : "Invalid JSON",
      { file },
    );
  }
}

function adhocConfig(url: string, env: EnvLookup): Config {
  const secrets = new Set<string>();
  checkHttpUrl(
    { env, secrets },
    url,
    "MCP_SERVER_URL",
    false,
    "use an https:// URL in MCP_SERVER_URL, or configure the server in a config file with " +
      '"allowInsecureHttp": true',
  );
  const tokenOverride = env("MCP_AUTH_TOKEN") || env(tokenOverrideVariable("default")) ||
    undefined;
  if (tokenOverride) secrets.add(tokenOverride);
  const store = validateStore({ env, secrets }, undefined);
  return {
    source: "adhoc",
    ...(store ? { store } : {}),
    gateway: { ...DEFAULT_GATEWAY },
    servers: [{
      name: "default",
      type: "http",
      enabled: true,
      url,
      headers: {},
      allowInsecureHttp: false,
      allowUnauthenticated: false,
      timeoutMs: DEFAULT_TIMEOUT_MS,
      tokenOverride,
    }],
    secrets: [...secrets],
  };
}
