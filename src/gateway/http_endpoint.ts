/**
 * The gateway's HTTP endpoint as a plain `fetch(Request)` handler: streamable HTTP MCP at
 * `/mcp` (one SDK server per session), `/health`, and extra routes mounted by higher layers
 * (code mode). Every route rejects foreign `Origin` headers and, when a gateway token is set,
 * requests without it.
 */
// @ts-types="@modelcontextprotocol/sdk/server/webStandardStreamableHttp"
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/server/index"
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { timingSafeEqual } from "node:crypto";
import type { Gateway } from "./gateway.ts";
import { createGatewayMcpServer } from "./gateway_mcp_server.ts";
import { isLoopbackHost } from "../config/loopback.ts";

/** A route handler mounted beside `/mcp`. */
export type RouteHandler = (request: Request) => Response | Promise<Response>;

/** Options of {@link createGatewayHandler}. */
export interface GatewayHandlerOptions {
  /** When set, every request must carry `Authorization: Bearer <token>`. */
  gatewayToken?: string;
  /** Extra GET routes by path (e.g. `/runtime/tools.ts`). */
  routes?: Record<string, RouteHandler>;
  /** Most concurrent MCP sessions; the oldest is closed beyond it. Default 256. */
  maxSessions?: number;
  /**
   * Host names (without port, as `URL.hostname` spells them) requests may be addressed to,
   * besides loopback names; guards against DNS rebinding, where a web page's own host name
   * resolves to the gateway. Undefined: loopback names only, also for a wildcard bind.
   */
  allowedHosts?: string[];
}

/** The handler plus a way to close every open session. */
export interface GatewayHandler extends AsyncDisposable {
  handle(request: Request): Promise<Response>;
  close(): Promise<void>;
}

interface Session {
  transport: WebStandardStreamableHTTPServerTransport;
  server: Server;
}

/** Creates the gateway's HTTP handler. */
export function createGatewayHandler(
  gateway: Gateway,
  options: GatewayHandlerOptions = {},
): GatewayHandler {
  const sessions = new Map<string, Session>();
  const maxSessions = options.maxSessions ?? 256;
  const expectedToken = options.gatewayToken
    ? new TextEncoder().encode(options.gatewayToken)
    : undefined;

  function refuse(status: number, message: string): Response {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (status === 401) headers["www-authenticate"] = 'Bearer realm="toolscript"';
    return new Response(
      JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message }, id: null }),
      { status, headers },
    );
  }

  function isAuthorized(request: Request): boolean {
    if (!expectedToken) return true;
    const match = /^Bearer\s+(.+)$/i.exec(request.headers.get("authorization") ?? "");
    if (!match) return false;
    const given = new TextEncoder().encode(match[1].trim());
    return given.length === expectedToken.length && timingSafeEqual(given, expectedToken);
  }

  async function openSession(): Promise<Session> {
    if (sessions.size >= maxSessions) {
      const [oldestId, oldest] = sessions.entries().next().value!;
      sessions.delete(oldestId);
      await oldest.server.close().catch(() => {});
    }
    const server = createGatewayMcpServer(gateway);
    const transport: WebStandardStreamableHTTPServerTransport =
      new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: () => crypto.randomUUID(),
        // One JSON body per POST instead of an SSE stream: about twice the calls/s under load
        // (deno task bench, group 1). Notifications still flow on the GET stream.
        enableJsonResponse: true,
        onsessioninitialized: (id: string) => {
          sessions.set(id, { transport, server });
        },
        onsessionclosed: (id: string) => {
          sessions.delete(id);
        },
      });
    await server.connect(transport);
    return { transport, server };
  }

  async function handleMcp(request: Request): Promise<Response> {
    const sessionId = request.headers.get("mcp-session-id");
    if (sessionId) {
      const session = sessions.get(sessionId);
      if (!session) return refuse(404, "Session not found");
      return await session.transport.handleRequest(request);
    }
    if (request.method !== "POST") return refuse(400, "Missing Mcp-Session-Id header");
    const session = await openSession();
    const response = await session.transport.handleRequest(request);
    if (!session.transport.sessionId) await session.server.close().catch(() => {});
    return response;
  }

  const allowedHosts = options.allowedHosts &&
    new Set(options.allowedHosts.map((h) => h.toLowerCase()));
  const isAllowedHost = (hostname: string) =>
    isLoopbackHost(hostname) || (allowedHosts?.has(hostname.toLowerCase()) ?? false);

  /** Browsers send `Origin`; only pages served from loopback or the gateway's hosts may call. */
  function isAllowedOrigin(origin: string | null): boolean {
    if (origin === null) return true;
    try {
      const hostname = new URL(origin).hostname;
      return isLoopbackHost(hostname) || (allowedHosts?.has(hostname.toLowerCase()) ?? false);
    } catch {
      return false;
    }
  }

  // Requests still waiting on an upstream when the gateway closes are answered 503 at once:
  // a closed session never resolves them, and the HTTP server would wait for them forever.
  const closing = Promise.withResolvers<Response>();

  function handle(request: Request): Promise<Response> {
    return Promise.race([route(request), closing.promise]);
  }

  async function route(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (!isAllowedHost(url.hostname)) return refuse(403, "Forbidden host");
    if (!isAllowedOrigin(request.headers.get("origin"))) {
      return refuse(403, "Forbidden origin");
    }
    if (!isAuthorized(request)) return refuse(401, "Missing or wrong gateway token");
    if (url.pathname === "/mcp") return await handleMcp(request);
    if (url.pathname === "/health" && request.method === "GET") {
      const servers = gateway.health();
      const status = servers.every((s) => s.state === "ok") ? "ok" : "degraded";
      return Response.json({ status, servers });
    }
    const extra = options.routes?.[url.pathname];
    if (extra && request.method === "GET") return await extra(request);
    return new Response("Not found\n", { status: 404 });
  }

  async function close(): Promise<void> {
    closing.resolve(refuse(503, "Gateway is shutting down"));
    const all = [...sessions.values()];
    sessions.clear();
    await Promise.all(all.map((s) => s.server.close().catch(() => {})));
  }

  return { handle, close, [Symbol.asyncDispose]: close };
}
