/**
 * A `fetch` for plain-`http:` MCP upstreams over our own pooled keep-alive HTTP/1.1
 * connections. Deno's `fetch` costs the gateway about 60 µs of CPU per request beyond the
 * bytes it moves (a `Request`, header objects, a body stream and the hyper client, measured
 * against a raw socket round trip to the same server: 90 against 26 µs); it was a fifth of the
 * gateway's CPU per tool call under load.
 *
 * {@link Http1Pool.fetch} takes what it can do exactly as `fetch` would: an `http:` URL without
 * credentials, no proxy configured, a string or byte body (or none), GET, POST or DELETE. Every
 * other request, and a redirect to follow, goes to the fallback `fetch` unchanged. A response
 * body is `Content-Length`, chunked or ended by the close; a connection is reused once its
 * response was read to the end and the server did not ask to close it. An idle connection stays
 * read, so a server's close is seen at once and the connection dropped; a connection that fails
 * before a single response byte arrived is never retried (a POST may have run).
 */
import {
  type ByteWindow,
  findHeadEnd,
  parseResponseHead,
  ResponseBodyReader,
} from "./_http1_response_reader.ts";
import { writeAll } from "../write_all.ts";

/** Options of {@link Http1Pool}. */
export interface Http1PoolOptions {
  /** Takes every request the pool does not (https, proxies, streamed bodies, redirects). */
  fallback: typeof fetch;
  /** Reads environment variables (the proxy settings); default `Deno.env.get`. */
  env?: (name: string) => string | undefined;
  /** Idle connections kept per origin; default 32. */
  maxIdlePerOrigin?: number;
  /** Largest response head accepted, in bytes; default 64 KiB. */
  maxHeadBytes?: number;
}

/** The proxy variables `fetch` honours: when one is set, every request takes the fallback. */
const PROXY_VARIABLES = ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"];
const METHODS = new Set(["GET", "POST", "DELETE"]);
/** Headers the pool writes itself, or that would break the framing it relies on. */
const OWN_HEADERS = new Set([
  "host",
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "upgrade",
  "te",
  "trailer",
  "expect",
]);
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const encoder = new TextEncoder();
const USER_AGENT = `Deno/${Deno.version.deno}`;
const READ_BYTES = 16 * 1024;

/** One pooled TCP connection and the bytes read from it but not consumed yet. */
class PooledConnection implements ByteWindow {
  readonly tcp: Deno.TcpConn;
  readonly origin: string;
  buffer = new Uint8Array(READ_BYTES);
  start = 0;
  end = 0;
  /** The read started while the connection sat idle; the next response begins with it. */
  idleRead?: Promise<number | null>;
  busy = true;
  closed = false;

  constructor(tcp: Deno.TcpConn, origin: string) {
    this.tcp = tcp;
    this.origin = origin;
  }

  /** Reads more bytes after the unread ones; resolves false at the end of the stream. */
  async fill(): Promise<boolean> {
    if (this.start === this.end) {
      this.start = this.end = 0;
    } else if (this.end === this.buffer.length) {
      // Full: move the unread bytes to the front, into a buffer twice as large when they fill
      // more than half of it (only a head or a chunk line grows it; both are capped).
      const unread = this.end - this.start;
      if (unread * 2 > this.buffer.length) {
        const grown = new Uint8Array(this.buffer.length * 2);
        grown.set(this.buffer.subarray(this.start, this.end));
        this.buffer = grown;
      } else {
        this.buffer.copyWithin(0, this.start, this.end);
      }
      this.start = 0;
      this.end = unread;
    }
    const pending = this.idleRead;
    this.idleRead = undefined;
    const n = await (pending ?? this.tcp.read(this.buffer.subarray(this.end)));
    if (n === null) return false;
    this.end += n;
    return true;
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.tcp.close();
    } catch { /* already closed */ }
  }
}

/** Pooled keep-alive HTTP/1.1 for plain-`http:` upstreams; see the module comment. */
export class Http1Pool implements Disposable {
  /** A `fetch`: the pool's own for the requests it takes, the fallback's for the others. */
  readonly fetch: typeof fetch = (input, init) => this.#fetch(input, init);
  readonly #fallback: typeof fetch;
  readonly #proxied: boolean;
  readonly #maxIdle: number;
  readonly #maxHeadBytes: number;
  readonly #idle = new Map<string, PooledConnection[]>();
  readonly #open = new Set<PooledConnection>();
  /**
   * A body nobody reads to the end nor cancels (the SDK leaves a 202's empty chunked body
   * unread) would hold its connection forever; once the body is collected, the connection
   * is closed, as `fetch` does when a response is dropped.
   */
  readonly #abandoned = new FinalizationRegistry<PooledConnection>((connection) => {
    this.#discard(connection);
  });
  #closed = false;

  constructor(options: Http1PoolOptions) {
    this.#fallback = options.fallback;
    const env = options.env ?? ((name: string) => Deno.env.get(name));
    this.#proxied = PROXY_VARIABLES.some((name) => !!env(name));
    this.#maxIdle = options.maxIdlePerOrigin ?? 32;
    this.#maxHeadBytes = options.maxHeadBytes ?? 64 * 1024;
  }

  /** Connections open now, idle or busy (for tests and metrics). */
  get openConnections(): number {
    return this.#open.size;
  }

  /** Closes every connection; requests under way fail, later ones take the fallback. */
  close(): void {
    this.#closed = true;
    for (const connection of this.#open) connection.destroy();
    this.#open.clear();
    this.#idle.clear();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async #fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const request = this.#plan(input, init);
    if (!request) return await this.#fallback(input, init);
    const signal = init?.signal ?? undefined;
    signal?.throwIfAborted();
    const connection = await this.#acquire(request.url).catch((error) => {
      throw networkError(request.url.host, error);
    });
    const onAbort = () => connection.destroy();
    signal?.addEventListener("abort", onAbort, { once: true });
    let streaming = false;
    try {
      signal?.throwIfAborted();
      await writeAll(connection.tcp, request.bytes);
      const response = await this.#readResponse(connection, request.method, signal, () => {
        signal?.removeEventListener("abort", onAbort);
      });
      streaming = response.streaming;
      if (isRedirect(response.response.status) && (init?.redirect ?? "follow") === "follow") {
        await response.response.body?.cancel();
        return await this.#fallback(input, init);
      }
      return response.response;
    } catch (error) {
      this.#discard(connection);
      if (signal?.aborted) throw signal.reason;
      throw networkError(connection.origin, error);
    } finally {
      if (!streaming) signal?.removeEventListener("abort", onAbort);
    }
  }

  /** The request as bytes on the wire, or undefined when the fallback must take it. */
  #plan(
    input: RequestInfo | URL,
    init: RequestInit | undefined,
  ): { url: URL; method: string; bytes: Uint8Array } | undefined {
    if (this.#closed || this.#proxied) return undefined;
    if (typeof input !== "string" && !(input instanceof URL)) return undefined;
    const method = (init?.method ?? "GET").toUpperCase();
    if (!METHODS.has(method)) return undefined;
    const body = init?.body;
    if (body !== undefined && body !== null && typeof body !== "string") {
      if (!(body instanceof Uint8Array)) return undefined;
    }
    const url = typeof input === "string" ? new URL(input) : input;
    if (url.protocol !== "http:" || url.username || url.password) return undefined;
    let head = `${method} ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
    let accept = false;
    let agent = false;
    let asciiOnly = true;
    const add = (name: string, value: string) => {
      const lower = name.toLowerCase();
      const kind = valueKind(value);
      if (!FIELD_NAME.test(name) || kind === "invalid") {
        throw new TypeError(`Invalid header: ${JSON.stringify(name)}`);
      }
      if (OWN_HEADERS.has(lower)) return;
      if (lower === "accept") accept = true;
      else if (lower === "user-agent") agent = true;
      if (kind === "latin1") asciiOnly = false;
      head += `${name}: ${value.trim()}\r\n`;
    };
    const headers = init?.headers;
    if (headers instanceof Headers) headers.forEach((value, name) => add(name, value));
    else if (Array.isArray(headers)) { for (const [name, value] of headers) add(name, value); }
    else if (headers) {
      for (const [name, value] of Object.entries(headers as Record<string, string>)) {
        add(name, value);
      }
    }
    if (!asciiOnly) return undefined; // latin1 header values: fetch's own encoding
    if (!accept) head += "accept: */*\r\n";
    if (!agent) head += `user-agent: ${USER_AGENT}\r\n`;
    const payload = typeof body === "string" ? encoder.encode(body) : body ?? undefined;
    if (payload || method === "POST") head += `content-length: ${payload?.length ?? 0}\r\n`;
    head += "\r\n";
    const bytes = new Uint8Array(head.length + (payload?.length ?? 0));
    encoder.encodeInto(head, bytes);
    if (payload) bytes.set(payload, head.length);
    return { url, method, bytes };
  }

  async #acquire(url: URL): Promise<PooledConnection> {
    const origin = url.host;
    const idle = this.#idle.get(origin);
    while (idle && idle.length > 0) {
      const connection = idle.pop()!;
      if (connection.closed) continue;
      connection.busy = true;
      connection.tcp.ref();
      return connection;
    }
    const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
    const tcp = await Deno.connect({ hostname, port: Number(url.port || 80) });
    tcp.setNoDelay(true);
    const connection = new PooledConnection(tcp, origin);
    this.#open.add(connection);
    return connection;
  }

  /** Puts a connection whose response was read to the end back in the pool (or closes it). */
  #release(connection: PooledConnection, reusable: boolean): void {
    const idle = this.#idle.get(connection.origin) ?? [];
    if (
      !reusable || connection.closed || this.#closed || connection.start !== connection.end ||
      idle.length >= this.#maxIdle
    ) {
      return this.#discard(connection);
    }
    connection.busy = false;
    connection.start = connection.end = 0;
    // Stay reading: a server's close (or stray bytes) while idle drops the connection at once.
    // That read does not keep the process alive.
    const read = connection.tcp.read(connection.buffer);
    connection.tcp.unref();
    connection.idleRead = read;
    const drop = () => {
      if (!connection.busy) this.#discard(connection);
    };
    read.then(drop, drop);
    idle.push(connection);
    this.#idle.set(connection.origin, idle);
  }

  /** Closes a connection and lets go of it. */
  #discard(connection: PooledConnection): void {
    connection.destroy();
    this.#open.delete(connection);
    const idle = this.#idle.get(connection.origin);
    const at = idle?.indexOf(connection) ?? -1;
    if (at >= 0) idle!.splice(at, 1);
  }

  async #readResponse(
    connection: PooledConnection,
    method: string,
    signal: AbortSignal | undefined,
    onDone: () => void,
  ): Promise<{ response: Response; streaming: boolean }> {
    for (;;) {
      let headEnd: number;
      while ((headEnd = findHeadEnd(connection.buffer, connection.start, connection.end)) < 0) {
        if (connection.end - connection.start > this.#maxHeadBytes) {
          throw new TypeError(`HTTP response head from "${connection.origin}" is too large`);
        }
        if (!await connection.fill()) {
          throw new TypeError(
            `Connection to "${connection.origin}" closed before a complete response head`,
          );
        }
      }
      const head = parseResponseHead(connection.buffer.subarray(connection.start, headEnd));
      connection.start = headEnd;
      // Interim answers (100 Continue, 103 Early Hints) come before the real one.
      if (head.status < 200 && head.status !== 101) continue;
      const noBody = method === "HEAD" || head.status === 204 || head.status === 304;
      const reader = new ResponseBodyReader(connection, noBody ? "none" : head.framing);
      const init = { status: head.status, statusText: head.statusText, headers: head.headers };
      const reusable = head.keepAlive && reader.framing !== "close";
      // A body already read whole (a small JSON answer) goes out as bytes: no stream to build.
      const whole = reader.takeWhole();
      if (whole) {
        this.#release(connection, reusable);
        onDone();
        return { response: new WholeBodyResponse(whole, init), streaming: false };
      }
      /** The body ended (read to the end, or not): the connection goes back or is closed. */
      const finish = (reuse: boolean) => {
        this.#abandoned.unregister(connection);
        if (reuse) this.#release(connection, reusable);
        else this.#discard(connection);
        onDone();
      };
      const body: ReadableStream<Uint8Array> = new ReadableStream({
        type: "bytes",
        pull: async (controller: ReadableByteStreamController) => {
          try {
            const chunk = await reader.next();
            if (chunk) return controller.enqueue(chunk);
            controller.close();
            // A BYOB read waiting on this pull is only released by a zero-byte respond.
            controller.byobRequest?.respond(0);
            finish(true);
          } catch (error) {
            finish(false);
            controller.error(signal?.aborted ? signal.reason : error);
          }
        },
        cancel: () => finish(false),
      });
      this.#abandoned.register(body, connection, connection);
      return { response: new Response(body, init), streaming: true };
    }
  }
}

/** A response of the pool whose body was read whole before it was returned. */
class WholeBodyResponse extends Response {
  constructor(body: Uint8Array<ArrayBuffer>, init: ResponseInit) {
    super(body.length > 0 ? body : null, init);
  }
}

/**
 * Whether `response` came from an {@link Http1Pool} with its body already read whole: then
 * `bytes()` or `text()` costs no stream, where reading `response.body` would build one.
 */
export function hasWholeBody(response: Response): boolean {
  return response instanceof WholeBodyResponse;
}

/** `fetch` refuses CR, LF and NUL and characters beyond one byte; the pool sends only ASCII. */
function valueKind(value: string): "ascii" | "latin1" | "invalid" {
  let kind: "ascii" | "latin1" = "ascii";
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === 13 || code === 10 || code === 0 || code > 255) return "invalid";
    if (code > 127) kind = "latin1";
  }
  return kind;
}

/** A network failure as `fetch` reports one: a `TypeError`, here naming the origin. */
function networkError(origin: string, error: unknown): TypeError {
  if (error instanceof TypeError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new TypeError(`HTTP request to "${origin}" failed: ${message}`, { cause: error });
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}
