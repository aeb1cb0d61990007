/**
 * The gateway's HTTP endpoint as a plain `fetch(Request)` handler: streamable HTTP MCP at
 * `/mcp` (one {@link ClientSession} per MCP session), `/health`, `/metrics` (Prometheus text
 * format), and extra routes mounted by higher layers (code mode). Every route rejects foreign
 * `Origin` headers and, when a gateway token is set, requests without it. Sessions are capped
 * per caller; see {@link chooseEviction}.
 */
import { timingSafeEqual } from "node:crypto";
import type { Gateway } from "./gateway.ts";
import { ClientSession } from "./client_session.ts";
import { HttpSessionTransport } from "./http_session_transport.ts";
import { isLoopbackHost } from "../config/loopback.ts";
import { METRICS_CONTENT_TYPE } from "./metrics.ts";
import { raceAbort } from "../abort.ts";

/** A route handler mounted beside `/mcp`. */
export type RouteHandler = (request: Request) => Response | Promise<Response>;

/** An extra route by method; any other method is answered 405 with an `Allow` header. */
export type MethodRoutes = { [method in "GET" | "POST"]?: RouteHandler };

/** Options of {@link createGatewayHandler}. */
export interface GatewayHandlerOptions {
  /** When set, every request must carry `Authorization: Bearer <token>`. */
  gatewayToken?: string;
  /**
   * Each caller's own bearer token (`gateway.callers`), by caller name. When set, a request
   * must carry one of them (or `gatewayToken`, which acts as the gateway itself); its session
   * and tool calls are that caller's, and a session is only ever used by the caller that
   * opened it.
   */
  callers?: Record<string, string>;
  /**
   * Extra routes by path: a bare handler serves GET only (e.g. `/runtime/tools.ts`); a
   * {@link MethodRoutes} serves the methods it names (e.g. `POST /runtime/check`).
   */
  routes?: Record<string, RouteHandler | MethodRoutes>;
  /**
   * Most concurrent MCP sessions of one caller (default 64). Beyond it the caller's idle
   * session used least recently is closed ({@link chooseEviction}); when every one of them has a
   * request in flight, the new `initialize` is refused with 503.
   */
  maxSessions?: number;
  /**
   * Who is calling, for the per-caller session cap: the identity the gateway token stands for.
   * Default: one caller for every request (the single `TOOLSCRIPT_GATEWAY_TOKEN`).
   */
  callerOf?: (request: Request) => string;
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
  /**
   * Replaces the callers' tokens (a config reload): from now on only the new ones are accepted
   * (a replaced token is refused), and the sessions of callers no longer listed are closed.
   */
  setCallers(callers: Record<string, string> | undefined): Promise<void>;
}

interface Session {
  transport: HttpSessionTransport;
  session: ClientSession;
  caller: string;
  /** The authenticated `gateway.callers` name; undefined: the gateway's own token (or none). */
  identity: string | undefined;
}

/** Who a request authenticated as: a caller's name, the gateway itself, or nobody. */
type Identity = { caller?: string } | undefined;

/** What {@link chooseEviction} looks at in a session. */
export interface EvictionCandidate {
  /** True while a request from or to the client is outstanding. */
  busy: boolean;
  /** Requests the client sent besides `initialize`. */
  requestCount: number;
  /** Epoch ms of its last message. */
  lastActiveAt: number;
}

/**
 * The session to close so that one caller may open another: never a busy one; among the idle,
 * first those that never sent a request after `initialize` (what a flood of `initialize`
 * requests leaves behind), then the one used least recently. Undefined when all are busy.
 */
export function chooseEviction<T extends EvictionCandidate>(sessions: Iterable<T>): T | undefined {
  const before = (a: T, b: T) =>
    (a.requestCount === 0) !== (b.requestCount === 0)
      ? a.requestCount === 0
      : a.lastActiveAt < b.lastActiveAt;
  let best: T | undefined;
  for (const s of sessions) {
    if (!s.busy && (!best || before(s, best))) best = s;
  }
  return best;
}

/** Creates the gateway's HTTP handler. */
export function createGatewayHandler(
  gateway: Gateway,
  options: GatewayHandlerOptions = {},
): GatewayHandler {
  const sessions = new Map<string, Session>();
  const maxSessions = options.maxSessions ?? 64;
  const callerOf = options.callerOf ?? (() => "default");
  const expectedToken = options.gatewayToken
    ? new TextEncoder().encode(options.gatewayToken)
    : undefined;
  const tokensOf = (callers: Record<string, string> | undefined) =>
    Object.entries(callers ?? {}).map(([name, token]) => ({
      name,
      token: new TextEncoder().encode(token),
    }));
  let callerTokens = tokensOf(options.callers);
  /**
   * Sticky: an endpoint that has asked for tokens keeps asking, so a reload that removes the
   * last caller of a gateway without `gatewayToken` refuses everyone rather than opening it.
   */
  let tokensRequired = expectedToken !== undefined || callerTokens.length > 0;

  async function setCallers(callers: Record<string, string> | undefined): Promise<void> {
    callerTokens = tokensOf(callers);
    tokensRequired ||= callerTokens.length > 0;
    const gone = [...sessions.entries()].filter(([, s]) =>
      s.identity !== undefined && !Object.hasOwn(callers ?? {}, s.identity)
    );
    for (const [id, { identity }] of gone) {
      sessions.delete(id);
      gateway.logger.info("MCP session closed: its caller was removed from the config", {
        caller: identity,
      });
    }
    await Promise.all(gone.map(([, s]) => s.session.close()));
  }

  function refuse(status: number, message: string): Response {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (status === 401) headers["www-authenticate"] = 'Bearer realm="toolscript"';
    return new Response(
      JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message }, id: null }),
      { status, headers },
    );
  }

  /**
   * The request's identity. Every configured token is compared (constant time each, none
   * skipped), so the time taken does not tell which one, if any, matched.
   */
  function authenticate(request: Request): Identity {
    if (!tokensRequired) return {};
    const match = /^Bearer\s+(.+)$/i.exec(request.headers.get("authorization") ?? "");
    if (!match) return undefined;
    const given = new TextEncoder().encode(match[1].trim());
    const equal = (expected: Uint8Array) =>
      given.length === expected.length && timingSafeEqual(given, expected);
    let identity: Identity;
    if (expectedToken && equal(expectedToken)) identity = {};
    for (const { name, token } of callerTokens) {
      if (equal(token) && identity === undefined) identity = { caller: name };
    }
    return identity;
  }

  /** Makes room for one more session of `caller`; false when all of its sessions are busy. */
  async function makeRoom(caller: string): Promise<boolean> {
    const own = [...sessions.values()].filter((s) => s.caller === caller);
    if (own.length < maxSessions) return true;
    const idle = chooseEviction(own.map((s) => s.session));
    const victim = own.find((s) => s.session === idle);
    if (!victim) return false;
    gateway.logger.info("MCP session limit reached; closing the least recently used idle one", {
      caller,
      sessions: own.length,
    });
    sessions.delete(victim.transport.sessionId!);
    await victim.session.close();
    return true;
  }

  async function handleMcp(request: Request, identity: NonNullable<Identity>): Promise<Response> {
    const sessionId = request.headers.get("mcp-session-id");
    if (sessionId) {
      const entry = sessions.get(sessionId);
      // Another caller's session is as unknown as a made-up one.
      if (!entry || entry.identity !== identity.caller) return refuse(404, "Session not found");
      return await entry.transport.handleRequest(request);
    }
    if (request.method !== "POST") return refuse(400, "Missing Mcp-Session-Id header");
    const caller = identity.caller ?? callerOf(request);
    if (!await makeRoom(caller)) {
      return refuse(503, "Too many MCP sessions with a request in flight; try again later");
    }
    const transport = new HttpSessionTransport();
    const session = new ClientSession(gateway, transport, { caller: identity.caller });
    await session.start();
    const response = await transport.handleRequest(request);
    if (transport.sessionId === undefined || response.status >= 400) {
      await session.close();
      if (response.status < 400) return refuse(400, "Missing Mcp-Session-Id header");
      return response;
    }
    const id = transport.sessionId;
    sessions.set(id, { transport, session, caller, identity: identity.caller });
    if (identity.caller !== undefined) {
      gateway.logger.info("MCP session opened", { caller: identity.caller });
    }
    session.onClose(() => {
      if (sessions.get(id)?.session === session) sessions.delete(id);
    });
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
  // An abort signal, not a race with a pending promise: each race would add a reaction to that
  // promise for the gateway's whole life, keeping every answered `Response` reachable (about
  // 1.7 KiB a request).
  const closing = new AbortController();
  const shuttingDown = new Error("the gateway is shutting down");

  function handle(request: Request): Promise<Response> {
    return raceAbort(route(request), closing.signal).catch((error) => {
      if (error === shuttingDown) return refuse(503, "Gateway is shutting down");
      throw error;
    });
  }

  async function route(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (!isAllowedHost(url.hostname)) return refuse(403, "Forbidden host");
    if (!isAllowedOrigin(request.headers.get("origin"))) {
      return refuse(403, "Forbidden origin");
    }
    const identity = authenticate(request);
    if (!identity) return refuse(401, "Missing or wrong gateway token");
    if (url.pathname === "/mcp") return await handleMcp(request, identity);
    if (url.pathname === "/metrics" && request.method === "GET") {
      return new Response(gateway.renderMetrics(), {
        headers: { "content-type": METRICS_CONTENT_TYPE },
      });
    }
    if (url.pathname === "/health" && request.method === "GET") {
      const servers = gateway.health();
      const status = servers.every((s) => s.state === "ok") ? "ok" : "degraded";
      return Response.json({ status, servers });
    }
    const extra = options.routes?.[url.pathname];
    if (typeof extra === "function") {
      if (request.method === "GET") return await extra(request);
    } else if (extra) {
      const handler = Object.hasOwn(extra, request.method)
        ? extra[request.method as keyof MethodRoutes]
        : undefined;
      if (handler) return await handler(request);
      return new Response("Method not allowed\n", {
        status: 405,
        headers: { allow: Object.keys(extra).join(", ") },
      });
    }
    return new Response("Not found\n", { status: 404 });
  }

  async function close(): Promise<void> {
    closing.abort(shuttingDown);
    const all = [...sessions.values()];
    sessions.clear();
    await Promise.all(all.map((s) => s.session.close()));
  }

  return { handle, close, setCallers, [Symbol.asyncDispose]: close };
}
