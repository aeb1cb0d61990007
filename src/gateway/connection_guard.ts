/**
 * Serves HTTP like `Deno.serve`, behind our own accept loop that bounds what clients can hold:
 * a cap on concurrent connections, a deadline for each request head, an idle timeout for
 * keep-alive connections, and accept errors (`EMFILE`) that are logged and survived.
 *
 * `Deno.serve` alone dies when its accept loop fails and never times out a half-sent head, so
 * it listens here only on a Unix socket in a fresh 0700 temp dir. The guard accepts on the TCP
 * port, reads each request head itself, and only then connects to that socket and pipes the
 * bytes both ways; each head it forwards carries a tag naming its connection, so the handler
 * wrapper can say when that connection's response is done and it becomes idle.
 */
import type { Logger } from "../log.ts";
import { RequestFramer } from "./_request_framing.ts";

/** Default of {@link ConnectionGuardOptions.maxConnections}. */
export const DEFAULT_MAX_CONNECTIONS = 512;
/** Default of {@link ConnectionGuardOptions.headersTimeoutMs}. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/** Default of {@link ConnectionGuardOptions.idleTimeoutMs}. */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

/** The header the guard adds to every request head it forwards; clients may not send it. */
const TAG_HEADER = "x-toolscript-connection";
const READ_BYTES = 16 * 1024;
const REFUSED = bytes(
  "HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n",
);
const BAD_REQUEST = bytes(
  "HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n",
);

/**
 * A request handler, as `Deno.serve` takes one. Requests arrive over the inner Unix socket, so
 * `request.url` is `http+unix://<Host header><path>` (its `hostname`, `pathname` and
 * `searchParams` are those of the request), and the headers include `x-toolscript-connection`.
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
   * answered 503 and closed. A connection costs up to three file descriptors.
   */
  maxConnections?: number;
  /**
   * A connection must send a complete request head within this long (from its accept, or from
   * the first byte of a later head), else it is closed; default {@link DEFAULT_HEADERS_TIMEOUT_MS}.
   */
  headersTimeoutMs?: number;
  /**
   * A keep-alive connection with no request in progress, or a request body that stops arriving,
   * is closed after this long; default {@link DEFAULT_IDLE_TIMEOUT_MS}.
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
   * closes every connection and removes the socket directory. Idempotent.
   */
  shutdown(): Promise<void>;
}

interface GuardedConnection {
  readonly id: string;
  /** The header line added to each head: `x-toolscript-connection: <id>` and CRLF. */
  readonly tag: Uint8Array;
  readonly tcp: Deno.TcpConn;
  readonly framer: RequestFramer;
  unix?: Deno.UnixConn;
  /** When the current head started (set at accept for the first); undefined outside a head. */
  headStartedAt: number | undefined;
  /** Whether a complete head has been forwarded yet. */
  forwarded: boolean;
  /** Requests forwarded whose response has not finished. */
  pending: number;
  idleSince: number;
  lastActivityAt: number;
  /** The client closed its side (a response may still be on its way). */
  clientEnded: boolean;
  closed: boolean;
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
export async function serveWithConnectionGuard(
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
  const listener = Deno.listen({ hostname: options.hostname, port: options.port });
  let dir: string;
  try {
    dir = await Deno.makeTempDir({ prefix: "toolscript-gateway-" });
  } catch (error) {
    listener.close();
    throw error;
  }

  const connections = new Set<GuardedConnection>();
  const byTag = new Map<string, GuardedConnection>();
  let nextId = 0;
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
  const connectTrouble = new BurstLog(
    log,
    "gateway cannot reach its HTTP server; answering 503",
    "gateway reaches its HTTP server again",
  );

  // --- the inner Deno.serve on a Unix socket, restarted if its accept loop ever dies ---------
  let inner: Deno.HttpServer<Deno.UnixAddr> | undefined;
  let socketPath = "";
  let innerGeneration = 0;
  let restartTimer: ReturnType<typeof setTimeout> | undefined;

  function finish(c: GuardedConnection): void {
    if (c.pending > 0 && --c.pending === 0) c.idleSince = performance.now();
  }

  async function tracked(c: GuardedConnection, request: Request): Promise<Response> {
    let response: Response;
    try {
      response = await handler(request);
    } catch (error) {
      finish(c);
      throw error;
    }
    if (!isEventStream(response) || response.body === null) {
      finish(c);
      return response;
    }
    return withEnd(response, response.body, () => finish(c));
  }

  function innerHandler(request: Request): Response | Promise<Response> {
    const tag = request.headers.get(TAG_HEADER);
    const c = tag === null ? undefined : byTag.get(tag);
    return c ? tracked(c, request) : handler(request);
  }

  function startInner(attempt = 0): void {
    if (closing) return;
    const path = `${dir}/http-${innerGeneration++}.sock`;
    try {
      const server = Deno.serve({
        path,
        onListen: () => {},
        onError: options.onError ?? (() => new Response("Internal error\n", { status: 500 })),
      }, innerHandler);
      inner = server;
      socketPath = path;
      server.finished.then(
        () => {
          if (!closing) restartInner(new Error("the HTTP server stopped"), 0);
        },
        (error) => {
          if (!closing) restartInner(error, 0);
        },
      );
    } catch (error) {
      if (attempt === 0) throw error;
      restartInner(error, attempt);
    }
  }

  function restartInner(error: unknown, attempt: number): void {
    log.error("gateway HTTP server failed; restarting it", { error: String(error) });
    inner = undefined;
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      startInner(attempt + 1);
    }, backoffMs(attempt));
  }

  try {
    startInner();
  } catch (error) {
    listener.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw error;
  }

  // --- connections ------------------------------------------------------------------------
  function close(c: GuardedConnection): void {
    if (c.closed) return;
    c.closed = true;
    connections.delete(c);
    byTag.delete(c.id);
    c.pending = 0;
    try {
      c.tcp.close();
    } catch { /* already closed */ }
    try {
      c.unix?.close();
    } catch { /* already closed */ }
    // A burst at the cap ends once a quarter of the connections are free again.
    if (connections.size <= maxConnections * 0.75) capTrouble.recovered();
  }

  function answerAndClose(c: GuardedConnection, response: Uint8Array): void {
    c.tcp.write(response).catch(() => {}).finally(() => close(c));
  }

  /** Over the cap: the oldest connection without a complete head, else the longest idle. */
  function victim(): GuardedConnection | undefined {
    let idlest: GuardedConnection | undefined;
    for (const c of connections) {
      if (!c.forwarded) return c;
      if (c.pending === 0 && !c.framer.inHead && !c.framer.inBody) {
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
      if (old) close(old);
      else {
        tcp.write(REFUSED).catch(() => {}).finally(() => {
          try {
            tcp.close();
          } catch { /* closed already */ }
        });
        return;
      }
    }
    const id = String(nextId++);
    const now = performance.now();
    const c: GuardedConnection = {
      id,
      tag: bytes(`${TAG_HEADER}: ${id}\r\n`),
      tcp,
      framer: new RequestFramer({ reservedHeaders: [TAG_HEADER] }),
      headStartedAt: now,
      forwarded: false,
      pending: 0,
      idleSince: now,
      lastActivityAt: now,
      clientEnded: false,
      closed: false,
    };
    connections.add(c);
    byTag.set(id, c);
    pumpRequests(c).catch(() => close(c));
  }

  async function connectInner(c: GuardedConnection): Promise<boolean> {
    try {
      if (!inner) throw new Error("the HTTP server is restarting");
      c.unix = await Deno.connect({ transport: "unix", path: socketPath });
      connectTrouble.recovered();
    } catch (error) {
      connectTrouble.hit({ error: String(error) });
      return false;
    }
    if (c.closed) {
      c.unix.close();
      return false;
    }
    pumpResponses(c, c.unix).catch(() => {}).finally(() => close(c));
    return true;
  }

  /** Client → server: frames requests, tags heads, forwards. */
  async function pumpRequests(c: GuardedConnection): Promise<void> {
    const buffer = new Uint8Array(READ_BYTES);
    let out: Uint8Array<ArrayBuffer> = new Uint8Array(0);
    for (;;) {
      const n = await c.tcp.read(buffer).catch(() => null);
      if (n === null || c.closed) break;
      const now = performance.now();
      c.lastActivityAt = now;
      let outLength = 0;
      let offset = 0;
      // A view of just what was read, so the framer's native searches stop at its end.
      const data = buffer.subarray(0, n);
      while (offset < n) {
        const end = c.framer.consume(data, offset, n);
        switch (c.framer.framing) {
          case "partial":
            c.headStartedAt ??= now;
            break;
          case "error":
            log.debug("gateway closed a connection that broke HTTP framing", {
              reason: c.framer.error,
            });
            answerAndClose(c, BAD_REQUEST);
            return;
          case "head": {
            c.headStartedAt = undefined;
            if (!c.unix && !(await connectInner(c))) {
              answerAndClose(c, REFUSED);
              return;
            }
            const head = c.framer.head;
            const terminator = head.length >= 2 && head[head.length - 2] === 13 ? 2 : 1;
            const needed = outLength + head.length + c.tag.length + (n - end);
            if (out.length < needed) out = grow(out, outLength, needed);
            out.set(head.subarray(0, head.length - terminator), outLength);
            outLength += head.length - terminator;
            out.set(c.tag, outLength);
            outLength += c.tag.length;
            out.set(head.subarray(head.length - terminator), outLength);
            outLength += terminator;
            c.pending++;
            c.forwarded = true;
            break;
          }
          case "body":
            if (outLength === 0) await writeAll(c.unix!, data.subarray(offset, end));
            else {
              out.set(data.subarray(offset, end), outLength);
              outLength += end - offset;
            }
            break;
        }
        offset = end;
      }
      if (outLength > 0) await writeAll(c.unix!, out.subarray(0, outLength));
    }
    // The client closed its side: let a response in progress finish, else close now.
    if (c.unix && c.pending > 0 && !c.closed) {
      c.clientEnded = true;
      await c.unix.closeWrite().catch(() => close(c));
    } else close(c);
  }

  /** Server → client: bytes as they come. */
  async function pumpResponses(c: GuardedConnection, unix: Deno.UnixConn): Promise<void> {
    const buffer = new Uint8Array(READ_BYTES);
    for (;;) {
      const n = await unix.read(buffer);
      if (n === null || c.closed) return;
      c.lastActivityAt = performance.now();
      await writeAll(c.tcp, buffer.subarray(0, n));
    }
  }

  // --- deadlines: one sweep over all connections, no timer per connection -------------------
  function sweep(): void {
    const now = performance.now();
    for (const c of connections) {
      let expired: boolean;
      if (c.framer.inBody || c.clientEnded) expired = now - c.lastActivityAt > idleTimeoutMs;
      else if (c.headStartedAt !== undefined) expired = now - c.headStartedAt > headersTimeoutMs;
      else expired = c.pending === 0 && now - c.idleSince > idleTimeoutMs;
      if (expired) {
        log.debug("gateway closed a slow or idle connection", {
          state: c.headStartedAt !== undefined ? "head" : c.framer.inBody ? "body" : "idle",
        });
        close(c);
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
      clearTimeout(restartTimer);
      for (const c of connections) if (!c.forwarded) close(c);
      await inner?.shutdown().catch(() => {});
      for (const c of [...connections]) close(c);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      finished.resolve();
    })();
  }

  return {
    addr: listener.addr,
    finished: finished.promise,
    get connectionCount() {
      return connections.size;
    },
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
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

function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
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

function grow(buffer: Uint8Array, used: number, needed: number): Uint8Array<ArrayBuffer> {
  const grown = new Uint8Array(Math.max(needed, buffer.length * 2, READ_BYTES));
  grown.set(buffer.subarray(0, used));
  return grown;
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.length) offset += await conn.write(data.subarray(offset));
}

function isEventStream(response: Response): boolean {
  return response.headers.get("content-type")?.startsWith("text/event-stream") ?? false;
}

/** The response with a body that calls `onEnd` once when it ends, fails or is cancelled. */
function withEnd(
  response: Response,
  body: ReadableStream<Uint8Array>,
  onEnd: () => void,
): Response {
  const reader = body.getReader();
  let ended = false;
  const end = () => {
    if (!ended) {
      ended = true;
      onEnd();
    }
  };
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          end();
          controller.close();
        } else controller.enqueue(value);
      } catch (error) {
        end();
        controller.error(error);
      }
    },
    cancel(reason) {
      end();
      return reader.cancel(reason);
    },
  });
  return new Response(stream, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}
