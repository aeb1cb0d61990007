/**
 * Private to src/gateway: writes a `Response` to an HTTP/1.x connection. A body that is not an
 * event stream is read whole and sent in one write with `Content-Length` (every such body the
 * gateway makes is a string); an event stream goes out chunked (HTTP/1.1; to an HTTP/1.0 client
 * as raw bytes followed by a close), one write per chunk so every event is flushed when it is
 * produced.
 */

/** How {@link writeResponse} writes one response. */
export interface ResponseTarget {
  /** The connection; all of its writes go through here. */
  write(data: Uint8Array): Promise<void>;
  /** The request method: `HEAD` gets the head only. */
  method: string;
  /** 0 for an HTTP/1.0 client, 1 for HTTP/1.1. */
  minorVersion: number;
  /** Whether the connection may stay open after this response (the client's and ours). */
  keepAlive: boolean;
  /** Called with the body's reader before a streamed body is read, so a disconnect can cancel it. */
  onStream(reader: ReadableStreamDefaultReader<Uint8Array>): void;
}

const encoder = new TextEncoder();
const CRLF = encoder.encode("\r\n");
const LAST_CHUNK = encoder.encode("0\r\n\r\n");
/** Headers the writer sets itself; the handler's are dropped. */
const FRAMING_HEADERS = new Set([
  "connection",
  "content-length",
  "keep-alive",
  "transfer-encoding",
]);
const REASONS: Record<number, string> = {
  100: "Continue",
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  301: "Moved Permanently",
  302: "Found",
  304: "Not Modified",
  307: "Temporary Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/**
 * A complete response without body, for answers the server makes itself (400, 431, 503),
 * always closing the connection.
 */
export function plainResponse(status: number): Uint8Array {
  return encoder.encode(
    `HTTP/1.1 ${status} ${REASONS[status] ?? ""}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`,
  );
}

/** The interim response to `Expect: 100-continue`. */
export const CONTINUE: Uint8Array = encoder.encode("HTTP/1.1 100 Continue\r\n\r\n");

/**
 * Writes `response` to `target`.
 *
 * @returns whether the connection may carry another request (false after a body delimited by
 * closing the connection).
 * @throws what `target.write` or the body's stream throws.
 */
export async function writeResponse(response: Response, target: ResponseTarget): Promise<boolean> {
  const status = response.status;
  let head = `HTTP/1.1 ${status} ${response.statusText || REASONS[status] || ""}\r\n`;
  let declaredLength: string | null = null;
  let closeAsked = false;
  let eventStream = false;
  for (const [name, value] of response.headers) {
    if (FRAMING_HEADERS.has(name)) {
      if (name === "content-length") declaredLength = value;
      else if (name === "connection") closeAsked = value.toLowerCase() === "close";
      continue;
    }
    if (name === "content-type") eventStream = value.startsWith("text/event-stream");
    head += `${name}: ${value}\r\n`;
  }
  head += `date: ${httpDate()}\r\n`;
  let keepAlive = target.keepAlive && !closeAsked;
  const connection = keepAlive ? (target.minorVersion === 0 ? "keep-alive" : "") : "close";
  if (connection) head += `connection: ${connection}\r\n`;
  // Touching `response.body` would turn a string body into a stream: only event streams do.
  if (status === 204 || status === 304 || status < 200) {
    await response.body?.cancel().catch(() => {});
    await target.write(latin1Bytes(`${head}\r\n`));
    return keepAlive;
  }
  if (target.method === "HEAD") {
    // The length a GET would have sent, when the body is not a stream of events.
    let length = declaredLength;
    if (eventStream) await response.body?.cancel().catch(() => {});
    else length ??= String((await response.bytes()).length);
    if (length !== null) head += `content-length: ${length}\r\n`;
    await target.write(latin1Bytes(`${head}\r\n`));
    return keepAlive;
  }
  const body = eventStream ? response.body : null;
  if (body === null) {
    // `bytes()` takes a string or byte body as it is, without making a stream of it.
    const content = await response.bytes();
    head += `content-length: ${content.length}\r\n\r\n`;
    // One buffer, one write: the head encoded in place, the body after it.
    const out = new Uint8Array(head.length + content.length);
    const encoded = encoder.encodeInto(head, out);
    if (encoded.read !== head.length || encoded.written !== head.length) {
      out.set(latin1Bytes(head)); // a header value beyond ASCII: one byte per character
    }
    out.set(content, head.length);
    await target.write(out);
    return keepAlive;
  }
  return await streamBody(body.getReader(), target, head, keepAlive);

  async function streamBody(
    reader: ReadableStreamDefaultReader<Uint8Array>,
    target: ResponseTarget,
    head: string,
    keepAliveSoFar: boolean,
  ): Promise<boolean> {
    const chunked = target.minorVersion === 1;
    if (!chunked && keepAliveSoFar) head = head.replace("connection: keep-alive\r\n", "");
    keepAlive = chunked && keepAliveSoFar;
    if (chunked) head += "transfer-encoding: chunked\r\n";
    else if (keepAliveSoFar) head += "connection: close\r\n";
    target.onStream(reader);
    await target.write(latin1Bytes(`${head}\r\n`));
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (value.length === 0) continue;
      const parts = frame(value, chunked);
      await target.write(concat(parts, sum(parts)));
    }
    if (chunked) await target.write(LAST_CHUNK);
    return keepAlive;
  }
}

/** A body chunk as it goes on the wire: with its size line and CRLF when chunked. */
function frame(chunk: Uint8Array, chunked: boolean): Uint8Array[] {
  if (!chunked) return [chunk];
  return [encoder.encode(`${chunk.length.toString(16)}\r\n`), chunk, CRLF];
}

function sum(parts: Uint8Array[]): number {
  let total = 0;
  for (const part of parts) total += part.length;
  return total;
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Header text as bytes, one byte per character (header values are ISO-8859-1). */
function latin1Bytes(text: string): Uint8Array {
  // deno-lint-ignore no-control-regex
  if (/^[\x00-\x7f]*$/.test(text)) return encoder.encode(text);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

let dateSecond = -1;
let dateText = "";
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}
