/**
 * Serves a {@link Gateway} over HTTP with `Deno.serve`, bound to loopback by default.
 */
import type { Gateway } from "./gateway.ts";
import { createGatewayHandler, type GatewayHandlerOptions } from "./http_endpoint.ts";

/** Options of {@link serveGatewayHttp}. */
export interface ServeGatewayHttpOptions extends GatewayHandlerOptions {
  host: string;
  /** 0 picks any free port. */
  port: number;
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
  close(): Promise<void>;
}

/** Starts the HTTP endpoint and resolves once it is listening. */
export function serveGatewayHttp(
  gateway: Gateway,
  options: ServeGatewayHttpOptions,
): Promise<GatewayHttpServer> {
  const handler = createGatewayHandler(gateway, options);
  return new Promise((resolve, reject) => {
    let server: Deno.HttpServer<Deno.NetAddr>;
    try {
      server = Deno.serve({
        hostname: options.host,
        port: options.port,
        signal: options.signal,
        onListen: () => {},
        onError: (error) => {
          gateway.logger.error("gateway request failed", { error: String(error) });
          return new Response("Internal error\n", { status: 500 });
        },
      }, (request) => handler.handle(request));
    } catch (error) {
      reject(error);
      return;
    }
    const { hostname, port } = server.addr;
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    const origin = `http://${host}:${port}`;
    const close = async () => {
      await handler.close();
      await server.shutdown().catch(() => {});
    };
    options.signal?.addEventListener("abort", () => handler.close(), { once: true });
    resolve({
      url: `${origin}/mcp`,
      origin,
      finished: server.finished,
      close,
      [Symbol.asyncDispose]: close,
    });
  });
}
