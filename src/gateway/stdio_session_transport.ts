/**
 * MCP over a byte stream pair with newline-delimited JSON (the stdio transport), for
 * `gateway --stdio`. It does what the SDK's `StdioServerTransport` does, minus a schema
 * validation of every message (the gateway checks the JSON-RPC shape it routes on), and it
 * notices the input ending, which ends the session. Lines are cut by {@link LineReader} (a
 * line over 10 MiB is reported and skipped), messages written by {@link LineWriter} (one
 * write for those sent while the previous write was under way, always in the order sent).
 * By default it speaks on this process's stdin and stdout ({@link processStdio}: sockets on
 * the event loop when they are pipes).
 */
// @ts-types="@modelcontextprotocol/sdk/shared/transport"
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "./jsonrpc.ts";
import { LineReader, LineWriter } from "./ndjson.ts";
import {
  type ByteSink,
  type ByteSource,
  processStdio,
  streamSink,
  streamSource,
} from "./byte_pipes.ts";

/** Options of {@link StdioSessionTransport}; without both, this process's stdin and stdout. */
export interface StdioSessionTransportOptions {
  input?: ReadableStream<Uint8Array>;
  output?: WritableStream<Uint8Array>;
}

/** One MCP session over newline-delimited JSON; see the module comment. */
export class StdioSessionTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T) => void;
  #input: ByteSource;
  #output: ByteSink;
  #writer: LineWriter;
  #closed = false;

  constructor(options: StdioSessionTransportOptions = {}) {
    const own = !options.input || !options.output ? processStdio() : undefined;
    this.#input = options.input ? streamSource(options.input) : own!.input;
    this.#output = options.output ? streamSink(options.output) : own!.output;
    this.#writer = new LineWriter(this.#output);
  }

  start(): Promise<void> {
    const lines = new LineReader({
      onMessage: (message) => {
        if (!this.#closed) this.onmessage?.(message as JSONRPCMessage);
      },
      onError: (error) => this.onerror?.(error),
    });
    this.#input.start((chunk) => lines.push(chunk), (error) => {
      if (error && !this.#closed) this.onerror?.(error);
      void this.close();
    });
    return Promise.resolve();
  }

  send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("the stdio session is closed"));
    return this.#writer.write(message);
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#input.stop();
    this.#output.release();
    this.onclose?.();
    return Promise.resolve();
  }
}
