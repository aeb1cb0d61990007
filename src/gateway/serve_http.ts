/**
 * Serves a {@link Gateway} over HTTP with `Deno.serve`, bound to loopback by default.
 */
import type { Gateway } from "./gateway.ts";
import { ToolscriptError } from "../errors.ts";
import { createGatewayHandler, type GatewayHandlerOptions } from "./http_endpoint.ts";

/** Options of {@link serveGatewayHttp}. */
export interface ServeGatewayHttpOptions extends GatewayHandlerOptions {
  /** Interface to bind, e.g. `127.0.0.1`; anything but loopback exposes the gateway. */
  host: string;
  /** 0 picks any free port; read the chosen one from {@link GatewayHttpServer.url}. */
  port: number;
  /** Aborting stops the server and closes every MCP session, as `close()` does. */
  signal?: AbortSignal;
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
export function serveGatewayHttp(
  gateway: Gateway,
  options: ServeGatewayHttpOptions,
): Promise<GatewayHttpServer> {
  const wildcard = ["0.0.0.0", "::", "[::]", ""].includes(options.host);
  const handler = createGatewayHandler(gateway, {
    ...options,
    allowedHosts: options.allowedHosts ?? (wildcard ? undefined : [options.host]),
  });
  return new Promise((resolve, reject) => {
    let server: Deno.HttpServer<Deno.NetAddr>;
    try {
      // No `signal` here: Deno.serve's own abort handling races our shutdown (BadResource).
      server = Deno.serve({
        hostname: options.host,
        port: options.port,
        onListen: () => {},
        onError: (error) => {
          gateway.logger.error("gateway request failed", { error: String(error) });
          return new Response("Internal error\n", { status: 500 });
        },
      }, (request) => handler.handle(request));
    } catch (error) {
      reject(
        error instanceof Deno.errors.AddrInUse
          ? new ToolscriptError(
            `Cannot listen on ${options.host}:${options.port}: the address is already in use`,
            { code: "usage", fix: "toolscript gateway --port 0", cause: error },
          )
          : error,
      );
      return;
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
    resolve({
      url: `${origin}/mcp`,
      origin,
      finished: server.finished,
      close,
      [Symbol.asyncDispose]: close,
    });
  });
}
