/**
 * Serves a {@link Gateway} over HTTP behind the connection guard (a cap on connections, head
 * and idle timeouts, accept errors survived), bound to loopback by default.
 */
import type { Gateway } from "./gateway.ts";
import { ToolscriptError } from "../errors.ts";
import { createGatewayHandler, type GatewayHandlerOptions } from "./http_endpoint.ts";
import { type GuardedServer, serveWithConnectionGuard } from "./connection_guard.ts";

/** Options of {@link serveGatewayHttp}. */
export interface ServeGatewayHttpOptions extends GatewayHandlerOptions {
  /** Interface to bind, e.g. `127.0.0.1`; anything but loopback exposes the gateway. */
  host: string;
  /** 0 picks any free port; read the chosen one from {@link GatewayHttpServer.url}. */
  port: number;
  /** Aborting stops the server and closes every MCP session, as `close()` does. */
  signal?: AbortSignal;
  /** Most concurrent connections (see `ConnectionGuardOptions.maxConnections`); default 512. */
  maxConnections?: number;
  /** Time a connection has to send a complete request head; default 10 000 ms. */
  headersTimeoutMs?: number;
  /** Time an idle keep-alive connection is kept; default 60 000 ms. */
  idleTimeoutMs?: number;
}

/** A running HTTP endpoint. */
export interface GatewayHttpServer extends AsyncDisposable {
  /** `http://H:PORT/mcp`. */
  url: string;
  /** `http://H:PORT`. */
  origin: string;
  /** Resolves when the server has stopped. */
  finished: Promise<void>;
  /** Closes every MCP session, then stops the server. Leaves the gateway itself running. */
  close(): Promise<void>;
  /**
   * Replaces the callers' tokens (a config reload): only the new ones are accepted from now on,
   * and the sessions of callers no longer listed are closed.
   */
  setCallers(callers: Record<string, string> | undefined): Promise<void>;
}

/**
 * Starts the HTTP endpoint and resolves once it is listening: MCP at `/mcp`, `/health`, and
 * `options.routes`. Every route refuses foreign `Origin` headers and, when `gatewayToken` is
 * set, requests without it.
 *
 * @throws {Deno.errors.AddrInUse} (rejects) when the port is taken.
 * @example Serve on any free loopback port
 * ```ts
 * import { createGateway } from "./create_gateway.ts";
 * import { serveGatewayHttp } from "./serve_http.ts";
 * import { validateConfig } from "../config/validate_config.ts";
 * const config = validateConfig({ mcpServers: {} }, { source: "flag", env: () => undefined });
 * await using gateway = createGateway(config, { home: await Deno.makeTempDir() });
 * await gateway.start();
 * await using server = await serveGatewayHttp(gateway, { host: "127.0.0.1", port: 0 });
 * server.url; // "http://127.0.0.1:<port>/mcp"
 * ```
 */
export async function serveGatewayHttp(
  gateway: Gateway,
  options: ServeGatewayHttpOptions,
): Promise<GatewayHttpServer> {
  const handler = createGatewayHandler(gateway, {
    ...options,
    allowedHosts: [...boundHostNames(options.host), ...options.allowedHosts ?? []],
  });
  let server: GuardedServer;
  try {
    server = await serveWithConnectionGuard({
      hostname: options.host,
      port: options.port,
      maxConnections: options.maxConnections,
      headersTimeoutMs: options.headersTimeoutMs,
      idleTimeoutMs: options.idleTimeoutMs,
      logger: gateway.logger,
      onError: (error) => {
        gateway.logger.error("gateway request failed", { error: String(error) });
        return new Response("Internal error\n", { status: 500 });
      },
    }, (request) => handler.handle(request));
  } catch (error) {
    throw error instanceof Deno.errors.AddrInUse
      ? new ToolscriptError(
        `Cannot listen on ${options.host}:${options.port}: the address is already in use`,
        { code: "usage", fix: "toolscript gateway --port 0", cause: error },
      )
      : error;
  }
  const { hostname, port } = server.addr;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  const origin = `http://${host}:${port}`;
  let closed: Promise<void> | undefined;
  const close = () =>
    closed ??= (async () => {
      options.signal?.removeEventListener("abort", onAbort);
      await handler.close();
      await server.shutdown();
    })();
  const onAbort = () => {
    close().catch((error) =>
      gateway.logger.warn("gateway shutdown failed", { error: String(error) })
    );
  };
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener("abort", onAbort, { once: true });
  return {
    url: `${origin}/mcp`,
    origin,
    finished: server.finished,
    close,
    setCallers: (callers) => handler.setCallers(callers),
    [Symbol.asyncDispose]: close,
  };
}

/** The bound address as `URL.hostname` spells it (`[::]` for `::`), for the Host check. */
function boundHostNames(host: string): string[] {
  if (host === "") return [];
  const bare = host.replace(/^\[|\]$/g, "");
  return [bare.includes(":") ? `[${bare}]` : bare];
}
