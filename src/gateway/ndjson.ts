/**
 * Newline-delimited JSON, the framing of MCP over stdio, for both of the gateway's stdio
 * transports (a client's session, an upstream child). {@link LineReader} cuts a byte stream
 * into lines: bytes are scanned once, as they arrive, and a line that spans chunks is copied
 * into one growable buffer (doubling), never re-copied per chunk. {@link LineWriter} sends
 * messages in order, those sent while a write is under way together in the next write, to a
 * {@link ByteSink} (a web stream, a socket).
 */
import type { ByteSink } from "./byte_pipes.ts";

/** The longest line either side accepts, the SDK's limit too: 10 MiB. */
export const MAX_LINE_BYTES = 10 * 1024 * 1024;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const ENCODER = new TextEncoder();

/** A line longer than the limit arrived; its bytes were dropped up to the next newline. */
export class LineTooLongError extends RangeError {
  /** The limit, in bytes. */
  readonly limitBytes: number;

  constructor(limitBytes: number) {
    super(`a message exceeded the stdio line limit of ${formatBytes(limitBytes)}`);
    this.name = "LineTooLongError";
    this.limitBytes = limitBytes;
  }
}

/** What {@link LineReader} reports to. */
export interface LineReaderHandlers {
  /** A complete line that parsed as a JSON object or array. */
  onMessage(message: object): void;
  /** A line that is not JSON (a `SyntaxError`, or a JSON scalar), or a {@link LineTooLongError}. */
  onError(error: Error): void;
}

/** Cuts bytes into newline-delimited JSON messages; see the module comment. */
export class LineReader {
  readonly #maxLineBytes: number;
  readonly #handlers: LineReaderHandlers;
  readonly #decoder = new TextDecoder();
  /** The start of a line that has not ended yet: `#partial[0, #length)`. */
  #partial = new Uint8Array(0);
  #length = 0;
  /** The line under way went over the limit: drop bytes up to its newline. */
  #discarding = false;

  constructor(handlers: LineReaderHandlers, maxLineBytes = MAX_LINE_BYTES) {
    this.#handlers = handlers;
    this.#maxLineBytes = maxLineBytes;
  }

  /** Bytes of the line under way, not yet ended by a newline. */
  get pendingBytes(): number {
    return this.#length;
  }

  /** Takes the next chunk of the stream; reports every line it completes, in order. */
  push(chunk: Uint8Array): void {
    let start = 0;
    const first = chunk.indexOf(NEWLINE);
    if (first < 0) return this.#keep(chunk);
    if (this.#discarding) {
      this.#discarding = false;
    } else if (this.#length > 0) {
      this.#append(chunk.subarray(0, first));
      if (this.#discarding) this.#discarding = false;
      else this.#line(this.#partial.subarray(0, this.#length));
      this.#length = 0;
    } else {
      this.#line(chunk.subarray(0, first));
    }
    start = first + 1;
    let newline;
    while ((newline = chunk.indexOf(NEWLINE, start)) >= 0) {
      this.#line(chunk.subarray(start, newline));
      start = newline + 1;
    }
    if (start < chunk.length) this.#keep(chunk.subarray(start));
  }

  /** Forgets the line under way (the stream ended or was abandoned). */
  clear(): void {
    this.#partial = new Uint8Array(0);
    this.#length = 0;
    this.#discarding = false;
  }

  /** Keeps bytes that do not end a line. */
  #keep(bytes: Uint8Array): void {
    if (this.#discarding) return;
    this.#append(bytes);
  }

  #append(bytes: Uint8Array): void {
    const length = this.#length + bytes.length;
    if (length > this.#maxLineBytes) {
      // Report once, free the buffer, and skip the rest of this line.
      this.clear();
      this.#discarding = true;
      this.#handlers.onError(new LineTooLongError(this.#maxLineBytes));
      return;
    }
    if (length > this.#partial.length) {
      const grown = new Uint8Array(
        Math.min(this.#maxLineBytes, Math.max(length, this.#partial.length * 2, 4096)),
      );
      grown.set(this.#partial.subarray(0, this.#length));
      this.#partial = grown;
    }
    this.#partial.set(bytes, this.#length);
    this.#length = length;
  }

  #line(bytes: Uint8Array): void {
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === CARRIAGE_RETURN) end--;
    if (end === 0) return;
    // A newline byte never occurs inside a UTF-8 sequence, so every line decodes alone.
    const text = this.#decoder.decode(end === bytes.length ? bytes : bytes.subarray(0, end));
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch (error) {
      if (text.trim() === "") return;
      return this.#handlers.onError(error as Error);
    }
    if (message !== null && typeof message === "object") this.#handlers.onMessage(message);
    else this.#handlers.onError(new SyntaxError(`not a JSON-RPC message: ${text.slice(0, 80)}`));
  }
}

/**
 * Writes newline-delimited JSON to a {@link ByteSink}: one write per message when they come
 * one at a time, one write for all that were sent while the previous write was under way.
 */
export class LineWriter {
  readonly #sink: ByteSink;
  /** Serialized messages waiting for the write under way to finish. */
  #queue: string[] = [];
  /** The write loop while it runs; every queued message's `write` resolves with it. */
  #writing?: Promise<void>;

  constructor(sink: ByteSink) {
    this.#sink = sink;
  }

  /** Queues `message`; resolves once it was handed to the sink, rejects if writing failed. */
  write(message: unknown): Promise<void> {
    this.#queue.push(JSON.stringify(message));
    return this.#writing ??= this.#drain();
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const lines = this.#queue;
        this.#queue = [];
        const text = lines.length === 1 ? lines[0] + "\n" : lines.join("\n") + "\n";
        await this.#sink.write(ENCODER.encode(text));
      }
    } finally {
      this.#writing = undefined;
      this.#queue = [];
    }
  }

  /** Waits for queued writes, then closes the sink (EOF for the reader); never throws. */
  async close(): Promise<void> {
    await this.#writing?.catch(() => {});
    await this.#sink.close().catch(() => {});
  }
}

function formatBytes(bytes: number): string {
  const mib = bytes / 2 ** 20;
  return Number.isInteger(mib) ? `${mib} MiB` : `${bytes} bytes`;
}
