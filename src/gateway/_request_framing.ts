/**
 * Private to src/gateway: finds where each HTTP/1.x request head ends and where its body ends in
 * the bytes a client sends, and which body bytes are payload (chunked `Transfer-Encoding`
 * decoded), so the connection guard can time out slow heads, tell an idle keep-alive connection
 * from a busy one, and hand each request's head and body to its in-process HTTP/1.1 server. It
 * does not interpret requests beyond their framing (`Content-Length`, chunked
 * `Transfer-Encoding`); src/gateway/_http1_request.ts parses the head.
 */

/**
 * What {@link RequestFramer.consume} found in the bytes it consumed: `body` bytes are request
 * payload; `chunking` bytes are the chunked coding around it (chunk sizes, extensions, CRLFs,
 * trailers); `partial` bytes were kept as part of a head that is not complete yet; after
 * `head`, {@link RequestFramer.head} holds a complete head; `error`: the client broke the
 * framing or used what the guard does not support (answer {@link RequestFramer.errorStatus}
 * and close).
 */
export type Framing = "body" | "chunking" | "partial" | "head" | "error";

/** Options of {@link RequestFramer}. */
export interface RequestFramerOptions {
  /** Largest request head accepted, in bytes; default 64 KiB. */
  maxHeadBytes?: number;
  /** Header names (lower case) a client may not send, such as the guard's own tag. */
  reservedHeaders?: readonly string[];
}

const CR = 13;
const LF = 10;
const MAX_CHUNK_LINE_BYTES = 4096;
/** Most header fields in one head (hyper's default too): more is answered 431. */
export const MAX_HEADER_FIELDS = 100;
/** The bytes of an RFC 9110 `token` (header names, methods). */
const TOKEN_BYTE: boolean[] = Array.from(
  { length: 256 },
  (_, b) => b < 128 && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(String.fromCharCode(b)),
);
const HTTP_1 = new TextEncoder().encode(" HTTP/1.");
const latin1 = new TextDecoder("latin1");

enum State {
  Head,
  FixedBody,
  ChunkSize,
  ChunkExtension,
  ChunkData,
  ChunkDataEnd,
  Trailers,
}

/**
 * Splits a client's byte stream into request heads and bodies. Feed it each chunk read from the
 * client with {@link consume} until the whole chunk is consumed; it keeps the state between
 * chunks and copies only head bytes (into one reusable buffer).
 */
export class RequestFramer {
  /** The kind of the bytes the last {@link consume} consumed. */
  framing: Framing = "partial";
  /** The complete head after {@link consume} consumed one (`framing` is `head`). */
  head: Uint8Array = new Uint8Array(0);
  /** Why the framing failed (`framing` is `error`). */
  error = "";
  /** The status to answer a failed framing with: 431 for a head too large, else 400. */
  errorStatus = 400;
  /** True while a head has started but is not complete. */
  get inHead(): boolean {
    return this.#state === State.Head && this.#headLength > 0;
  }
  /** True while a request body is being received. */
  get inBody(): boolean {
    return this.#state !== State.Head;
  }
  /** Payload bytes still to come of a `Content-Length` body; undefined for any other state. */
  get fixedBodyRemaining(): number | undefined {
    return this.#state === State.FixedBody ? this.#remaining : undefined;
  }

  #state = State.Head;
  #headBuffer = new Uint8Array(1024);
  #headLength = 0;
  /** Whether the current line (head or trailer) has any character besides CR. */
  #lineHasContent = false;
  /** Whether the current head has a character besides CR and LF (empty lines before it are skipped). */
  #headHasContent = false;
  #remaining = 0;
  #chunkLineBytes = 0;
  #sawSizeDigit = false;
  /** The last byte of a chunk line, or after chunk data, was CR (LF must follow). */
  #sawCR = false;
  readonly #maxHeadBytes: number;
  readonly #reserved: ReadonlySet<string>;
  /** First letters (lower case) of the header names read: the others are skipped undecoded. */
  readonly #watched: boolean[] = new Array(256).fill(false);

  constructor(options: RequestFramerOptions = {}) {
    this.#maxHeadBytes = options.maxHeadBytes ?? 64 * 1024;
    this.#reserved = new Set(options.reservedHeaders ?? []);
    for (const name of ["content-length", "transfer-encoding", ...this.#reserved]) {
      this.#watched[name.charCodeAt(0) | 0x20] = true;
    }
  }

  /**
   * Consumes bytes of `chunk` from `from` (up to `to`) and returns the index after the last one
   * consumed; {@link framing} says what the bytes `[from, returned)` were.
   */
  consume(chunk: Uint8Array, from: number, to: number): number {
    if (this.#state === State.Head) return this.#consumeHead(chunk, from, to);
    return this.#consumeBody(chunk, from, to);
  }

  #consumeHead(chunk: Uint8Array, from: number, to: number): number {
    // Jumps from LF to LF (indexOf is native); a line has content unless it is empty or a CR.
    let end = -1;
    let segment = from;
    while (segment < to) {
      let lf = chunk.indexOf(LF, segment);
      if (lf === -1 || lf >= to) lf = -1;
      const stop = lf === -1 ? to : lf;
      if (stop - segment > 1 || (stop - segment === 1 && chunk[segment] !== CR)) {
        this.#lineHasContent = true;
        this.#headHasContent = true;
      }
      if (lf === -1) break;
      if (!this.#lineHasContent && this.#headHasContent) {
        end = lf + 1;
        break;
      }
      this.#lineHasContent = false;
      segment = lf + 1;
    }
    const stop = end === -1 ? to : end;
    if (!this.#append(chunk, from, stop)) return this.#fail("request head too large", to, 431);
    if (end === -1) {
      this.framing = "partial";
      return to;
    }
    this.head = this.#headBuffer.subarray(0, this.#headLength);
    this.#headLength = 0;
    this.#lineHasContent = false;
    this.#headHasContent = false;
    this.errorStatus = 400;
    const problem = this.#readFraming(this.head);
    if (problem) return this.#fail(problem, to, this.errorStatus);
    this.framing = "head";
    return end;
  }

  #append(chunk: Uint8Array, from: number, to: number): boolean {
    const needed = this.#headLength + (to - from);
    if (needed > this.#maxHeadBytes) return false;
    if (needed > this.#headBuffer.length) {
      const grown = new Uint8Array(
        Math.min(this.#maxHeadBytes, Math.max(needed, this.#headBuffer.length * 2)),
      );
      grown.set(this.#headBuffer.subarray(0, this.#headLength));
      this.#headBuffer = grown;
    }
    this.#headBuffer.set(chunk.subarray(from, to), this.#headLength);
    this.#headLength = needed;
    return true;
  }

  /** Reads `Content-Length` / `Transfer-Encoding` and sets the body state; returns a problem. */
  #readFraming(head: Uint8Array): string | undefined {
    // Byte-level on purpose: this runs once per request on the gateway's hot path.
    let start = 0;
    while (head[start] === CR || head[start] === LF) start++;
    let end = lineEnd(head, start);
    if (!isRequestLine(head, start, end)) return "not an HTTP/1.x request line";
    const minor = head[end - 1];
    let contentLength: number | undefined;
    let chunked = false;
    let fields = 0;
    for (start = nextLine(head, end); start < head.length; start = nextLine(head, end)) {
      end = lineEnd(head, start);
      if (end === start) break;
      if (++fields > MAX_HEADER_FIELDS) {
        this.errorStatus = 431;
        return `more than ${MAX_HEADER_FIELDS} header fields`;
      }
      let colon = start;
      while (colon < end && TOKEN_BYTE[head[colon]]) colon++;
      if (colon === start || colon === end || head[colon] !== 0x3a /* : */) {
        return "malformed header line";
      }
      if (!this.#watched[head[start] | 0x20]) continue;
      const name = latin1.decode(head.subarray(start, colon)).toLowerCase();
      if (this.#reserved.has(name)) return `reserved header "${name}"`;
      if (name === "content-length") {
        // Only SP and HTAB are optional whitespace (`trim` would also take NBSP, VT, FF).
        const value = /^[ \t]*(\d{1,15})[ \t]*$/.exec(latin1.decode(head.subarray(colon + 1, end)));
        if (!value) return "invalid Content-Length";
        if (contentLength !== undefined && contentLength !== Number(value[1])) {
          return "conflicting Content-Length headers";
        }
        contentLength = Number(value[1]);
      } else if (name === "transfer-encoding") {
        // Exactly one `chunked` and nothing else: any other coding (or chunked twice) would
        // leave a body the handler cannot read, or one a proxy in front frames differently.
        if (chunked) return "more than one Transfer-Encoding";
        const value = latin1.decode(head.subarray(colon + 1, end));
        if (!/^[ \t]*chunked[ \t]*$/i.test(value)) return "unsupported Transfer-Encoding";
        chunked = true;
      }
    }
    if (chunked && contentLength !== undefined) return "both Content-Length and Transfer-Encoding";
    if (chunked && minor === 0x30) return "Transfer-Encoding on an HTTP/1.0 request";
    if (chunked) {
      this.#state = State.ChunkSize;
      this.#chunkLineBytes = 0;
      this.#sawSizeDigit = false;
      this.#sawCR = false;
      this.#remaining = 0;
    } else if (contentLength !== undefined && contentLength > 0) {
      this.#state = State.FixedBody;
      this.#remaining = contentLength;
    }
    return undefined;
  }

  #consumeBody(chunk: Uint8Array, from: number, to: number): number {
    if (this.#state === State.FixedBody || this.#state === State.ChunkData) {
      const take = Math.min(this.#remaining, to - from);
      this.#remaining -= take;
      if (this.#remaining === 0) {
        this.#state = this.#state === State.FixedBody ? State.Head : State.ChunkDataEnd;
      }
      this.framing = "body";
      return from + take;
    }
    let i = from;
    while (
      i < to && this.#state !== State.Head && this.#state !== State.ChunkData
    ) {
      switch (this.#state) {
        case State.ChunkSize:
        case State.ChunkExtension: {
          const byte = chunk[i++];
          if (++this.#chunkLineBytes > MAX_CHUNK_LINE_BYTES) {
            return this.#fail("chunk line too long", to);
          }
          if (this.#sawCR !== (byte === LF)) {
            // A chunk line ends with CRLF: a bare LF, or a CR not before LF, is refused.
            return this.#fail("chunk line not ended by CRLF", to);
          }
          if (byte === LF) {
            if (!this.#sawSizeDigit) return this.#fail("missing chunk size", to);
            this.#chunkLineBytes = 0;
            this.#sawSizeDigit = false;
            this.#sawCR = false;
            if (this.#remaining === 0) {
              this.#state = State.Trailers;
              this.#lineHasContent = false;
            } else this.#state = State.ChunkData;
          } else if (byte === CR) {
            this.#sawCR = true;
          } else if ((byte < 0x20 && byte !== 0x09) || byte === 0x7f) {
            return this.#fail("control byte in a chunk line", to);
          } else if (this.#state === State.ChunkExtension) {
            // Extension text is skipped.
          } else if (byte === 0x3b /* ; */ || byte === 0x20 || byte === 0x09) {
            this.#state = State.ChunkExtension;
          } else {
            const digit = hexValue(byte);
            if (digit < 0) return this.#fail("invalid chunk size", to);
            this.#remaining = this.#remaining * 16 + digit;
            this.#sawSizeDigit = true;
            if (this.#remaining > Number.MAX_SAFE_INTEGER / 16) {
              return this.#fail("chunk size too large", to);
            }
          }
          break;
        }
        case State.ChunkDataEnd: {
          // Exactly CRLF after the declared bytes: more data than declared is refused.
          const byte = chunk[i++];
          if (byte === (this.#sawCR ? LF : CR)) {
            this.#sawCR = !this.#sawCR;
            if (!this.#sawCR) {
              this.#state = State.ChunkSize;
              this.#remaining = 0;
            }
          } else return this.#fail("missing CRLF after chunk data", to);
          break;
        }
        case State.Trailers: {
          const byte = chunk[i++];
          if (++this.#chunkLineBytes > this.#maxHeadBytes) {
            return this.#fail("trailers too large", to);
          }
          if (byte === LF) {
            if (!this.#lineHasContent) {
              this.#state = State.Head;
              this.#chunkLineBytes = 0;
            }
            this.#lineHasContent = false;
          } else if (byte !== CR) this.#lineHasContent = true;
          break;
        }
      }
    }
    this.framing = "chunking";
    return i;
  }

  #fail(message: string, to: number, status = 400): number {
    this.error = message;
    this.errorStatus = status;
    this.framing = "error";
    return to;
  }
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  return -1;
}

/** Index of the LF ending the line at `start` (CR before it excluded), or the head's end. */
function lineEnd(head: Uint8Array, start: number): number {
  let end = head.indexOf(LF, start);
  if (end === -1) end = head.length;
  return end > start && head[end - 1] === CR ? end - 1 : end;
}

function nextLine(head: Uint8Array, end: number): number {
  if (head[end] === CR) end++;
  return end + 1;
}

/** `METHOD SP target SP HTTP/1.0|1.1`, checked on the bytes. */
function isRequestLine(head: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end && TOKEN_BYTE[head[i]]) i++;
  if (i === start || head[i] !== 0x20) return false;
  const target = ++i;
  while (i < end && head[i] !== 0x20) i++;
  if (i === target || end - i !== HTTP_1.length + 1) return false;
  for (let k = 0; k < HTTP_1.length; k++) if (head[i + k] !== HTTP_1[k]) return false;
  const minor = head[end - 1];
  return minor === 0x30 || minor === 0x31;
}
