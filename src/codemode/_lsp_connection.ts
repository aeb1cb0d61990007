/**
 * A JSON-RPC connection to a language server child process over stdio, with LSP's
 * `Content-Length` framing (private to this folder). Requests the server makes of the client
 * are answered: `workspace/configuration` with the settings given at spawn, anything else with
 * `null`. Notifications from the server are ignored.
 */

/** Options of {@link LspConnection.spawn}. */
export interface LspSpawnOptions {
  args: string[];
  cwd: string;
  /** The whole environment of the child (the parent's is cleared). */
  env: Record<string, string>;
  /** Settings answered to every `workspace/configuration` item. */
  settings?: unknown;
  /** Called once the child has exited (e.g. to remove its directory). */
  onRemove?: () => Promise<unknown>;
}

/** Largest message accepted from the server. */
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** One language server child and its pending requests. */
export class LspConnection {
  /** The child's process id. */
  readonly pid: number;
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #nextId = 0;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #alive = true;
  #exited: Promise<void>;
  #settings: unknown;

  private constructor(child: Deno.ChildProcess, options: LspSpawnOptions) {
    this.#child = child;
    this.pid = child.pid;
    this.#writer = child.stdin.getWriter();
    this.#settings = options.settings ?? { enable: true, lint: false, cacheOnSave: false };
    const reading = this.#read().catch(() => {});
    this.#exited = Promise.all([child.status, reading]).then(async () => {
      this.#fail(new Error("The language server exited"));
      await options.onRemove?.();
    });
  }

  /** Spawns `command` with `options` (stdin and stdout piped, stderr discarded). */
  static spawn(command: string, options: LspSpawnOptions): LspConnection {
    const child = new Deno.Command(command, {
      args: options.args,
      cwd: options.cwd,
      env: options.env,
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    // Idle, the server keeps no process alive (it exits when its stdin closes); a request
    // in flight does.
    child.unref();
    return new LspConnection(child, options);
  }

  /** False once the child exited or the connection failed. */
  get alive(): boolean {
    return this.#alive;
  }

  /** Sends a request; rejects when `signal` aborts or the server dies first. */
  request(method: string, params: unknown, signal: AbortSignal): Promise<unknown> {
    if (!this.#alive) return Promise.reject(new Error("The language server exited"));
    signal.throwIfAborted();
    const id = ++this.#nextId;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const pending = this.#pending.get(id);
        this.#pending.delete(id);
        pending?.reject(signal.reason);
      };
      const settle = () => {
        signal.removeEventListener("abort", onAbort);
        if (this.#pending.size === 0) this.#child.unref();
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#child.ref();
      this.#pending.set(id, {
        resolve: (value) => {
          settle();
          resolve(value);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      });
      this.#send({ jsonrpc: "2.0", id, method, params });
    });
  }

  /** Sends a notification. */
  notify(method: string, params: unknown): void {
    this.#send({ jsonrpc: "2.0", method, params });
  }

  #send(message: unknown): void {
    if (!this.#alive) return;
    const body = new TextEncoder().encode(JSON.stringify(message));
    const head = new TextEncoder().encode(`Content-Length: ${body.length}\r\n\r\n`);
    const frame = new Uint8Array(head.length + body.length);
    frame.set(head);
    frame.set(body, head.length);
    this.#writer.write(frame).catch((error) => this.#fail(error));
  }

  async #read(): Promise<void> {
    let buffer = new Uint8Array(0);
    const decoder = new TextDecoder();
    for await (const chunk of this.#child.stdout) {
      const joined = new Uint8Array(buffer.length + chunk.length);
      joined.set(buffer);
      joined.set(chunk, buffer.length);
      buffer = joined;
      while (true) {
        const headerEnd = indexOfHeaderEnd(buffer);
        if (headerEnd < 0) break;
        const header = decoder.decode(buffer.subarray(0, headerEnd));
        const length = Number(/content-length:\s*(\d+)/i.exec(header)?.[1] ?? NaN);
        if (!Number.isSafeInteger(length) || length > MAX_MESSAGE_BYTES) {
          throw new Error("Bad message framing from the language server");
        }
        const start = headerEnd + 4;
        if (buffer.length < start + length) break;
        const message = JSON.parse(decoder.decode(buffer.subarray(start, start + length)));
        buffer = buffer.slice(start + length);
        this.#dispatch(message);
      }
    }
  }

  #dispatch(message: {
    id?: number | string;
    method?: string;
    params?: { items?: unknown[] };
    result?: unknown;
    error?: { message?: string };
  }): void {
    if (message.method !== undefined) {
      if (message.id === undefined) return;
      const result = message.method === "workspace/configuration"
        ? (message.params?.items ?? []).map(() => this.#settings)
        : null;
      this.#send({ jsonrpc: "2.0", id: message.id, result });
      return;
    }
    if (typeof message.id !== "number") return;
    const pending = this.#pending.get(message.id);
    if (pending === undefined) return;
    this.#pending.delete(message.id);
    if (message.error) pending.reject(new Error(message.error.message ?? "LSP error"));
    else pending.resolve(message.result);
  }

  #fail(error: Error): void {
    this.#alive = false;
    const all = [...this.#pending.values()];
    this.#pending.clear();
    for (const pending of all) pending.reject(error);
  }

  /** Kills the child and waits for it (and its cleanup). */
  async close(): Promise<void> {
    this.#fail(new Error("The language server was stopped"));
    this.#child.ref();
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await this.#writer.close().catch(() => {});
    await this.#exited;
  }
}

/** Index of the `\r\n\r\n` ending a message's header, or -1. */
function indexOfHeaderEnd(buffer: Uint8Array): number {
  for (let i = 0; i + 3 < buffer.length; i++) {
    if (buffer[i] === 13 && buffer[i + 1] === 10 && buffer[i + 2] === 13 && buffer[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}
