/**
 * MCP over a byte stream pair with newline-delimited JSON (the stdio transport), for
 * `gateway --stdio`. It does what the SDK's `StdioServerTransport` does, minus a schema
 * validation of every message (the gateway checks the JSON-RPC shape it routes on), and it
 * notices the input ending, which ends the session. Lines are cut by {@link LineReader} (a
 * line over 10 MiB is reported and skipped), messages written by {@link LineWriter} (one
 * write for those sent while the previous write was under way, always in the order sent).
 */
// @ts-types="@modelcontextprotocol/sdk/shared/transport"
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "./jsonrpc.ts";
import { LineReader, LineWriter } from "./ndjson.ts";

/** Options of {@link StdioSessionTransport}. */
export interface StdioSessionTransportOptions {
  /** Default `Deno.stdin.readable`. */
  input?: ReadableStream<Uint8Array>;
  /** Default `Deno.stdout.writable`. */
  output?: WritableStream<Uint8Array>;
}

/** One MCP session over newline-delimited JSON; see the module comment. */
export class StdioSessionTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T) => void;
  #input: ReadableStream<Uint8Array>;
  #writer: LineWriter;
  #reader?: ReadableStreamDefaultReader<Uint8Array>;
  #closed = false;

  constructor(options: StdioSessionTransportOptions = {}) {
    this.#input = options.input ?? Deno.stdin.readable;
    this.#writer = new LineWriter(options.output ?? Deno.stdout.writable);
  }

  start(): Promise<void> {
    this.#reader = this.#input.getReader();
    this.#read().catch((error) => this.onerror?.(error)).finally(() => this.close());
    return Promise.resolve();
  }

  async #read(): Promise<void> {
    const lines = new LineReader({
      onMessage: (message) => this.onmessage?.(message as JSONRPCMessage),
      onError: (error) => this.onerror?.(error),
    });
    for (;;) {
      const { value, done } = await this.#reader!.read();
      if (done || this.#closed) return;
      lines.push(value);
    }
  }

  send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("the stdio session is closed"));
    return this.#writer.write(message);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#reader?.cancel().catch(() => {});
    this.#writer.release();
    this.onclose?.();
  }
}
