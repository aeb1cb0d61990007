/**
 * MCP over a byte stream pair with newline-delimited JSON (the stdio transport), for
 * `gateway --stdio`. It does what the SDK's `StdioServerTransport` does, minus a schema
 * validation of every message (the gateway checks the JSON-RPC shape it routes on), and it
 * notices the input ending, which ends the session. Messages sent while a write is under way
 * go out together in the next one: one write per message when calls come one at a time, fewer
 * than one per message under load, always in the order sent.
 */
// @ts-types="@modelcontextprotocol/sdk/shared/transport"
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "./jsonrpc.ts";

const ENCODER = new TextEncoder();

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
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #reader?: ReadableStreamDefaultReader<Uint8Array>;
  #closed = false;
  /** Serialized messages waiting for the write under way to finish. */
  #queue: string[] = [];
  /** The write loop while it runs; every queued message's `send` resolves with it. */
  #writing?: Promise<void>;

  constructor(options: StdioSessionTransportOptions = {}) {
    this.#input = options.input ?? Deno.stdin.readable;
    this.#writer = (options.output ?? Deno.stdout.writable).getWriter();
  }

  start(): Promise<void> {
    this.#reader = this.#input.getReader();
    this.#read().catch((error) => this.onerror?.(error)).finally(() => this.close());
    return Promise.resolve();
  }

  async #read(): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await this.#reader!.read();
      if (done || this.#closed) return;
      buffer += decoder.decode(value, { stream: true });
      // Lines are cut from where the last one ended, and the rest kept once per chunk.
      let start = 0;
      let newline;
      while ((newline = buffer.indexOf("\n", start)) >= 0) {
        const line = buffer.slice(start, newline).trim();
        start = newline + 1;
        if (!line) continue;
        let message: unknown;
        try {
          message = JSON.parse(line);
        } catch (error) {
          this.onerror?.(error as Error);
          continue;
        }
        if (message !== null && typeof message === "object") {
          this.onmessage?.(message as JSONRPCMessage);
        }
      }
      if (start > 0) buffer = buffer.slice(start);
    }
  }

  send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("the stdio session is closed"));
    this.#queue.push(JSON.stringify(message));
    return this.#writing ??= this.#drain();
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const lines = this.#queue;
        this.#queue = [];
        await this.#writer.write(ENCODER.encode(lines.join("\n") + "\n"));
      }
    } finally {
      this.#writing = undefined;
      this.#queue = [];
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#reader?.cancel().catch(() => {});
    this.#writer.releaseLock();
    this.onclose?.();
  }
}
