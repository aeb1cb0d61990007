/**
 * The client side of MCP over stdio: spawns the server as a child process and speaks
 * newline-delimited JSON-RPC on its stdin and stdout. It replaces the SDK's
 * `StdioClientTransport` on the gateway's hot path: one write for the messages sent while the
 * previous write was under way, lines cut from bytes scanned once ({@link LineReader}), and
 * no schema validation of every message (the SDK `Client` checks the answers it consumes, the
 * gateway's forwarded answers are checked by the client they go to).
 *
 * What it keeps from the SDK's: the child gets only a short list of safe variables from our
 * environment (`HOME`, `LOGNAME`, `PATH`, `SHELL`, `TERM`, `USER`) plus the configured `env`;
 * stderr is read line by line and handed to `onStderrLine`; a line over 10 MiB is an error
 * that closes the connection; `close()` ends the child's stdin, then sends SIGTERM after a
 * grace period, then SIGKILL. A child that exits on its own is reported through `onerror`
 * (its exit code or signal), then `onclose`.
 */
// @ts-types="@modelcontextprotocol/sdk/shared/transport"
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "./jsonrpc.ts";
import { LineReader, LineWriter, MAX_LINE_BYTES } from "./ndjson.ts";
import { byteChunks, streamSink } from "./byte_pipes.ts";

/** The variables of our environment a child inherits (the SDK's list, after sudo's). */
export const INHERITED_ENV_VARIABLES = ["HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER"];

/** How long `close()` waits for the child after each step before the next, by default. */
const CLOSE_GRACE_MS = 2000;

/** After the child exited, how long its pipes may stay open (a grandchild holding them). */
const DRAIN_AFTER_EXIT_MS = 1000;

/** Options of {@link StdioChildTransport}. */
export interface StdioChildTransportOptions {
  command: string;
  args?: string[];
  /** Set over the inherited variables. */
  env?: Record<string, string>;
  cwd?: string;
  /** Each non-empty line the child writes to stderr. */
  onStderrLine?: (line: string) => void;
  /** Default {@link MAX_LINE_BYTES}. */
  maxLineBytes?: number;
  /** Wait after closing stdin, and again after SIGTERM; default 2000 ms. */
  closeGraceMs?: number;
  /** Where inherited variables come from; default `Deno.env.get`. */
  getEnv?: (name: string) => string | undefined;
}

/** The environment of a child: the inherited safe variables, then `env` over them. */
export function childEnvironment(
  env: Record<string, string> | undefined,
  getEnv: (name: string) => string | undefined = (name) => Deno.env.get(name),
): Record<string, string> {
  const result: Record<string, string> = {};
  for (const name of INHERITED_ENV_VARIABLES) {
    const value = getEnv(name);
    // A shell function exported in the environment is no variable to pass on.
    if (value !== undefined && !value.startsWith("()")) result[name] = value;
  }
  return { ...result, ...env };
}

/** One MCP connection to a child process; see the module comment. */
export class StdioChildTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T) => void;
  readonly #options: StdioChildTransportOptions;
  #child?: Deno.ChildProcess;
  #writer?: LineWriter;
  #closing?: Promise<void>;
  #closed = false;

  constructor(options: StdioChildTransportOptions) {
    this.#options = options;
  }

  /** The child's process id once started. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Spawns the child; rejects when it cannot be started (no such command, no permission). */
  start(): Promise<void> {
    if (this.#child) return Promise.reject(new Error("the stdio transport was started already"));
    const options = this.#options;
    try {
      this.#child = new Deno.Command(options.command, {
        args: options.args ?? [],
        env: childEnvironment(options.env, options.getEnv),
        clearEnv: true,
        cwd: options.cwd,
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return Promise.reject(
        new Error(`cannot start "${options.command}": ${reason}`, { cause: error }),
      );
    }
    const child = this.#child;
    this.#writer = new LineWriter(streamSink(child.stdin));
    const reading = this.#readStdout(child.stdout).catch((error) => this.#report(error));
    const stderr = this.#readStderr(child.stderr).catch(() => {});
    void this.#watchExit(child, Promise.all([reading, stderr]));
    return Promise.resolve();
  }

  send(message: JSONRPCMessage): Promise<void> {
    if (!this.#writer || this.#closing) return Promise.reject(new Error("Not connected"));
    return this.#writer.write(message);
  }

  /** Stops the child: EOF on its stdin, then SIGTERM, then SIGKILL, each after the grace. */
  close(): Promise<void> {
    return this.#closing ??= this.#stop();
  }

  async #stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    const graceMs = this.#options.closeGraceMs ?? CLOSE_GRACE_MS;
    await this.#writer?.close();
    for (const signal of ["SIGTERM", "SIGKILL"] as const) {
      if (await exitsWithin(child, graceMs)) break;
      try {
        child.kill(signal);
      } catch { /* exited meanwhile */ }
    }
    await child.status;
  }

  async #readStdout(stdout: ReadableStream<Uint8Array>): Promise<void> {
    const lines = new LineReader({
      onMessage: (message) => this.onmessage?.(message as JSONRPCMessage),
      onError: (error) => {
        this.#report(error);
        // The SDK's behaviour: a line over the limit ends the connection.
        if (error.name === "LineTooLongError") void this.close();
      },
    }, this.#options.maxLineBytes ?? MAX_LINE_BYTES);
    for await (const chunk of byteChunks(stdout)) lines.push(chunk);
  }

  async #readStderr(stderr: ReadableStream<Uint8Array>): Promise<void> {
    const onLine = this.#options.onStderrLine;
    let rest = "";
    for await (const text of stderr.pipeThrough(new TextDecoderStream())) {
      if (!onLine) continue;
      const lines = (rest + text).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) if (line.trim()) onLine(line.replace(/\r$/, ""));
      // A line that never ends is still reported, in pieces, without growing without bound.
      if (rest.length > 64 * 1024) {
        onLine(rest);
        rest = "";
      }
    }
    if (rest.trim()) onLine?.(rest);
  }

  async #watchExit(child: Deno.ChildProcess, pipes: Promise<unknown>): Promise<void> {
    const status = await child.status;
    // Its last words (an answer, stderr lines) come before the close, unless a grandchild
    // keeps the pipes open.
    await raceTimeout(pipes, DRAIN_AFTER_EXIT_MS);
    if (!this.#closing) {
      const how = status.signal
        ? `was killed by ${status.signal}`
        : `exited with code ${status.code}`;
      this.#report(new Error(`the server process ${how}`));
      this.#closing = Promise.resolve();
    }
    this.#closed = true;
    this.onclose?.();
  }

  #report(error: unknown): void {
    if (this.#closed) return;
    this.onerror?.(error instanceof Error ? error : new Error(String(error)));
  }
}

/** True when the child exits within `ms`. */
async function exitsWithin(child: Deno.ChildProcess, ms: number): Promise<boolean> {
  return await raceTimeout(child.status.then(() => true), ms) ?? false;
}

/** `promise`'s value, or undefined after `ms`. */
async function raceTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
