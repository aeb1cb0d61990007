/**
 * Private to src/gateway: reads HTTP/1.x responses for {@link Http1Pool} (./http1_pool.ts):
 * where a head ends, what it says (status, headers, how the body is framed, whether the
 * connection may be reused), and the body's payload (`Content-Length`, chunked, or up to the
 * close), out of a window of bytes read from the connection.
 */
import { keepsAlive, lineEnd, nextLine } from "./_http1_request.ts";

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
  let end = lineEnd(text, 0);
  const statusLine = text.slice(0, end);
  const status = STATUS_LINE.exec(statusLine);
  if (!status) throw new TypeError(`Malformed HTTP status line ${JSON.stringify(statusLine)}`);
  const headers: [string, string][] = [];
  let lengths: string | undefined;
  let codings: string | undefined;
  let connection = "";
  for (let at = nextLine(text, end); at < text.length; at = nextLine(text, end)) {
    end = lineEnd(text, at);
    if (end === at) continue;
    const colon = text.indexOf(":", at);
    if (colon <= at || colon >= end || isSpace(text.charCodeAt(colon - 1))) {
      const line = text.slice(at, end);
      throw new TypeError(`Malformed HTTP header line ${JSON.stringify(line.slice(0, 80))}`);
    }
    const name = text.slice(at, colon).toLowerCase();
    const value = text.slice(colon + 1, end).trim();
    headers.push([name, value]);
    if (name === "content-length") lengths = lengths === undefined ? value : `${lengths},${value}`;
    else if (name === "transfer-encoding") codings = codings ? `${codings},${value}` : value;
    else if (name === "connection") connection += `,${value.toLowerCase()}`;
  }
  return {
    status: Number(status[2]),
    statusText: status[3] ?? "",
    headers,
    framing: framingOf(codings, lengths),
    keepAlive: keepsAlive(Number(status[1]), connection),
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
    throw new TypeError(`Bad Content-Length ${JSON.stringify(lengths)}`);
  }
  return { kind: "length", length: Number(only) };
}

enum Chunked {
  Size,
  Data,
  DataEnd,
  Trailers,
}

/** What {@link ResponseBodyReader} needs before it can go on: more bytes from the connection. */
const MORE = Symbol("more bytes");

/**
 * Reads one body's payload out of a {@link ByteWindow}, chunk by chunk (copies). One decoder
 * serves both ways in: {@link takeWhole} runs it over the bytes already read, {@link next}
 * reads more when it runs dry.
 */
export class ResponseBodyReader {
  readonly #window: ByteWindow;
  readonly #framing: BodyFraming;
  #remaining: number;
  #chunked = Chunked.Size;
  #done: boolean;
  /** Payload {@link takeWhole} decoded before it found the body unfinished, for {@link next}. */
  #taken: Uint8Array[] = [];
  /** What broke the coding while {@link takeWhole} read ahead: {@link next} throws it. */
  #failure?: unknown;

  constructor(window: ByteWindow, framing: BodyFraming | "none") {
    this.#window = window;
    this.#framing = framing === "none" ? { kind: "none" } : framing;
    this.#remaining = this.#framing.kind === "length" ? this.#framing.length : 0;
    this.#done = this.#framing.kind === "none";
  }

  /** The body's framing (`close`: the connection ends with it). */
  get framing(): BodyFraming["kind"] {
    return this.#framing.kind;
  }

  /**
   * The whole body when its end is among the bytes read already (a small answer, a 202's empty
   * chunked body); else undefined, and {@link next} goes on from there.
   */
  takeWhole(): Uint8Array<ArrayBuffer> | undefined {
    const parts: Uint8Array<ArrayBuffer>[] = [];
    try {
      for (let part = this.#step(); part !== undefined; part = this.#step()) {
        if (part === MORE) {
          this.#taken = parts;
          return undefined;
        }
        parts.push(part);
      }
    } catch (error) {
      this.#taken = parts;
      this.#failure = error;
      return undefined;
    }
    if (parts.length === 1) return parts[0];
    const whole = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
    let offset = 0;
    for (const part of parts) {
      whole.set(part, offset);
      offset += part.length;
    }
    return whole;
  }

  /**
   * The next payload bytes, or undefined once the body ended.
   *
   * @throws TypeError when the connection ends inside the body or the chunked coding is broken.
   */
  async next(): Promise<Uint8Array | undefined> {
    if (this.#taken.length > 0) return this.#taken.shift();
    if (this.#failure !== undefined) throw this.#failure;
    for (;;) {
      const part = this.#step();
      if (part !== MORE) return part;
      if (!await this.#window.fill()) {
        if (this.#framing.kind !== "close") {
          throw new TypeError(`Connection closed ${this.#where()}`);
        }
        this.#done = true;
      }
    }
  }

  /** Decodes what the bytes read allow: payload, undefined at the body's end, or {@link MORE}. */
  #step(): Uint8Array<ArrayBuffer> | undefined | typeof MORE {
    while (!this.#done) {
      switch (this.#framing.kind) {
        case "length":
          if (this.#remaining === 0) {
            this.#done = true;
            break;
          }
          return this.#payload(this.#remaining);
        case "close":
          return this.#payload(Infinity);
        case "chunked": {
          const line = this.#chunked === Chunked.Data ? "" : this.#line();
          if (line === undefined) return MORE;
          switch (this.#chunked) {
            case Chunked.Size: {
              const size = /^([0-9a-fA-F]{1,12})[ \t]*(;.*)?$/.exec(line);
              if (!size) {
                throw new TypeError(`Bad chunk size line ${JSON.stringify(line.slice(0, 40))}`);
              }
              this.#remaining = parseInt(size[1], 16);
              this.#chunked = this.#remaining === 0 ? Chunked.Trailers : Chunked.Data;
              break;
            }
            case Chunked.Data:
              if (this.#remaining > 0) return this.#payload(this.#remaining);
              this.#chunked = Chunked.DataEnd;
              break;
            case Chunked.DataEnd:
              if (line !== "") throw new TypeError("Chunk data longer than its size");
              this.#chunked = Chunked.Size;
              break;
            case Chunked.Trailers:
              // Trailer fields are read past and dropped, up to the blank line that ends the body.
              if (line === "") this.#done = true;
          }
          break;
        }
        default:
          this.#done = true;
      }
    }
    return undefined;
  }

  /**
   * Up to `most` of the bytes read already, copied out and consumed (and counted off what the
   * length or the chunk has left); {@link MORE} when none are read.
   */
  #payload(most: number): Uint8Array<ArrayBuffer> | typeof MORE {
    const w = this.#window;
    if (w.start === w.end) return MORE;
    const n = Math.min(most, w.end - w.start);
    const bytes = w.buffer.slice(w.start, w.start + n);
    w.start += n;
    this.#remaining -= Math.min(n, this.#remaining);
    return bytes;
  }

  /** One line of the chunked coding without its line end, or undefined when it is not all read. */
  #line(): string | undefined {
    const w = this.#window;
    const lf = w.buffer.subarray(w.start, w.end).indexOf(LF);
    if (lf < 0) {
      if (w.end - w.start > MAX_CHUNK_LINE_BYTES) throw new TypeError("Chunk line too long");
      return undefined;
    }
    const end = lf > 0 && w.buffer[w.start + lf - 1] === CR ? lf - 1 : lf;
    const line = latin1.decode(w.buffer.subarray(w.start, w.start + end));
    w.start += lf + 1;
    return line;
  }

  /** Where in the body a close came too early, for the error. */
  #where(): string {
    if (this.#framing.kind === "length") return "inside the body";
    return this.#chunked === Chunked.Data ? "inside a chunk" : "inside the chunked coding";
  }
}
