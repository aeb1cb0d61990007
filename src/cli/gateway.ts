/**
 * `toolscript gateway`: connects every enabled server and serves them as one MCP endpoint,
 * over HTTP (printing `TOOLSCRIPT_GATEWAY_URL=…` when ready) or, with `--stdio`, over
 * stdin/stdout.
 */
import { GLOBAL_HELP, parseCommandArgs, parsePort } from "./cli_args.ts";
import { UsageError } from "../errors.ts";
import {
  type CallerTokenFollower,
  followCallerTokens,
  readCallerTokens,
} from "./gateway_callers.ts";
import { isLoopbackHost } from "../config/loopback.ts";
import { join } from "node:path";
import { type CliIo, type CliRuntime, createCliGateway, openCliRuntime } from "./cli_runtime.ts";
import { serveGatewayHttp } from "../gateway/serve_http.ts";
import { serveGatewayStdio } from "../gateway/serve_stdio.ts";
import type { MethodRoutes, RouteHandler } from "../gateway/http_endpoint.ts";
import type { Gateway } from "../gateway/gateway.ts";
import { watchCredentials } from "../gateway/credential_watch.ts";
import { DEFAULT_MAX_CONNECTIONS } from "../gateway/connection_guard.ts";
import { createCodeModeTools } from "../codemode/code_mode_tools.ts";
import { GATEWAY_EXPOSE_VALUES } from "../config/validate_config.ts";
import type { GatewayConfig, GatewayExpose } from "../config/types.ts";
import { loadConfigText } from "../config/load_config.ts";
import { TRUSTED_CONFIGS_FILE } from "../config/trusted_configs.ts";
import { type ConfigReloaded, watchConfigReload } from "../gateway/config_reload.ts";

/** Parsed `gateway` arguments. */
export interface GatewayArgs {
  config?: string;
  help: boolean;
  host?: string;
  port?: number;
  stdio: boolean;
  /** `--expose`; undefined: the config's `gateway.expose`. */
  expose?: GatewayExpose;
}

/** Help text of `gateway`. */
export const GATEWAY_HELP =
  `Usage: toolscript gateway [--host H] [--port N] [--stdio] [--expose tools|code|both]

Connects to every enabled server and serves all their tools as one MCP endpoint.
The config file is watched: a saved change applies without a restart (added servers
connect, removed ones close, changed ones reconnect); an invalid edit is logged and the
running config stays. Host, port and store changes need a restart.

Options:
  --host <host>     Address to bind (default from config, else 127.0.0.1)
  --port <n>        Port (default from config, else 3333; 0 = any free port)
  --stdio           Serve MCP over stdin/stdout instead of HTTP
  --expose <what>   What tools/list offers (default from config, else tools):
                      tools  every server's tools
                      code   only toolscript__search, toolscript__types and toolscript__exec
                             (code mode for any MCP client)
                      both   the code-mode tools and every server's tools

Environment (HTTP mode):
  TOOLSCRIPT_GATEWAY_TOKEN               Bearer token every request must carry (not empty)
  TOOLSCRIPT_GATEWAY_MAX_CONNECTIONS     Most client connections (default 512, fewer when
                                         the open-file limit is low)
  TOOLSCRIPT_GATEWAY_HEADERS_TIMEOUT_MS  Time to send a request head (default 10000)
  TOOLSCRIPT_GATEWAY_IDLE_TIMEOUT_MS     Idle keep-alive connection lifetime (default 60000)
${GLOBAL_HELP}`;

/** Parses `gateway` arguments (pure). */
export function parseGatewayArgs(argv: string[]): GatewayArgs {
  const { values, global } = parseCommandArgs("gateway", argv, {
    host: { type: "string" },
    port: { type: "string" },
    stdio: { type: "boolean" },
    expose: { type: "string" },
  }, { min: 0, max: 0 });
  const expose = values.expose as string | undefined;
  if (expose !== undefined && !GATEWAY_EXPOSE_VALUES.includes(expose as GatewayExpose)) {
    throw new UsageError(
      `--expose must be one of ${GATEWAY_EXPOSE_VALUES.join(", ")}, got "${expose}"`,
      { fix: "toolscript gateway --help" },
    );
  }
  const stdio = values.stdio === true;
  if (stdio && (values.host !== undefined || values.port !== undefined)) {
    throw new UsageError("--stdio serves on stdin/stdout; --host and --port do not apply", {
      fix: "toolscript gateway --stdio",
    });
  }
  return {
    ...global,
    host: values.host as string | undefined,
    port: parsePort(values.port, "--port"),
    stdio,
    expose: expose as GatewayExpose | undefined,
  };
}

/** Extra HTTP routes a higher layer mounts on the gateway (code mode). */
export type GatewayRoutes = (
  gateway: Gateway,
  origin: () => string,
) => Record<string, RouteHandler | MethodRoutes>;

/** Runs the gateway until SIGINT/SIGTERM (or stdin closing, with `--stdio`). */
export async function runGateway(
  args: GatewayArgs,
  io: CliIo,
  options: {
    routes?: GatewayRoutes;
    /** The process's open-file limit, if known; default: read from `/proc/self/limits`. */
    fileDescriptorLimit?: () => number | undefined;
  } = {},
): Promise<number> {
  if (args.help) {
    io.stdout(GATEWAY_HELP + "\n");
    return 0;
  }
  // Refused before anything is spawned: an empty token, a malformed limit.
  const gatewayToken = gatewayTokenFromEnv(io);
  const limits = args.stdio
    ? undefined
    : connectionLimits(io, options.fileDescriptorLimit ?? linuxFileDescriptorLimit);
  const runtime = await openCliRuntime(io, args.config);
  const expose = args.expose ?? runtime.config.gateway.expose ?? "tools";
  await using gateway = createCliGateway(runtime, undefined, {
    localTools: expose === "tools"
      ? undefined
      : (g) => createCodeModeTools(g, { expose, env: io.env }),
    // A reload builds upstreams again: each needs a provider of its own.
    credentialsFor: runtime.newCredentials,
  });
  const log = runtime.logger;
  /** Follows `gateway.callers` (HTTP only: on stdio there is one client and no tokens). */
  const callers: { follower?: CallerTokenFollower } = {};
  const watch = async () => {
    const stopCredentials = watchCredentials(gateway, {
      version: (name) => runtime.store.version(name),
      subscribe: (onChange, signal) => runtime.store.watch(onChange, signal),
      signal: io.signal,
    });
    const stopConfig = await watchGatewayConfig(gateway, runtime, args, (reload) => {
      void callers.follower?.reload(reload.config.gateway.callers);
    });
    return () => {
      stopCredentials();
      stopConfig();
      callers.follower?.stop();
    };
  };
  if (args.stdio) {
    await gateway.start(io.signal);
    const stopWatch = await watch();
    log.info("gateway serving MCP on stdio", { servers: gateway.upstreams.size });
    await serveGatewayStdio(gateway, io.signal);
    stopWatch();
    return 0;
  }
  let origin = "";
  const callerTokens = await readCallerTokens(runtime.config.gateway.callers, runtime.logger);
  const host = args.host ?? runtime.config.gateway.host;
  if (
    !gatewayToken && !callerTokens &&
    !isLoopbackHost(host.replace(/^\[|\]$/g, "") === "::1" ? "[::1]" : host)
  ) {
    log.warn(
      `gateway listens on ${host} without TOOLSCRIPT_GATEWAY_TOKEN: anyone who can reach it ` +
        "can call every tool with your credentials; set TOOLSCRIPT_GATEWAY_TOKEN",
    );
  }
  if (limits?.warning) log.warn(limits.warning);
  await using server = await serveGatewayHttp(gateway, {
    host,
    port: args.port ?? runtime.config.gateway.port,
    signal: io.signal,
    gatewayToken,
    callers: callerTokens,
    allowedHosts: runtime.config.gateway.allowedHosts,
    maxConnections: limits?.maxConnections,
    headersTimeoutMs: limits?.headersTimeoutMs,
    idleTimeoutMs: limits?.idleTimeoutMs,
    routes: options.routes?.(gateway, () => origin),
  });
  origin = server.origin;
  callers.follower = followCallerTokens({
    sources: runtime.config.gateway.callers,
    tokens: callerTokens,
    apply: async (tokens, { removed }) => {
      await server.setCallers(tokens);
      await gateway.forgetCallers(removed);
    },
    logger: log,
    signal: io.signal,
  });
  await gateway.start(io.signal);
  const stopWatch = await watch();
  io.stdout(`TOOLSCRIPT_GATEWAY_URL=${server.url}\n`);
  log.info("gateway ready", {
    url: server.url,
    servers: gateway.health().map((s) => `${s.name}:${s.state}`).join(" "),
  });
  await server.finished;
  stopWatch();
  log.info("gateway stopped");
  return 0;
}

/**
 * Starts the config watch (hot reload) of a gateway run from a config file; nothing for the
 * ad-hoc `MCP_SERVER_URL` config. Each saved text is loaded as at start: a project config
 * must be trusted again (the trust file is watched too, so `toolscript trust` applies it),
 * and `${VAR}` expands from the gateway's environment. `onReload` hears of each applied one.
 */
async function watchGatewayConfig(
  gateway: Gateway,
  runtime: CliRuntime,
  args: GatewayArgs,
  onReload: (reload: ConfigReloaded) => void,
): Promise<() => void> {
  const { file, source } = runtime.config;
  if (!file || source === "adhoc") return () => {};
  // A config that is a symlink (dotfiles) changes where it points: watch there too.
  const target = await Deno.realPath(file).catch(() => file);
  const { io, logger } = runtime;
  const ignored: (keyof GatewayConfig)[] = [];
  if (args.stdio) ignored.push("host", "port", "allowedHosts");
  if (args.host !== undefined) ignored.push("host");
  if (args.port !== undefined) ignored.push("port");
  if (args.expose !== undefined) ignored.push("expose");
  return watchConfigReload(gateway, {
    file,
    alsoWatch: [
      ...target === file ? [] : [target],
      ...source === "cwd" ? [join(runtime.home, TRUSTED_CONFIGS_FILE)] : [],
    ],
    load: (text) => loadConfigText(text, { file, source, env: io.env, home: io.home, logger }),
    ignoreGatewaySettings: ignored,
    onReload,
    signal: io.signal,
  });
}

/**
 * `TOOLSCRIPT_GATEWAY_TOKEN`, registered with the redactor; undefined when unset. Set but empty
 * (or only spaces) is refused: it would silently turn the gateway's authentication off.
 *
 * @throws {UsageError} when the variable is set but empty.
 */
export function gatewayTokenFromEnv(io: CliIo): string | undefined {
  const token = io.env("TOOLSCRIPT_GATEWAY_TOKEN");
  if (token === undefined) return undefined;
  if (token.trim() === "") {
    throw new UsageError(
      "TOOLSCRIPT_GATEWAY_TOKEN is set but empty; an empty token would turn gateway " +
        "authentication off",
      // Not written as an assignment: the log redactor masks whatever follows `…TOKEN=`.
      { fix: "set TOOLSCRIPT_GATEWAY_TOKEN to a random token (openssl rand -hex 32), or unset it" },
    );
  }
  io.logger.redactor.addSecret(token);
  return token;
}

/** What the connection guard gets, from the environment and the open-file limit. */
interface ConnectionLimits {
  maxConnections: number;
  headersTimeoutMs?: number;
  idleTimeoutMs?: number;
  warning?: string;
}

/** File descriptors kept free for everything but client connections (upstreams, files). */
const RESERVED_FDS = 128;
/** A client connection holds one: its socket (the guard serves HTTP in process). */
const FDS_PER_CONNECTION = 1;

function connectionLimits(
  io: CliIo,
  fileDescriptorLimit: () => number | undefined,
): ConnectionLimits {
  const limit = fileDescriptorLimit();
  const fitting = limit === undefined
    ? DEFAULT_MAX_CONNECTIONS
    : Math.max(16, Math.floor((limit - RESERVED_FDS) / FDS_PER_CONNECTION));
  const given = positiveEnv(io, "TOOLSCRIPT_GATEWAY_MAX_CONNECTIONS");
  return {
    maxConnections: given ?? Math.min(DEFAULT_MAX_CONNECTIONS, fitting),
    headersTimeoutMs: positiveEnv(io, "TOOLSCRIPT_GATEWAY_HEADERS_TIMEOUT_MS"),
    idleTimeoutMs: positiveEnv(io, "TOOLSCRIPT_GATEWAY_IDLE_TIMEOUT_MS"),
    warning: given !== undefined && given > fitting
      ? `TOOLSCRIPT_GATEWAY_MAX_CONNECTIONS=${given} may exhaust the open-file limit (${limit}); ` +
        `at most ${fitting} fit, or raise the limit (ulimit -n)`
      : undefined,
  };
}

function positiveEnv(io: CliIo, name: string): number | undefined {
  const value = io.env(name);
  if (value === undefined || value === "") return undefined;
  if (!/^\d+$/.test(value.trim()) || Number(value) <= 0 || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`${name} must be a positive integer, got "${value}"`, {
      fix: `unset ${name}`,
    });
  }
  return Number(value);
}

/** The soft `RLIMIT_NOFILE` on Linux; undefined elsewhere or when it cannot be read. */
function linuxFileDescriptorLimit(): number | undefined {
  try {
    const limits = Deno.readTextFileSync("/proc/self/limits");
    const soft = /^Max open files\s+(\d+)/m.exec(limits)?.[1];
    return soft === undefined ? undefined : Number(soft);
  } catch {
    return undefined;
  }
}
