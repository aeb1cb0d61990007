/**
 * The channel between a sandboxed program and its parent (private to this folder). The
 * program has no network permission; its tool calls travel as frames on its own stdout and
 * their replies as lines on its stdin, both owned by the parent.
 *
 * Child side: {@link RELAY_PREAMBLE_SOURCE}, run before the program, installs the relay
 * function the tools module calls. Parent side: {@link RelayDemux} splits the child's stdout
 * into frames and everything else, which passes through unchanged and in order.
 *
 * A frame is `MARKER <json> "\n"`. `JSON.stringify` never emits a raw NUL or newline, so a
 * frame cannot contain another. A program may write a frame itself: it becomes a tool call,
 * which the program could make anyway; it cannot forge a reply (only the parent writes the
 * program's stdin).
 */

/** Starts every frame: a NUL, a name, a NUL (never in a JSON text, rare in any output). */
export const RELAY_MARKER = "\u0000toolscript-relay\u0000";

/** The global symbol under which the preamble installs the relay function. */
export const RELAY_SYMBOL_KEY = "toolscript.relay";

/**
 * Frames longer than this (bytes, after the marker) are not frames: they pass through. The
 * size of the MCP SDK's own limit on a message (4 MB), so a call the gateway would take fits.
 */
export const MAX_FRAME_BYTES = 4 * 1024 * 1024;

/** A tool call as the program sends it. */
export interface RelayCall {
  id: number;
  server: string;
  tool: string;
  /** The name the gateway exposes the tool as (its prefix and filters applied). */
  name: string;
  arguments: Record<string, unknown>;
}

/** What a frame said: a tool call, the preamble's "the program starts now", or nothing. */
export type RelayFrame = { kind: "call"; call: RelayCall } | { kind: "ready" };

/** Parses a frame's JSON; `undefined` when it is no frame of ours (it then passes through). */
export function parseRelayFrame(json: string): RelayFrame | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const frame = value as Record<string, unknown>;
  if (frame.ready === true && Object.keys(frame).length === 1) return { kind: "ready" };
  const { id, server, tool } = frame;
  const name = frame.name ?? `${server}__${tool}`;
  const args = frame.arguments ?? {};
  if (
    typeof id !== "number" || !Number.isSafeInteger(id) || typeof server !== "string" ||
    typeof tool !== "string" || typeof name !== "string" || typeof args !== "object" ||
    args === null || Array.isArray(args)
  ) return undefined;
  return {
    kind: "call",
    call: { id, server, tool, name, arguments: args as Record<string, unknown> },
  };
}

const MARKER_BYTES = new TextEncoder().encode(RELAY_MARKER);
const NEWLINE = 0x0a;

/**
 * Splits a byte stream into frames and the bytes between them. `onOutput` receives every
 * byte that is not part of a frame, in order, as soon as it cannot start a frame; `onFrame`
 * receives each frame's JSON text and its raw bytes (to pass through when the frame turns
 * out not to be ours). Memory is bounded by {@link MAX_FRAME_BYTES}.
 */
export class RelayDemux {
  #pending: Uint8Array = new Uint8Array(0);
  #onOutput: (bytes: Uint8Array) => void;
  #onFrame: (json: string, raw: Uint8Array) => void;
  #decoder = new TextDecoder();

  /** `onOutput` gets non-frame bytes, `onFrame` each complete frame. */
  constructor(
    onOutput: (bytes: Uint8Array) => void,
    onFrame: (json: string, raw: Uint8Array) => void,
  ) {
    this.#onOutput = onOutput;
    this.#onFrame = onFrame;
  }

  /** Feeds the next chunk. */
  push(chunk: Uint8Array): void {
    let buffer = chunk;
    if (this.#pending.length > 0) {
      buffer = new Uint8Array(this.#pending.length + chunk.length);
      buffer.set(this.#pending);
      buffer.set(chunk, this.#pending.length);
    }
    this.#pending = new Uint8Array(0);
    let from = 0;
    for (;;) {
      const nul = buffer.indexOf(MARKER_BYTES[0], from);
      if (nul === -1) {
        this.#emit(buffer.subarray(from));
        return;
      }
      this.#emit(buffer.subarray(from, nul));
      const match = this.#markerAt(buffer, nul);
      if (match === "partial") {
        this.#pending = buffer.slice(nul);
        return;
      }
      if (match === "no") {
        this.#emit(buffer.subarray(nul, nul + 1));
        from = nul + 1;
        continue;
      }
      const body = nul + MARKER_BYTES.length;
      const end = buffer.indexOf(NEWLINE, body);
      if (end === -1) {
        if (buffer.length - body > MAX_FRAME_BYTES) {
          // Too long to be a call of ours: ordinary output from here on.
          this.#emit(buffer.subarray(nul, nul + 1));
          from = nul + 1;
          continue;
        }
        this.#pending = buffer.slice(nul);
        return;
      }
      const raw = buffer.subarray(nul, end + 1);
      this.#onFrame(this.#decoder.decode(buffer.subarray(body, end)), raw);
      from = end + 1;
    }
  }

  /** The stream ended: whatever was held back (a frame never finished) is output. */
  end(): void {
    this.#emit(this.#pending);
    this.#pending = new Uint8Array(0);
  }

  #emit(bytes: Uint8Array): void {
    if (bytes.length > 0) this.#onOutput(bytes);
  }

  #markerAt(buffer: Uint8Array, at: number): "yes" | "no" | "partial" {
    for (let k = 0; k < MARKER_BYTES.length; k++) {
      if (at + k >= buffer.length) return "partial";
      if (buffer[at + k] !== MARKER_BYTES[k]) return "no";
    }
    return "yes";
  }
}

/**
 * The preamble the sandbox runs before the program (TypeScript, type-checked with it). It
 * removes `localStorage` and `caches` (they would write to Deno's cache directory), installs
 * the relay under `Symbol.for("toolscript.relay")` (not writable, not configurable), says
 * "ready" in a frame, and reads replies from stdin. When stdin ends (the parent is gone) the
 * program exits at once. The stdin read does not keep the program alive when no call is
 * waiting: it uses Deno's internal op ref/unref when present; without them it reads only
 * while a call waits for its reply (and a vanished parent is noticed at the next call or by
 * the deadline kill).
 */
export const RELAY_PREAMBLE_SOURCE = String.raw`// Generated by toolscript: runs before the program.
for (const name of ["localStorage", "caches"]) Reflect.deleteProperty(globalThis, name);

interface RelayCore {
  read(rid: number, buffer: Uint8Array): Promise<number>;
  refOpPromise(promise: Promise<unknown>): void;
  unrefOpPromise(promise: Promise<unknown>): void;
}
interface RelayReply {
  id?: unknown;
  result?: unknown;
  error?: unknown;
}

const relayMarker = ${JSON.stringify(RELAY_MARKER)};
const relayExit = Deno.exit;
const relayStdout = Deno.stdout;
const relayStdin = Deno.stdin;
const relayEncoder = new TextEncoder();
const relayDecoder = new TextDecoder();
const relayCore = ((): RelayCore | undefined => {
  const key = Object.getOwnPropertySymbols(Deno).find((s) => s.description === "Deno.internal");
  const core = key === undefined
    ? undefined
    : (Deno as unknown as Record<symbol, { core?: Partial<RelayCore> } | undefined>)[key]?.core;
  return typeof core?.read === "function" && typeof core.refOpPromise === "function" &&
      typeof core.unrefOpPromise === "function"
    ? core as RelayCore
    : undefined;
})();
const relayWaiting = new Map<number, PromiseWithResolvers<unknown>>();
const relayBuffer = new Uint8Array(64 * 1024);
let relayLastId = 0;
let relayRead: Promise<number> | undefined;
let relayReading = false;
let relayText = "";

function relayWrite(text: string): void {
  const bytes = relayEncoder.encode(text);
  for (let offset = 0; offset < bytes.length;) {
    offset += relayStdout.writeSync(bytes.subarray(offset));
  }
}

function relayRef(): void {
  if (relayCore === undefined || relayRead === undefined) return;
  if (relayWaiting.size > 0) relayCore.refOpPromise(relayRead);
  else relayCore.unrefOpPromise(relayRead);
}

function relayDispatch(line: string): void {
  let reply: RelayReply;
  try {
    reply = JSON.parse(line);
  } catch {
    return;
  }
  const waiting = typeof reply.id === "number" ? relayWaiting.get(reply.id) : undefined;
  if (waiting === undefined) return;
  relayWaiting.delete(reply.id as number);
  if (typeof reply.error === "string") waiting.reject(new Error(reply.error));
  else waiting.resolve(reply.result);
}

async function relayReadLoop(): Promise<void> {
  relayReading = true;
  try {
    while (relayCore !== undefined || relayWaiting.size > 0) {
      const read = relayCore !== undefined
        ? relayCore.read(0, relayBuffer)
        : relayStdin.read(relayBuffer).then((n) => n ?? 0);
      relayRead = read;
      relayRef();
      let count = 0;
      try {
        count = await read;
      } catch {
        count = 0;
      }
      relayRead = undefined;
      // The parent closed our stdin: it is gone, and so is every reply.
      if (count === 0) relayExit(1);
      relayText += relayDecoder.decode(relayBuffer.subarray(0, count), { stream: true });
      const lines = relayText.split("\n");
      relayText = lines.pop() ?? "";
      for (const line of lines) relayDispatch(line);
    }
  } finally {
    relayReading = false;
  }
}

function relay(server: string, tool: string, args: unknown, name: string): Promise<unknown> {
  const id = ++relayLastId;
  const frame = JSON.stringify({ id, server, tool, name, arguments: args ?? {} });
  const waiting = Promise.withResolvers<unknown>();
  relayWaiting.set(id, waiting);
  relayWrite(relayMarker + frame + "\n");
  if (!relayReading) void relayReadLoop();
  else relayRef();
  return waiting.promise;
}

Object.defineProperty(globalThis, Symbol.for(${JSON.stringify(RELAY_SYMBOL_KEY)}), {
  value: relay,
  writable: false,
  configurable: false,
  enumerable: false,
});
relayWrite(relayMarker + JSON.stringify({ ready: true }) + "\n");
if (relayCore !== undefined) void relayReadLoop();

export {};
`;
