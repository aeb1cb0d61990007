/**
 * A minimal Redis client over `Deno.connect`: RESP2 requests and replies, pipelined in order,
 * `AUTH` and `SELECT` from the URL, and a subscriber mode for pub/sub. The Redis store needs
 * a dozen commands, not a driver: this keeps Node's `net` emulation and a dependency tree out
 * of the gateway.
 */
import { displayUrl } from "../../config/display_url.ts";
import { AuthError } from "../../errors.ts";
import { writeAll } from "../../write_all.ts";

/** A reply: simple or bulk string, integer, null, or an array of replies. */
export type RespValue = string | number | null | RespValue[];

/** Where a Redis store lives, parsed from `redis://` or `rediss://` (TLS) URLs. */
export interface RedisAddress {
  hostname: string;
  port: number;
  tls: boolean;
  username?: string;
  password?: string;
  db: number;
  /** The URL without its password, for messages and logs. */
  display: string;
}

/** The store could not be reached or stopped answering; a retry may work. */
export class StoreUnavailableError extends AuthError {
  /** The store's URL, without its password. */
  readonly store: string;
  /** Names the store URL (never its password) and the cause's message. */
  constructor(store: string, reason: string, options?: ErrorOptions & { server?: string }) {
    super(`Credential store ${store} is unreachable: ${reason}; try again once it is reachable`, {
      ...options,
      temporary: true,
    });
    this.name = "StoreUnavailableError";
    this.store = store;
  }
}

/** Redis answered a command with an error reply (`-ERR …`). */
export class RedisReplyError extends Error {
  /** The reply's text, e.g. `NOAUTH Authentication required.` */
  constructor(message: string) {
    super(message);
    this.name = "RedisReplyError";
  }
}

/**
 * Parses a Redis URL: `redis://[user][:password@]host[:port][/db]`, or `rediss://` for TLS.
 * @throws {TypeError} naming the URL without its password when it is not one.
 */
export function parseRedisUrl(url: string): RedisAddress {
  const display = displayUrl(url, "<invalid URL>");
  if (!URL.canParse(url)) throw new TypeError(`not a URL: ${display}`);
  const parsed = new URL(url);
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new TypeError(`must be a redis:// or rediss:// URL, got ${display}`);
  }
  const path = parsed.pathname.replace(/^\//, "");
  if (path !== "" && !/^\d+$/.test(path)) {
    throw new TypeError(`the path of ${display} must be a database number`);
  }
  return {
    hostname: parsed.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1",
    port: parsed.port ? Number(parsed.port) : 6379,
    tls: parsed.protocol === "rediss:",
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: path === "" ? 0 : Number(path),
    display,
  };
}

interface Pending {
  resolve: (value: RespValue) => void;
  reject: (error: Error) => void;
}

/**
 * One connection to Redis. Replies are matched to requests in order. After `SUBSCRIBE`
 * (see {@link RedisConnection.subscribe}) every pushed message goes to the handler instead.
 * Any socket error or close fails every pending request and the connection for good; its
 * owner opens a new one.
 */
export class RedisConnection {
  readonly #conn: Deno.Conn;
  readonly #address: RedisAddress;
  readonly #pending: Pending[] = [];
  #closed: Error | undefined;
  #onMessage: ((channel: string, message: string) => void) | undefined;
  #buffer: Uint8Array = new Uint8Array(0);
  #writing: Promise<void> = Promise.resolve();
  /** Resolves when the socket closes, for whatever reason. */
  readonly closed: Promise<void>;

  private constructor(conn: Deno.Conn, address: RedisAddress) {
    this.#conn = conn;
    this.#address = address;
    // An idle connection does not keep the process alive; a command's reply timer does.
    conn.unref();
    this.closed = this.#readLoop();
  }

  /**
   * Connects, authenticates and selects the database of `address`, within `timeoutMs`.
   * @throws {StoreUnavailableError} when any of it fails (the password is never in the message).
   */
  static async open(address: RedisAddress, timeoutMs = 5_000): Promise<RedisConnection> {
    let conn: Deno.Conn | undefined;
    const timeout = AbortSignal.timeout(timeoutMs);
    try {
      const options = { hostname: address.hostname, port: address.port, signal: timeout };
      conn = address.tls ? await Deno.connectTls(options) : await Deno.connect(options);
      const connection = new RedisConnection(conn, address);
      if (address.password !== undefined) {
        await connection.command(
          address.username
            ? ["AUTH", address.username, address.password]
            : ["AUTH", address.password],
          timeoutMs,
        );
      }
      if (address.db !== 0) await connection.command(["SELECT", String(address.db)], timeoutMs);
      return connection;
    } catch (error) {
      try {
        conn?.close();
      } catch { /* already closed */ }
      if (error instanceof StoreUnavailableError) throw error;
      throw new StoreUnavailableError(address.display, reasonOf(error), { cause: error });
    }
  }

  /** True until the socket failed or was closed. */
  get open(): boolean {
    return this.#closed === undefined;
  }

  /**
   * Sends one command and resolves with its reply.
   * @throws {RedisReplyError} for an error reply; {@link StoreUnavailableError} when the
   *   connection fails or no reply comes within `timeoutMs` (the connection is then closed).
   */
  command(args: string[], timeoutMs = 5_000): Promise<RespValue> {
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise<RespValue>((resolve, reject) => {
      const timer = setTimeout(
        () => this.#fail(new Error(`no reply within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#pending.push({
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      // Writes are chained: a short write is finished before the next command's bytes go out.
      const bytes = encodeCommand(args);
      this.#writing = this.#writing
        .then(() => writeAll(this.#conn, bytes))
        .catch((error) => this.#fail(error));
    });
  }

  /**
   * Turns this connection into a subscriber of `channel`; `onMessage` gets every message.
   * Resolves once Redis confirmed the subscription.
   */
  async subscribe(
    channel: string,
    onMessage: (channel: string, message: string) => void,
  ): Promise<void> {
    await this.command(["SUBSCRIBE", channel]);
    this.#onMessage = onMessage;
  }

  /** Closes the socket; pending requests fail. Idempotent. */
  close(): void {
    this.#fail(new Error("connection closed"));
  }

  #fail(error: unknown): void {
    if (this.#closed) return;
    this.#closed = error instanceof StoreUnavailableError
      ? error
      : new StoreUnavailableError(this.#address.display, reasonOf(error), { cause: error });
    try {
      this.#conn.close();
    } catch { /* already closed */ }
    for (const pending of this.#pending.splice(0)) pending.reject(this.#closed);
  }

  async #readLoop(): Promise<void> {
    const chunk = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await this.#conn.read(chunk);
        if (n === null) throw new Error("the server closed the connection");
        this.#buffer = concat(this.#buffer, chunk.subarray(0, n));
        while (true) {
          const parsed = parseReply(this.#buffer, 0);
          if (!parsed) break;
          this.#buffer = this.#buffer.subarray(parsed.end);
          this.#deliver(parsed.value);
        }
      }
    } catch (error) {
      this.#fail(error);
    }
  }

  #deliver(value: RespValue | RedisReplyError): void {
    if (
      this.#onMessage && Array.isArray(value) && value[0] === "message" &&
      typeof value[1] === "string" && typeof value[2] === "string"
    ) {
      this.#onMessage(value[1], value[2]);
      return;
    }
    const pending = this.#pending.shift();
    if (!pending) return; // a push we did not ask for
    if (value instanceof RedisReplyError) pending.reject(value);
    else pending.resolve(value);
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function encodeCommand(args: string[]): Uint8Array {
  const parts = [`*${args.length}\r\n`];
  for (const arg of args) parts.push(`$${encoder.encode(arg).length}\r\n${arg}\r\n`);
  return encoder.encode(parts.join(""));
}

/** One reply starting at `start`, or undefined when the buffer does not hold all of it yet. */
function parseReply(
  buf: Uint8Array,
  start: number,
): { value: RespValue | RedisReplyError; end: number } | undefined {
  const lineEnd = indexOfCrlf(buf, start);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buf[start]);
  const line = decoder.decode(buf.subarray(start + 1, lineEnd));
  const next = lineEnd + 2;
  switch (type) {
    case "+":
      return { value: line, end: next };
    case "-":
      return { value: new RedisReplyError(line), end: next };
    case ":":
      return { value: Number(line), end: next };
    case "$": {
      const length = Number(line);
      if (length < 0) return { value: null, end: next };
      if (buf.length < next + length + 2) return undefined;
      return { value: decoder.decode(buf.subarray(next, next + length)), end: next + length + 2 };
    }
    case "*": {
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items: RespValue[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, at);
        if (!item) return undefined;
        // An error inside an array (EXEC, scripts) is kept as its text.
        items.push(item.value instanceof RedisReplyError ? item.value.message : item.value);
        at = item.end;
      }
      return { value: items, end: at };
    }
    default:
      throw new Error(`unexpected reply type ${JSON.stringify(type)} from Redis`);
  }
}

function indexOfCrlf(buf: Uint8Array, from: number): number {
  for (let i = from; i + 1 < buf.length; i++) {
    if (buf[i] === 13 && buf[i + 1] === 10) return i;
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b.slice();
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function reasonOf(error: unknown): string {
  if (error instanceof RedisReplyError) return error.message;
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
