/**
 * Private to src/gateway: reads HTTP/1.x responses for {@link Http1Pool} (./http1_pool.ts):
 * where a head ends, what it says (status, headers, how the body is framed, whether the
 * connection may be reused), and the body's payload (`Content-Length`, chunked, or up to the
 * close), out of a window of bytes read from the connection.
 */

/** Bytes read from a connection and not consumed yet: `buffer[start, end)`. */
export interface ByteWindow {
  buffer: Uint8Array;
  start: number;
  end: number;
  /** Reads more after `end` (it may move the window); false at the end of the stream. */
  fill(): Promise<boolean>;
}

/** How a response body is delimited. */
export type BodyFraming =
  | { kind: "none" }
  | { kind: "length"; length: number }
  | { kind: "chunked" }
  | { kind: "close" };

/** A parsed response head. */
export interface ResponseHead {
  status: number;
  statusText: string;
  /** The header fields in order, names in lower case (a `Response` takes them as they are). */
  headers: [string, string][];
  framing: BodyFraming;
  /** Whether the connection may carry another request once this body is read. */
  keepAlive: boolean;
}

const CR = 13;
const LF = 10;
const MAX_CHUNK_LINE_BYTES = 4096;
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/;
const latin1 = new TextDecoder("latin1");

/** The index after the blank line that ends a head in `buffer[from, to)`, or -1. */
export function findHeadEnd(buffer: Uint8Array, from: number, to: number): number {
  for (let i = buffer.indexOf(LF, from); i >= 0 && i < to; i = buffer.indexOf(LF, i + 1)) {
    if (i + 1 < to && buffer[i + 1] === LF) return i + 2;
    if (i + 2 < to && buffer[i + 1] === CR && buffer[i + 2] === LF) return i + 3;
  }
  return -1;
}

/**
 * Parses a complete head (up to and including its blank line).
 *
 * @throws TypeError for a malformed status line, header line or `Content-Length`.
 */
export function parseResponseHead(bytes: Uint8Array): ResponseHead {
  // One decode, then lines cut with indexOf: this runs once per upstream answer.
  const text = latin1.decode(bytes);
  let at = text.indexOf("\n");
  const statusLine = text.slice(0, at > 0 && text[at - 1] === "\r" ? at - 1 : at);
  const status = STATUS_LINE.exec(statusLine);
  if (!status) throw new TypeError(`malformed HTTP status line ${JSON.stringify(statusLine)}`);
  const headers: [string, string][] = [];
  let lengths: string | undefined;
  let codings: string | undefined;
  let connection: string | undefined;
  for (at++; at < text.length;) {
    let end = text.indexOf("\n", at);
    if (end < 0) end = text.length;
    const lineEnd = end > at && text.charCodeAt(end - 1) === CR ? end - 1 : end;
    if (lineEnd > at) {
      const colon = text.indexOf(":", at);
      if (colon <= at || colon >= lineEnd || isSpace(text.charCodeAt(colon - 1))) {
        const line = text.slice(at, lineEnd);
        throw new TypeError(`malformed HTTP header line ${JSON.stringify(line.slice(0, 80))}`);
      }
      const name = text.slice(at, colon).toLowerCase();
      const value = text.slice(colon + 1, lineEnd).trim();
      headers.push([name, value]);
      if (name === "content-length") {
        lengths = lengths === undefined ? value : `${lengths},${value}`;
      } else if (name === "transfer-encoding") codings = codings ? `${codings},${value}` : value;
      else if (name === "connection") connection = `${connection ?? ""},${value.toLowerCase()}`;
    }
    at = end + 1;
  }
  const minor = status[1];
  const keepAlive = minor === "1"
    ? connection === undefined || !/(^|,)\s*close\s*(,|$)/.test(connection)
    : connection !== undefined && /(^|,)\s*keep-alive\s*(,|$)/.test(connection);
  return {
    status: Number(status[2]),
    statusText: status[3] ?? "",
    headers,
    framing: framingOf(codings, lengths),
    keepAlive,
  };
}

function isSpace(code: number): boolean {
  return code === 32 || code === 9;
}

const CHUNKED: BodyFraming = { kind: "chunked" };
const TO_CLOSE: BodyFraming = { kind: "close" };

/** RFC 9112 §6.3: chunked last wins; another coding reads to the close; then a length. */
function framingOf(codings: string | undefined, lengths: string | undefined): BodyFraming {
  if (codings !== undefined) {
    if (codings.toLowerCase() === "chunked") return CHUNKED;
    const last = codings.split(",").map((c) => c.trim().toLowerCase()).filter(Boolean).at(-1);
    return last === "chunked" ? CHUNKED : TO_CLOSE;
  }
  if (lengths === undefined) return TO_CLOSE;
  if (/^\d{1,15}$/.test(lengths)) return { kind: "length", length: Number(lengths) };
  const values = new Set(lengths.split(",").map((v) => v.trim()));
  const [only] = values;
  if (values.size !== 1 || !/^\d{1,15}$/.test(only)) {
    throw new TypeError(`bad Content-Length ${JSON.stringify(lengths)}`);
  }
  return { kind: "length", length: Number(only) };
}

/** The value of a hex digit byte, or -1. */
function hexValue(byte: number): number {
  if (byte >= 48 && byte <= 57) return byte - 48;
  const lower = byte | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}

enum Chunked {
  Size,
  Data,
  DataEnd,
  Trailers,
  Done,
}

/** Reads one body's payload out of a {@link ByteWindow}, chunk by chunk (copies). */
export class ResponseBodyReader {
  readonly #window: ByteWindow;
  readonly #framing: BodyFraming;
  #remaining: number;
  #chunked = Chunked.Size;
  #done: boolean;

  constructor(window: ByteWindow, framing: BodyFraming | "none") {
    this.#window = window;
    this.#framing = framing === "none" ? { kind: "none" } : framing;
    this.#remaining = this.#framing.kind === "length" ? this.#framing.length : 0;
    this.#done = this.#framing.kind === "none" ||
      (this.#framing.kind === "length" && this.#remaining === 0);
  }

  /** The body's framing (`close`: the connection ends with it). */
  get framing(): BodyFraming["kind"] {
    return this.#framing.kind;
  }

  /** The whole body when it has no bytes or they are all read already; else undefined. */
  takeWhole(): Uint8Array<ArrayBuffer> | undefined {
    if (this.#done) return new Uint8Array(0);
    const w = this.#window;
    if (this.#framing.kind === "chunked") return this.#takeWholeChunked();
    if (this.#framing.kind !== "length" || w.end - w.start < this.#remaining) return undefined;
    const whole = w.buffer.slice(w.start, w.start + this.#remaining);
    w.start += this.#remaining;
    this.#remaining = 0;
    this.#done = true;
    return whole;
  }

  /**
   * A chunked body whose last chunk and trailers are all read already (a 202's empty body,
   * a small answer), decoded; undefined, with nothing consumed, when more is to come or the
   * coding needs {@link next} to report its error.
   */
  #takeWholeChunked(): Uint8Array<ArrayBuffer> | undefined {
    const { buffer, start, end } = this.#window;
    /** The index of the LF ending the line at `from`, when the line is CR? LF. */
    const lineEnd = (from: number) => {
      const lf = buffer.indexOf(LF, from);
      return lf < 0 || lf >= end ? -1 : lf;
    };
    const parts: Uint8Array[] = [];
    let total = 0;
    let at = start;
    for (;;) {
      // A size line: hex digits, then nothing but an extension (`;`) before CR LF.
      let size = 0;
      let digits = 0;
      let i = at;
      for (; i < end; i++) {
        const value = hexValue(buffer[i]);
        if (value < 0) break;
        size = size * 16 + value;
        if (++digits > 12) return undefined;
      }
      const lf = lineEnd(i);
      if (digits === 0 || lf < 0) return undefined;
      if (lf > i && buffer[i] !== CR && buffer[i] !== 59 /* ; */) return undefined;
      at = lf + 1;
      if (size === 0) break;
      if (end - at < size + 1) return undefined;
      parts.push(buffer.subarray(at, at + size));
      total += size;
      at += size;
      if (buffer[at] === CR) at++;
      if (at >= end || buffer[at] !== LF) return undefined;
      at++;
    }
    for (;;) {
      const lf = lineEnd(at);
      if (lf < 0) return undefined;
      const empty = lf === at || (lf === at + 1 && buffer[at] === CR);
      at = lf + 1;
      if (empty) break;
    }
    const whole = new Uint8Array(total);
    let offset = 0;
    for (const part of parts) {
      whole.set(part, offset);
      offset += part.length;
    }
    this.#window.start = at;
    this.#chunked = Chunked.Done;
    this.#done = true;
    return whole;
  }

  /**
   * The next payload bytes, or undefined once the body ended.
   *
   * @throws TypeError when the connection ends inside the body or the chunked coding is broken.
   */
  async next(): Promise<Uint8Array | undefined> {
    while (!this.#done) {
      const w = this.#window;
      switch (this.#framing.kind) {
        case "length": {
          if (w.start === w.end) await this.#fill("inside the body");
          const n = Math.min(this.#remaining, w.end - w.start);
          const bytes = w.buffer.slice(w.start, w.start + n);
          w.start += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#done = true;
          return bytes;
        }
        case "close": {
          if (w.start === w.end && !await w.fill()) {
            this.#done = true;
            return undefined;
          }
          const bytes = w.buffer.slice(w.start, w.end);
          w.start = w.end;
          return bytes;
        }
        case "chunked": {
          const bytes = await this.#nextChunked();
          if (bytes) return bytes;
          break;
        }
        default:
          this.#done = true;
      }
    }
    return undefined;
  }

  async #nextChunked(): Promise<Uint8Array | undefined> {
    const w = this.#window;
    switch (this.#chunked) {
      case Chunked.Size: {
        const line = await this.#line();
        const size = /^([0-9a-fA-F]{1,12})[ \t]*(;.*)?$/.exec(line);
        if (!size) throw new TypeError(`bad chunk size line ${JSON.stringify(line.slice(0, 40))}`);
        this.#remaining = parseInt(size[1], 16);
        this.#chunked = this.#remaining === 0 ? Chunked.Trailers : Chunked.Data;
        return undefined;
      }
      case Chunked.Data: {
        if (w.start === w.end) await this.#fill("inside a chunk");
        const n = Math.min(this.#remaining, w.end - w.start);
        const bytes = w.buffer.slice(w.start, w.start + n);
        w.start += n;
        this.#remaining -= n;
        if (this.#remaining === 0) this.#chunked = Chunked.DataEnd;
        return bytes;
      }
      case Chunked.DataEnd: {
        if (await this.#line() !== "") throw new TypeError("chunk data longer than its size");
        this.#chunked = Chunked.Size;
        return undefined;
      }
      case Chunked.Trailers: {
        // Trailer fields are read past and dropped, up to the blank line that ends the body.
        if (await this.#line() === "") {
          this.#chunked = Chunked.Done;
          this.#done = true;
        }
        return undefined;
      }
    }
    return undefined;
  }

  /** One line of the chunked coding, without its line end. */
  async #line(): Promise<string> {
    const w = this.#window;
    for (;;) {
      const lf = w.buffer.subarray(w.start, w.end).indexOf(LF);
      if (lf >= 0) {
        const end = lf > 0 && w.buffer[w.start + lf - 1] === CR ? lf - 1 : lf;
        const line = latin1.decode(w.buffer.subarray(w.start, w.start + end));
        w.start += lf + 1;
        return line;
      }
      if (w.end - w.start > MAX_CHUNK_LINE_BYTES) throw new TypeError("chunk line too long");
      await this.#fill("inside the chunked coding");
    }
  }

  async #fill(where: string): Promise<void> {
    if (!await this.#window.fill()) throw new TypeError(`connection closed ${where}`);
  }
}
