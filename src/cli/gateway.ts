/**
 * `toolscript gateway`: connects every enabled server and serves them as one MCP endpoint,
 * over HTTP (printing `TOOLSCRIPT_GATEWAY_URL=…` when ready) or, with `--stdio`, over
 * stdin/stdout.
 */
import { GLOBAL_HELP, parseCommandArgs, parsePort } from "./cli_args.ts";
import { UsageError } from "../errors.ts";
import { isLoopbackHost } from "../config/loopback.ts";
import { type CliIo, createCliGateway, openCliRuntime } from "./cli_runtime.ts";
import { serveGatewayHttp } from "../gateway/serve_http.ts";
import { serveGatewayStdio } from "../gateway/serve_stdio.ts";
import type { RouteHandler } from "../gateway/http_endpoint.ts";
import type { Gateway } from "../gateway/gateway.ts";
import { watchCredentials } from "../gateway/credential_watch.ts";
import { createCodeModeTools } from "../codemode/code_mode_tools.ts";
import { GATEWAY_EXPOSE_VALUES } from "../config/validate_config.ts";
import type { GatewayExpose } from "../config/types.ts";

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

Options:
  --host <host>     Address to bind (default from config, else 127.0.0.1)
  --port <n>        Port (default from config, else 3333; 0 = any free port)
  --stdio           Serve MCP over stdin/stdout instead of HTTP
  --expose <what>   What tools/list offers (default from config, else tools):
                      tools  every server's tools
                      code   only toolscript__search, toolscript__types and toolscript__exec
                             (code mode for any MCP client)
                      both   the code-mode tools and every server's tools
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
) => Record<string, RouteHandler>;

/** Runs the gateway until SIGINT/SIGTERM (or stdin closing, with `--stdio`). */
export async function runGateway(
  args: GatewayArgs,
  io: CliIo,
  options: { routes?: GatewayRoutes } = {},
): Promise<number> {
  if (args.help) {
    io.stdout(GATEWAY_HELP + "\n");
    return 0;
  }
  const runtime = await openCliRuntime(io, args.config);
  const expose = args.expose ?? runtime.config.gateway.expose ?? "tools";
  await using gateway = createCliGateway(runtime, undefined, {
    localTools: expose === "tools"
      ? undefined
      : (g) => createCodeModeTools(g, { expose, env: io.env }),
  });
  const log = runtime.logger;
  const watch = () =>
    watchCredentials(gateway, {
      version: (name) => runtime.store.version(name),
      signal: io.signal,
    });
  if (args.stdio) {
    await gateway.start(io.signal);
    const stopWatch = watch();
    log.info("gateway serving MCP on stdio", { servers: gateway.upstreams.size });
    await serveGatewayStdio(gateway, io.signal);
    stopWatch();
    return 0;
  }
  let origin = "";
  const gatewayToken = io.env("TOOLSCRIPT_GATEWAY_TOKEN") || undefined;
  log.redactor.addSecret(gatewayToken);
  const host = args.host ?? runtime.config.gateway.host;
  if (!gatewayToken && !isLoopbackHost(host.replace(/^\[|\]$/g, "") === "::1" ? "[::1]" : host)) {
    log.warn(
      `gateway listens on ${host} without TOOLSCRIPT_GATEWAY_TOKEN: anyone who can reach it ` +
        "can call every tool with your credentials; set TOOLSCRIPT_GATEWAY_TOKEN",
    );
  }
  await using server = await serveGatewayHttp(gateway, {
    host,
    port: args.port ?? runtime.config.gateway.port,
    signal: io.signal,
    gatewayToken,
    routes: options.routes?.(gateway, () => origin),
  });
  origin = server.origin;
  await gateway.start(io.signal);
  const stopWatch = watch();
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
