/**
 * Turns parsed config JSON into the typed {@link Config}: `${VAR}` expansion, defaults, and a
 * {@link ConfigError} with file and JSON path for anything wrong.
 */
import { ConfigError } from "../errors.ts";
import { type EnvLookup, expandStrings, expandVars } from "./expand_vars.ts";
import { Fields, isSecretName, joinPath, type ValidationContext } from "./_fields.ts";
import { validateAuth } from "./_validate_auth.ts";
import type { Config, GatewayConfig, GatewayExpose, ServerConfig } from "./types.ts";
import { displayUrl } from "./display_url.ts";
import { validateStore } from "./_validate_store.ts";
import { validateCallers } from "./_validate_callers.ts";
import { EXPOSURE_KEYS, separatorInServerName, validateExposure } from "./_validate_exposure.ts";

/** Options of {@link validateConfig}. */
export interface ValidateConfigOptions {
  /** The absolute path of the config file; relative `*File` paths and `cwd` resolve against it. */
  file?: string;
  /** How the file was found. */
  source: Config["source"];
  /** The environment, for `${VAR}`, `*Env` and `TOOLSCRIPT_TOKEN_<SERVER>`. */
  env: EnvLookup;
}

/** Server names allowed in `mcpServers`. */
export const SERVER_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** Gateway settings when the config has no `gateway` block. */
export const DEFAULT_GATEWAY: Readonly<GatewayConfig> = {
  host: "127.0.0.1",
  port: 3333,
  expose: "tools",
};

/** Values of `gateway.expose` (and `--expose`). */
export const GATEWAY_EXPOSE_VALUES: readonly GatewayExpose[] = ["tools", "code", "both"];

/**
 * The server name (and prefix) toolscript keeps for its own tools (`toolscript__search`, …);
 * no configured server may use it.
 */
export const RESERVED_SERVER_NAME = "toolscript";

/** Default connect timeout of a server, in ms. */
export const DEFAULT_TIMEOUT_MS = 30_000;

const COMMON_KEYS = ["type", "enabled", "timeout", "allowUnauthenticated", ...EXPOSURE_KEYS];
const STDIO_KEYS = [...COMMON_KEYS, "command", "args", "env", "cwd"];
const REMOTE_KEYS = [...COMMON_KEYS, "url", "headers", "auth", "allowInsecureHttp"];

/**
 * Validates parsed config JSON. Pure: the environment comes from `options.env`, no file is
 * read (secret files are only resolved to absolute paths). Keys starting with `_` or `$` are
 * ignored, any other unknown key is an error.
 *
 * @throws {ConfigError} naming the file and the JSON path (`mcpServers.github.url`) of the
 *   first problem; never containing a value from the config or the environment.
 * @example
 * ```ts
 * import { validateConfig } from "./validate_config.ts";
 * const config = validateConfig(
 *   { mcpServers: { docs: { url: "https://docs.example/mcp" } } },
 *   { file: "/etc/toolscript.json", source: "flag", env: () => undefined },
 * );
 * config.servers[0].type; // "http"
 * ```
 */
export function validateConfig(raw: unknown, options: ValidateConfigOptions): Config {
  const ctx: ValidationContext = { file: options.file, env: options.env, secrets: new Set() };
  const top = new Fields(ctx, raw, "", "the config");
  top.allowKeys(["gateway", "mcpServers", "store"], "the config");
  if (!top.has("mcpServers")) {
    top.fail("mcpServers", 'Missing "mcpServers"; add "mcpServers": {} with one entry per server');
  }
  const gateway = validateGateway(ctx, top.obj.gateway);
  const store = validateStore(ctx, top.obj.store);
  const servers = new Fields(ctx, top.obj.mcpServers, "mcpServers", '"mcpServers"');
  refuseSharedTokenVariables(servers);
  const list: ServerConfig[] = [];
  for (const [name, entry] of Object.entries(servers.obj)) {
    if (!SERVER_NAME.test(name)) {
      servers.fail(
        name,
        "Invalid server name; use 1 to 64 letters, digits, '_' or '-'",
      );
    }
    const separator = separatorInServerName(name);
    if (separator) servers.fail(name, separator);
    if (name === RESERVED_SERVER_NAME) {
      servers.fail(
        name,
        `Server name "${RESERVED_SERVER_NAME}" is reserved for toolscript's own tools; ` +
          "rename the server",
      );
    }
    list.push(validateServer(ctx, name, entry));
  }
  return {
    file: options.file,
    source: options.source,
    gateway,
    servers: list,
    ...(store ? { store } : {}),
    secrets: [...ctx.secrets],
  };
}

/**
 * Two servers, enabled or not, whose names map to one `TOOLSCRIPT_TOKEN_<SERVER>` variable
 * (`team-api`, `team_api`, `Team_Api`) would both be sent its token: a config error at the second.
 */
function refuseSharedTokenVariables(servers: Fields): void {
  const owners = new Map<string, string>();
  for (const name of Object.keys(servers.obj)) {
    const variable = tokenOverrideVariable(name);
    const other = owners.get(variable);
    if (other !== undefined) {
      servers.fail(
        name,
        `Servers "${other}" and "${name}" both take their token from ${variable}; ` +
          "rename one of them (names differing only in case or in '-' and '_' share it)",
      );
    }
    owners.set(variable, name);
  }
}

/** The `TOOLSCRIPT_TOKEN_<SERVER>` variable of a server (upper-cased, `-` → `_`). */
export function tokenOverrideVariable(server: string): string {
  return `TOOLSCRIPT_TOKEN_${server.toUpperCase().replaceAll("-", "_")}`;
}

function validateGateway(ctx: ValidationContext, raw: unknown): GatewayConfig {
  if (raw === undefined || raw === null) return { ...DEFAULT_GATEWAY };
  const expanded = expandStrings(raw, ctx.env, { ...expansion(ctx), path: "gateway" });
  const f = new Fields(ctx, expanded, "gateway", '"gateway"');
  f.allowKeys(["host", "port", "allowedHosts", "expose", "callers"], '"gateway"');
  const gateway: GatewayConfig = {
    host: f.string("host") ?? DEFAULT_GATEWAY.host,
    port: f.number("port", { integer: true, min: 0, max: 65535 }) ?? DEFAULT_GATEWAY.port,
    expose: f.oneOf("expose", GATEWAY_EXPOSE_VALUES) ?? DEFAULT_GATEWAY.expose,
  };
  const callers = validateCallers(f);
  if (callers) gateway.callers = callers;
  const allowedHosts = f.stringArray("allowedHosts");
  if (allowedHosts) {
    gateway.allowedHosts = allowedHosts.map((host, i) => {
      const name = hostName(host);
      if (name === undefined) {
        throw new ConfigError(
          `Expected a host name or IP address without scheme, port or path, got "${host}"`,
          { file: ctx.file, path: joinPath(f.at("allowedHosts"), i) },
        );
      }
      return name;
    });
  }
  return gateway;
}

/** `host` as `URL.hostname` spells it (`[::1]`, punycode), or undefined when it is not one. */
function hostName(host: string): string | undefined {
  if (!/^[^\s/?#@*]+$/.test(host)) return undefined;
  const bracketed = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  try {
    const url = new URL(`http://${bracketed}`);
    return url.host === url.hostname && url.pathname === "/" ? url.hostname : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads `enabled` first: an enabled server must validate in full; a disabled one that does not
 * (an unset variable, a missing field) is kept as a placeholder, so half-configured servers can
 * stay in the file, disabled.
 */
function validateServer(ctx: ValidationContext, name: string, raw: unknown): ServerConfig {
  const path = joinPath("mcpServers", name);
  const entry = new Fields(ctx, raw, path, `server "${name}"`);
  const enabled = new Fields(
    ctx,
    {
      enabled: expandStrings(entry.obj.enabled, ctx.env, {
        ...expansion(ctx),
        path: entry.at("enabled"),
        server: name,
      }),
    },
    path,
    `server "${name}"`,
  ).boolean("enabled", true);
  if (enabled) return validateServerBody(ctx, name, raw);
  try {
    return validateServerBody(ctx, name, raw);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return disabledPlaceholder(ctx, name, entry.obj, error);
  }
}

/**
 * A disabled server whose entry does not validate: its name, its type and its target (URL or
 * command) as written, with variables expanded where they are set; nothing else is read.
 */
function disabledPlaceholder(
  ctx: ValidationContext,
  name: string,
  raw: Record<string, unknown>,
  error: ConfigError,
): ServerConfig {
  const text = (key: string): string => {
    const value = raw[key];
    if (typeof value !== "string") return "";
    try {
      return expandVars(value, ctx.env, { ...expansion(ctx), path: joinPath("mcpServers", name) });
    } catch {
      return value;
    }
  };
  const base = {
    name,
    enabled: false,
    allowUnauthenticated: false,
    timeoutMs: DEFAULT_TIMEOUT_MS,
    prefix: name,
    configError: error.message,
  };
  const type = raw.type === "stdio" || raw.type === "http" || raw.type === "sse"
    ? raw.type
    : raw.command !== undefined
    ? "stdio"
    : "http";
  if (type === "stdio") return { ...base, type, command: text("command"), args: [], env: {} };
  const url = text("url");
  return {
    ...base,
    type,
    url: displayUrl(url, url),
    headers: {},
    allowInsecureHttp: false,
  };
}

function validateServerBody(ctx: ValidationContext, name: string, raw: unknown): ServerConfig {
  const path = joinPath("mcpServers", name);
  const expanded = expandStrings(raw, ctx.env, { ...expansion(ctx), path, server: name });
  const f = new Fields(ctx, expanded, path, `server "${name}"`);
  const type = f.oneOf("type", ["stdio", "http", "sse"] as const) ??
    (f.has("command") ? "stdio" : "http");
  const base = {
    name,
    enabled: f.boolean("enabled", true),
    allowUnauthenticated: f.boolean("allowUnauthenticated", false),
    timeoutMs: timeoutMs(f),
    ...validateExposure(f, name),
  };

  if (type === "stdio") {
    for (const key of ["auth", "url", "headers", "allowInsecureHttp"]) {
      if (f.has(key)) {
        f.fail(
          key,
          `"${key}" applies only to http and sse servers; ` +
            (key === "auth"
              ? 'pass credentials to a stdio server through "env"'
              : `remove it, or set "type" to "http" or "sse"`),
        );
      }
    }
    f.allowKeys(STDIO_KEYS, `stdio server "${name}"`);
    const command = f.requiredString("command", `stdio server "${name}"`);
    return {
      ...base,
      type,
      command,
      args: f.stringArray("args") ?? [],
      env: f.envMap("env") ?? {},
      cwd: f.filePath("cwd"),
    };
  }

  f.allowKeys(REMOTE_KEYS, `${type} server "${name}"`);
  const allowInsecureHttp = f.boolean("allowInsecureHttp", false);
  const url = f.url("url", allowInsecureHttp) ??
    f.fail("url", `Missing "url": ${type} server "${name}" needs the server's URL`);
  const headers = f.headers("headers") ?? {};
  const auth = f.has("auth")
    ? validateAuth(ctx, f.obj.auth, { path: f.at("auth"), server: name, allowInsecureHttp })
    : undefined;
  const tokenOverride = ctx.env(tokenOverrideVariable(name)) || undefined;
  if (tokenOverride) ctx.secrets.add(tokenOverride);
  return { ...base, type, url, headers, allowInsecureHttp, auth, tokenOverride };
}

/** Expansion settings: values of variables with credential-like names are secrets. */
function expansion(ctx: ValidationContext) {
  return {
    file: ctx.file,
    onVariable: (name: string, value: string) => {
      if (isSecretName(name)) ctx.secrets.add(value);
    },
  };
}

function timeoutMs(f: Fields): number {
  const seconds = f.number("timeout", { above: 0 });
  return seconds === undefined ? DEFAULT_TIMEOUT_MS : Math.round(seconds * 1000);
}
