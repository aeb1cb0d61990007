/**
 * Byte sources and sinks for the stdio transports (web streams, node sockets, and this
 * process's own stdin and stdout), and {@link byteChunks}, the cheap way to read a byte stream.
 *
 * Deno's `Deno.stdin` and `Deno.stdout` hand every read and write to a blocking thread and
 * back, which costs about 40 µs of a round trip (measured with a ping-pong through a child,
 * against `cat`). When stdin or stdout is a pipe or a socket, as it is for a client that spawns
 * `gateway --stdio`, {@link processStdio} reads and writes it as a non-blocking `node:net`
 * socket on the event loop instead; a file or a terminal keeps Deno's streams.
 */
import { Socket } from "node:net";

/** Where a writer puts its bytes. */
export interface ByteSink {
  /** Resolves once `bytes` were handed over; rejects when the other end is gone. */
  write(bytes: Uint8Array): Promise<void>;
  /** Ends the output (EOF for the reader); never rejects. */
  close(): Promise<void>;
  /** Lets go of the output without ending it. */
  release(): void;
}

/** What a reader gets its bytes from. */
export interface ByteSource {
  /** Starts reading: each chunk to `onData`, then one `onEnd` (with the error, if one ended it). */
  start(onData: (chunk: Uint8Array) => void, onEnd: (error?: Error) => void): void;
  /** Stops reading; `onEnd` follows. */
  stop(): void;
}

/** Bytes one read of a byte stream may take; the buffer is reused from read to read. */
const READ_BYTES = 16 * 1024;

/**
 * The chunks of a stream, read into one reused buffer when it is a byte stream (fetch bodies
 * and child process pipes are): a default reader allocates and zeroes a fresh 64 KiB chunk per
 * read, which cost about a fifth of the CPU of a small SSE answer. A chunk is valid until the
 * next one is asked for; other streams are iterated as they are.
 */
export async function* byteChunks(
  stream: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): AsyncGenerator<Uint8Array> {
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = stream.getReader({ mode: "byob" });
  } catch { /* not a byte stream */ }
  const reader = byob ?? stream.getReader();
  // Aborting cancels the stream, which ends the read under way.
  const cancel = () => void reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener("abort", cancel, { once: true });
  let ended = false;
  try {
    let buffer = new ArrayBuffer(READ_BYTES);
    while (!signal?.aborted) {
      const { value, done } = byob
        ? await byob.read(new Uint8Array(buffer))
        : await (reader as ReadableStreamDefaultReader<Uint8Array>).read();
      if (done || !value) {
        ended = true;
        return;
      }
      if (signal?.aborted) return;
      yield value;
      if (byob) buffer = value.buffer as ArrayBuffer;
    }
  } finally {
    signal?.removeEventListener("abort", cancel);
    // An ended stream keeps its reader: releasing one builds an error for its `closed` promise,
    // a tenth of the CPU of a small SSE answer. A stream left early is released for others.
    if (!ended) reader.releaseLock();
  }
}

/** A {@link ByteSink} over a web stream. */
export function streamSink(stream: WritableStream<Uint8Array>): ByteSink {
  const writer = stream.getWriter();
  return {
    write: (bytes) => writer.write(bytes),
    close: () => writer.close().catch(() => {}),
    release: () => writer.releaseLock(),
  };
}

/** A {@link ByteSource} over a web stream. */
export function streamSource(stream: ReadableStream<Uint8Array>): ByteSource {
  const stopped = new AbortController();
  return {
    start(onData, onEnd) {
      (async () => {
        for await (const chunk of byteChunks(stream, stopped.signal)) onData(chunk);
      })().then(() => onEnd(), (error) => onEnd(stopped.signal.aborted ? undefined : error));
    },
    stop() {
      stopped.abort();
    },
  };
}

/** A {@link ByteSink} over a node socket. */
export function socketSink(socket: Socket): ByteSink {
  return {
    write: (bytes) =>
      new Promise((resolve, reject) =>
        socket.write(bytes, (error?: Error | null) => error ? reject(error) : resolve())
      ),
    close: () => new Promise((resolve) => socket.end(() => resolve())),
    release: () => {},
  };
}

/** A {@link ByteSource} over a node socket. */
export function socketSource(socket: Socket): ByteSource {
  return {
    start(onData, onEnd) {
      let ended = false;
      const end = (error?: Error) => {
        if (ended) return;
        ended = true;
        onEnd(error);
      };
      // A plain view: the reader's byte searches run on Uint8Array's own methods, not Buffer's.
      socket.on("data", (chunk: Uint8Array) => {
        onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      });
      socket.once("end", () => end());
      socket.once("close", () => end());
      socket.once("error", (error: Error) => end(error));
    },
    stop() {
      socket.destroy();
    },
  };
}

/** What {@link processStdio} returns; `*Kind` says how each end is read or written. */
export interface ProcessStdio {
  input: ByteSource;
  output: ByteSink;
  inputKind: "socket" | "stream";
  outputKind: "socket" | "stream";
}

/** This process's stdin and stdout; see the module comment. */
export function processStdio(): ProcessStdio {
  const input = isPipe(0) ? openSocket(0, "input") : undefined;
  const output = isPipe(1) ? openSocket(1, "output") : undefined;
  return {
    input: input ? socketSource(input) : streamSource(Deno.stdin.readable),
    output: output ? socketSink(output) : streamSink(Deno.stdout.writable),
    inputKind: input ? "socket" : "stream",
    outputKind: output ? "socket" : "stream",
  };
}

function isPipe(fd: number): boolean {
  if (Deno.build.os === "windows") return false;
  try {
    const info = Deno.statSync(`/dev/fd/${fd}`);
    return info.isFifo === true || info.isSocket === true;
  } catch {
    return false;
  }
}

function openSocket(fd: number, direction: "input" | "output"): Socket | undefined {
  try {
    const input = direction === "input";
    return new Socket({ fd, readable: input, writable: !input });
  } catch {
    return undefined;
  }
}
