/**
 * Serves HTTP/1.x like `Deno.serve`, in process, behind our own accept loop that bounds what
 * clients can hold: a cap on concurrent connections, a deadline for each request head, an idle
 * timeout for keep-alive connections, and accept errors (`EMFILE`) that are logged and survived.
 *
 * `Deno.serve` alone dies when its accept loop fails and never times out a half-sent head, and
 * Deno 2.9 offers no way to hand it a listener or connection we own; so the guard accepts on the
 * TCP port itself and serves each connection with {@link Http1Connection} (framing, `Request`,
 * `Response`), one file descriptor per connection and no second hop.
 */
import type { Logger } from "../log.ts";
import { Http1Connection, type Http1ServerContext } from "./_http1_connection.ts";
import { plainResponse } from "./_http1_response.ts";

/** Default of {@link ConnectionGuardOptions.maxConnections}. */
export const DEFAULT_MAX_CONNECTIONS = 512;
/** Default of {@link ConnectionGuardOptions.headersTimeoutMs}. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/** Default of {@link ConnectionGuardOptions.idleTimeoutMs}. */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

const REFUSED = plainResponse(503);

/**
 * A request handler, as `Deno.serve` takes one. `request.url` is `http://<Host header><path>`
 * (or the absolute-form target), and `request.signal` aborts when the client goes away.
 */
export type GuardedHandler = (request: Request) => Response | Promise<Response>;

/** Options of {@link serveWithConnectionGuard}. */
export interface ConnectionGuardOptions {
  /** Interface to bind, e.g. `127.0.0.1`. */
  hostname: string;
  /** TCP port; 0 picks a free one. */
  port: number;
  /**
   * Most connections held at once; default {@link DEFAULT_MAX_CONNECTIONS}. At the cap a new
   * connection first closes the oldest one that has not sent a complete request head yet, else
   * the one idle longest between requests; when every connection is busy, the new one is
   * answered 503 and closed. A connection costs one file descriptor.
   */
  maxConnections?: number;
  /**
   * A connection must send a complete request head within this long (from its accept, or from
   * the first byte of a later head), else it is closed; default {@link DEFAULT_HEADERS_TIMEOUT_MS}.
   */
  headersTimeoutMs?: number;
  /**
   * A keep-alive connection with no request in progress, a request body that stops arriving,
   * or a client that stops reading its response (a write making no progress) is closed after
   * this long; default {@link DEFAULT_IDLE_TIMEOUT_MS}.
   */
  idleTimeoutMs?: number;
  /** Where accept errors, refusals and handler errors go. */
  logger: Logger;
  /** Answers a request whose handler threw. */
  onError?: (error: unknown) => Response | Promise<Response>;
}

/** A server started by {@link serveWithConnectionGuard}. */
export interface GuardedServer extends AsyncDisposable {
  /** The TCP address listened on. */
  readonly addr: Deno.NetAddr;
  /** Resolves once {@link shutdown} has finished. Accept errors never settle it. */
  readonly finished: Promise<void>;
  /** Connections held right now. */
  readonly connectionCount: number;
  /**
   * Stops accepting, lets requests in progress finish (as `Deno.serve`'s `shutdown` does), then
   * closes every connection. Idempotent.
   */
  shutdown(): Promise<void>;
}

/**
 * Starts `handler` behind a connection guard (see the module doc) and resolves once it
 * listens. Only HTTP/1.x is spoken on the TCP port.
 *
 * @throws {Deno.errors.AddrInUse} (rejects) when the port is taken.
 * @example Serve on any free loopback port
 * ```ts
 * import { serveWithConnectionGuard } from "./connection_guard.ts";
 * import { silentLogger } from "../log.ts";
 * await using server = await serveWithConnectionGuard(
 *   { hostname: "127.0.0.1", port: 0, logger: silentLogger(), headersTimeoutMs: 5_000 },
 *   () => new Response("ok"),
 * );
 * server.addr.port; // the chosen port
 * ```
 */
export function serveWithConnectionGuard(
  options: ConnectionGuardOptions,
  handler: GuardedHandler,
): Promise<GuardedServer> {
  const maxConnections = positive(
    options.maxConnections,
    DEFAULT_MAX_CONNECTIONS,
    "maxConnections",
  );
  const headersTimeoutMs = positive(
    options.headersTimeoutMs,
    DEFAULT_HEADERS_TIMEOUT_MS,
    "headersTimeoutMs",
  );
  const idleTimeoutMs = positive(options.idleTimeoutMs, DEFAULT_IDLE_TIMEOUT_MS, "idleTimeoutMs");
  const log = options.logger;
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({ hostname: options.hostname, port: options.port });
  } catch (error) {
    return Promise.reject(error);
  }

  const connections = new Set<Http1Connection>();
  let closing = false;
  const acceptTrouble = new BurstLog(
    log,
    "gateway cannot accept connections; retrying",
    "gateway accepts connections again",
  );
  const capTrouble = new BurstLog(
    log,
    `gateway is at its connection limit (${maxConnections})`,
    "gateway is below its connection limit again",
  );
  const { hostname, port } = listener.addr;
  const context: Http1ServerContext = {
    handler,
    onError: options.onError ?? (() => new Response("Internal error\n", { status: 500 })),
    fallbackHost: `${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`,
    logger: log,
    closing: () => closing,
  };

  function closed(c: Http1Connection): void {
    connections.delete(c);
    // A burst at the cap ends once a quarter of the connections are free again.
    if (connections.size <= maxConnections * 0.75) capTrouble.recovered();
  }

  /** Over the cap: the oldest connection without a complete head, else the longest idle. */
  function victim(): Http1Connection | undefined {
    let idlest: Http1Connection | undefined;
    for (const c of connections) {
      if (!c.served) return c;
      if (!c.responding && !c.framer.inHead && !c.framer.inBody) {
        if (!idlest || c.idleSince < idlest.idleSince) idlest = c;
      }
    }
    return idlest;
  }

  function admit(tcp: Deno.TcpConn): void {
    try {
      tcp.setNoDelay(true);
    } catch { /* closed already */ }
    if (connections.size >= maxConnections) {
      const old = victim();
      capTrouble.hit({
        connections: connections.size,
        action: old ? "closing the oldest idle or unfinished connection" : "refusing",
      });
      if (old) old.close();
      else {
        tcp.write(REFUSED).catch(() => {}).finally(() => {
          try {
            tcp.close();
          } catch { /* closed already */ }
        });
        return;
      }
    }
    const c = new Http1Connection(tcp, context, closed);
    connections.add(c);
    c.run();
  }

  // --- deadlines: one sweep over all connections, no timer per connection -------------------
  function sweep(): void {
    const now = performance.now();
    for (const c of connections) {
      let expired: boolean;
      if (c.framer.inBody || c.clientEnded) expired = now - c.lastActivityAt > idleTimeoutMs;
      else if (c.headStartedAt !== undefined) expired = now - c.headStartedAt > headersTimeoutMs;
      else expired = !c.responding && now - c.idleSince > idleTimeoutMs;
      const stalled = c.writeStalledSince !== undefined &&
        now - c.writeStalledSince > idleTimeoutMs;
      if (expired || stalled) {
        log.debug("gateway closed a slow or idle connection", {
          state: stalled
            ? "not reading"
            : c.headStartedAt !== undefined
            ? "head"
            : c.framer.inBody
            ? "body"
            : "idle",
        });
        c.close();
      }
    }
  }
  const sweepMs = Math.min(1000, Math.max(25, Math.min(headersTimeoutMs, idleTimeoutMs) / 4));
  const sweeper = setInterval(sweep, sweepMs);
  Deno.unrefTimer(sweeper);

  // --- accept loop ---------------------------------------------------------------------------
  let wake: (() => void) | undefined;
  async function acceptLoop(): Promise<void> {
    let failures = 0;
    while (!closing) {
      let tcp: Deno.TcpConn;
      try {
        tcp = await listener.accept();
      } catch (error) {
        if (closing || error instanceof Deno.errors.BadResource) return;
        acceptTrouble.hit({ error: String(error) });
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, backoffMs(failures++));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
        continue;
      }
      failures = 0;
      acceptTrouble.recovered();
      if (closing) {
        tcp.close();
        return;
      }
      admit(tcp);
    }
  }
  const accepting = acceptLoop();

  const finished = Promise.withResolvers<void>();
  let shuttingDown: Promise<void> | undefined;
  function shutdown(): Promise<void> {
    return shuttingDown ??= (async () => {
      closing = true;
      try {
        listener.close();
      } catch { /* closed already */ }
      wake?.();
      await accepting;
      clearInterval(sweeper);
      // Requests in progress finish (their connections then close); idle ones close now.
      for (const c of [...connections]) if (!c.responding) c.close();
      await Promise.all([...connections].map((c) => c.current));
      for (const c of [...connections]) c.close();
      finished.resolve();
    })();
  }

  return Promise.resolve({
    addr: listener.addr,
    finished: finished.promise,
    get connectionCount() {
      return connections.size;
    },
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  });
}

/** Logs the first of a burst of like events, and how many there were once it is over. */
class BurstLog {
  #count = 0;
  constructor(
    readonly logger: Logger,
    readonly message: string,
    readonly overMessage: string,
  ) {}
  hit(fields: Record<string, unknown>): void {
    if (this.#count++ === 0) this.logger.warn(this.message, fields);
  }
  recovered(): void {
    if (this.#count === 0) return;
    this.logger.info(this.overMessage, { events: this.#count });
    this.#count = 0;
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) {
    throw new RangeError(`Expected ${name} to be a positive integer, got ${value}`);
  }
  return value;
}

function backoffMs(attempt: number): number {
  return Math.min(1000, 10 * 2 ** Math.min(attempt, 7));
}
