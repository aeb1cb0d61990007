/**
 * Byte sources and sinks for the stdio transports: web streams, node sockets, and this
 * process's own stdin and stdout.
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
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  return {
    start(onData, onEnd) {
      const active = reader = stream.getReader();
      (async () => {
        for (;;) {
          const { value, done } = await active.read();
          if (done) return;
          onData(value);
        }
      })().then(() => onEnd(), (error) => onEnd(error));
    },
    stop() {
      reader?.cancel().catch(() => {});
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
