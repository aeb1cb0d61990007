/**
 * Runs a code-mode program in a locked-down Deno process: type-checked first, with no
 * permission at all (no network, file, environment, subprocess, FFI or system access), its
 * tool calls relayed through its own stdin and stdout to the caller, who makes them.
 */
import { delimiter, join } from "node:path";
import { pathToFileURL } from "node:url";
// @ts-types="@modelcontextprotocol/sdk/types"
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { restoreRefused } from "./_module_graph.ts";
import { parseRelayFrame, type RelayCall, RelayDemux } from "./_relay.ts";
import { openRunDir } from "./_run_dir.ts";
import type { ProgramChecker } from "./warm_checker.ts";

/** Makes one tool call of the program: `server`'s tool `tool` with `args`. */
export type SandboxCallTool = (
  /** The gateway's name for the tool (`<prefix>__<tool>`), as the tools module knows it. */
  name: string,
  args: Record<string, unknown>,
  signal: AbortSignal,
) => Promise<CallToolResult>;

/** Options of {@link runSandboxed}. */
export interface SandboxOptions {
  /**
   * Source of the module `import ... from "toolscript"` resolves to: the tools module (see
   * `generateToolsModule`). Inside the sandbox its functions call {@link callTool}.
   */
  toolsModule: string;
  /**
   * Makes a tool call for the program. The result goes back as is (`isError` results
   * become a `ToolError` in the program); a rejection reaches the program as a `ToolError`
   * with the error's message, so the message must hold no secret. `signal` is aborted when
   * the program ends, times out or the run is aborted.
   */
  callTool: SandboxCallTool;
  /**
   * Kill the program (SIGKILL) when it has run this long. Type-checking and loading come
   * before and do not count; they are bounded by {@link checkTimeoutMs}.
   */
  timeoutMs: number;
  /**
   * Kill the process (SIGKILL) when type-checking and loading the program take longer than
   * this; default {@link DEFAULT_CHECK_TIMEOUT_MS}.
   */
  checkTimeoutMs?: number;
  /**
   * A private directory (made 0700 when missing; refused when it is a link or another user's)
   * in which runs keep reusable directories, so that Deno's type-check cache spares
   * re-checking an unchanged tools module (see `_run_dir.ts` and {@link sandboxRunRoot});
   * default none: every run gets a fresh temporary directory.
   */
  runRoot?: string;
  /**
   * The parent's environment. Only what Deno itself needs to find its cache and print
   * (see {@link SANDBOX_ENV_NAMES}) and `PATH` (to find `sh` and `timeout`) are read; the
   * program gets the former and cannot read even that.
   */
  env: (name: string) => string | undefined;
  /** Receives the program's stdout (UTF-8 text, in order) as it is written. */
  stdout: (text: string) => void;
  /** Receives the program's stderr (and the compiler's diagnostics) as it is written. */
  stderr: (text: string) => void;
  /** Aborting kills the program and rejects with `signal.reason`. */
  signal?: AbortSignal;
  /**
   * A warm type-checker asked first (see `WarmChecker`): a program it finds clean runs with
   * `--no-check`; on any other verdict the run type-checks as without it, so diagnostics are
   * always `deno check`'s own. Default none.
   */
  checker?: ProgramChecker;
  /** The Deno executable; defaults to `Deno.execPath()`. */
  denoPath?: string;
  /** V8 heap cap (`--max-old-space-size`), MiB; default {@link DEFAULT_SANDBOX_HEAP_MIB}. */
  heapMiB?: number;
  /**
   * Cap of the process's data segment (`RLIMIT_DATA`: heap, ArrayBuffers, everything
   * allocated), MiB; default {@link DEFAULT_SANDBOX_DATA_MIB}. V8 itself needs about 1 GiB.
   */
  dataMiB?: number;
}

/** How a sandboxed run ended. */
export type SandboxOutcome =
  /** The program ran (or failed type-checking) and exited with `code`. */
  | { kind: "exited"; code: number }
  /**
   * Killed: it ran past the timeout (`run`), or type-checking and loading took longer than
   * their own bound (`check`; no line of the program ran).
   */
  | { kind: "timed_out"; phase: "check" | "run" }
  /** The program imports something other than `toolscript`; it did not run. */
  | { kind: "rejected"; imports: string[] };

/** Default {@link SandboxOptions.checkTimeoutMs}. */
export const DEFAULT_CHECK_TIMEOUT_MS = 30_000;
/** Default {@link SandboxOptions.heapMiB}. */
export const DEFAULT_SANDBOX_HEAP_MIB = 1024;
/** Default {@link SandboxOptions.dataMiB}. */
export const DEFAULT_SANDBOX_DATA_MIB = 3072;
/** Calls one program may have waiting at once; more get an error reply. */
export const MAX_CONCURRENT_CALLS = 64;

/** Environment variables passed to the sandboxed Deno (never readable by the program). */
export const SANDBOX_ENV_NAMES: readonly string[] = [
  "DENO_DIR",
  "HOME",
  "XDG_CACHE_HOME",
  "LOCALAPPDATA",
  "USERPROFILE",
  "SystemRoot",
  "DENO_CERT",
  "DENO_TLS_CA_STORE",
];

/**
 * Runs `code` as a TypeScript module in which `import { tools } from "toolscript"` resolves
 * to `options.toolsModule`, and relays its tool calls to `options.callTool`.
 *
 * The program, the module, a preamble, an import map and the compiler options are written to
 * the run's directory (a reused slot under `options.runRoot`, else a fresh temporary one; see
 * `_run_dir.ts`). The program runs under `deno run --check --no-prompt --no-remote --no-npm`
 * with no `--allow-*` flag and a cleared environment: a type error prints the compiler's
 * diagnostics and exits 1 before any line of the program runs. The
 * import map refuses every module but the run's own, at load time and at run time (a
 * refused static import gives outcome `rejected`). Its stdout is split into relay frames
 * (tool calls, answered on its stdin) and output, which passes through in order.
 *
 * The timeout counts from the moment the program starts (the preamble's "ready" frame);
 * type-checking and loading before it have their own bound, `checkTimeoutMs`.
 *
 * Limits that hold even if the caller's process dies: the program exits when its stdin
 * closes, and on Unix it runs under `sh` with `ulimit -d` (data segment) and, when coreutils
 * `timeout` is on `PATH`, under `timeout -s KILL` at the latest deadline (both bounds added);
 * V8's heap is capped too.
 *
 * @throws the abort reason when `options.signal` is aborted (the program is killed first).
 * @example
 * ```ts ignore
 * const outcome = await runSandboxed(`import { tools } from "toolscript"; console.log(1);`, {
 *   toolsModule, timeoutMs: 60_000, env: Deno.env.get, stdout: console.log, stderr: console.error,
 *   callTool: (name, args, signal) => gateway.callTool(name, args, signal),
 * });
 * ```
 */
export async function runSandboxed(code: string, options: SandboxOptions): Promise<SandboxOutcome> {
  options.signal?.throwIfAborted();
  const checkTimeoutMs = options.checkTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const [verdict, files] = await Promise.all([
    options.checker?.check(code, options.toolsModule, options.signal) ?? "unsure",
    openRunDir(code, options.toolsModule, options.runRoot),
  ]);
  await using _files = files;
  options.signal?.throwIfAborted();
  const dir = files.dir;
  const calls = new AbortController();
  const checked = verdict === "clean";
  const command = await sandboxCommand(files, checked, checkTimeoutMs + options.timeoutMs, options);
  const child = new Deno.Command(command.path, {
    args: command.args,
    cwd: dir,
    env: sandboxEnv(options.env),
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const startedAt = performance.now();
  let timedOut: "check" | "run" | undefined;
  const kill = () => killTree(child, command.ownGroup);
  const deadline = (phase: "check" | "run", ms: number) =>
    setTimeout(() => {
      timedOut = phase;
      kill();
    }, ms);
  let timer = deadline("check", checkTimeoutMs);
  options.signal?.addEventListener("abort", kill);
  const onReady = () => {
    clearTimeout(timer);
    timer = deadline("run", options.timeoutMs);
  };
  const relay = new CallRelay(child.stdin, options.callTool, calls.signal, onReady);
  const refused = new Set<string>();
  let status: Deno.CommandStatus;
  try {
    [status] = await Promise.all([
      child.status,
      pumpStdout(child.stdout, options.stdout, relay),
      pumpStderr(child.stderr, options.stderr, dir, (s) => refused.add(s)),
    ]);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", kill);
    calls.abort();
    await relay.close();
  }
  options.signal?.throwIfAborted();
  if (timedOut !== undefined) return { kind: "timed_out", phase: timedOut };
  // The independent `timeout` may fire a moment before our own timer does.
  if (
    status.signal === "SIGKILL" &&
    performance.now() - startedAt >= checkTimeoutMs + options.timeoutMs - 250
  ) return { kind: "timed_out", phase: relay.ready ? "run" : "check" };
  if (status.code !== 0 && !relay.ready && refused.size > 0) {
    return { kind: "rejected", imports: [...refused].sort() };
  }
  return { kind: "exited", code: status.code };
}

/**
 * The run root (see {@link SandboxOptions.runRoot}) of this user: `toolscript-exec-<uid>` in
 * the temporary directory (`TMPDIR`, `TEMP` or `TMP` from `env`, else `/tmp` on Unix). Its
 * directories are scratch that speeds up the next run, not data: the temporary directory is
 * where they belong. Undefined when there is no temporary directory to name.
 */
export function sandboxRunRoot(env: (name: string) => string | undefined): string | undefined {
  const tmp = env("TMPDIR") || env("TEMP") || env("TMP") ||
    (Deno.build.os === "windows" ? undefined : "/tmp");
  if (tmp === undefined) return undefined;
  return join(tmp, `toolscript-exec-${Deno.uid() ?? "user"}`);
}

/** What a {@link SandboxOutcome} of kind `timed_out` says to the user. */
export function timedOutMessage(phase: "check" | "run", timeoutMs: number): string {
  return phase === "run"
    ? `The program ran past ${timeoutMs / 1000} s and was stopped`
    : `Type-checking the program took longer than ${DEFAULT_CHECK_TIMEOUT_MS / 1000} s; ` +
      `it did not run`;
}

/** Picks {@link SANDBOX_ENV_NAMES} from `env`, turns off colours and the update check. */
function sandboxEnv(env: (name: string) => string | undefined): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of SANDBOX_ENV_NAMES) {
    const value = env(name);
    if (value !== undefined && value !== "") picked[name] = value;
  }
  // Output goes to a pipe and often to a model: no colours. No update check either.
  return { ...picked, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };
}

interface SandboxCommand {
  path: string;
  args: string[];
  /** The child leads its own process group (`timeout` makes one): kill the group. */
  ownGroup: boolean;
}

/**
 * `deno run …`, on Unix wrapped as `sh -c 'ulimit -d KiB; exec "$@"' sh [timeout -s KILL S]
 * deno run …` so that the memory cap and the deadline do not depend on this process.
 */
async function sandboxCommand(
  files: { entry: string; importMap: string; config: string },
  checked: boolean,
  deadlineMs: number,
  options: SandboxOptions,
): Promise<SandboxCommand> {
  const denoPath = options.denoPath ?? Deno.execPath();
  const heapMiB = options.heapMiB ?? DEFAULT_SANDBOX_HEAP_MIB;
  const deno = [
    denoPath,
    "run",
    "--quiet",
    // Checked already by the warm checker, against these very files' sources.
    checked ? "--no-check" : "--check",
    "--no-prompt",
    "--config",
    files.config,
    "--no-lock",
    "--no-remote",
    "--no-npm",
    `--v8-flags=--max-old-space-size=${heapMiB}`,
    "--import-map",
    files.importMap,
    files.entry,
  ];
  if (Deno.build.os === "windows") return { path: deno[0], args: deno.slice(1), ownGroup: false };
  const shell = await findExecutable("sh", options.env, ["/bin/sh"]);
  const timeout = await findExecutable("timeout", options.env, []);
  if (shell === undefined) return { path: deno[0], args: deno.slice(1), ownGroup: false };
  const dataKiB = (options.dataMiB ?? DEFAULT_SANDBOX_DATA_MIB) * 1024;
  // A limit above the hard limit cannot be set; the lower hard limit then applies.
  const script = `ulimit -d ${dataKiB} 2>/dev/null; exec "$@"`;
  const seconds = (deadlineMs / 1000).toFixed(3);
  const killer = timeout === undefined ? [] : [timeout, "-s", "KILL", seconds];
  return {
    path: shell,
    args: ["-c", script, "toolscript-sandbox", ...killer, ...deno],
    ownGroup: timeout !== undefined,
  };
}

/** The first `name` on `PATH` (then `fallbacks`) that is a file. */
async function findExecutable(
  name: string,
  env: (name: string) => string | undefined,
  fallbacks: string[],
): Promise<string | undefined> {
  const dirs = (env("PATH") ?? "").split(delimiter).filter(Boolean);
  for (const candidate of [...dirs.map((dir) => join(dir, name)), ...fallbacks]) {
    const info = await Deno.stat(candidate).catch(() => undefined);
    if (info?.isFile) return candidate;
  }
  return undefined;
}

/** SIGKILLs the child and, when it leads one, its process group (the Deno under `timeout`). */
function killTree(child: Deno.ChildProcess, ownGroup: boolean): void {
  if (ownGroup) {
    try {
      Deno.kill(-child.pid, "SIGKILL");
      return;
    } catch {
      // No group yet (timeout has not called setpgid): the child alone is enough.
    }
  }
  try {
    child.kill("SIGKILL");
  } catch {
    // Already exited.
  }
}

/**
 * Answers the program's relay frames: each call goes to `callTool`, its result or error back
 * as one JSON line on the program's stdin. Calls run concurrently, at most
 * {@link MAX_CONCURRENT_CALLS} at once.
 */
class CallRelay {
  /** The preamble said the program starts now (so it passed type-checking and loading). */
  ready = false;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #callTool: SandboxCallTool;
  #signal: AbortSignal;
  #inFlight = new Set<Promise<void>>();
  #encoder = new TextEncoder();
  #onReady: () => void;

  /** `onReady` is called once, at the preamble's "ready" frame. */
  constructor(
    stdin: WritableStream<Uint8Array>,
    callTool: SandboxCallTool,
    signal: AbortSignal,
    onReady: () => void,
  ) {
    this.#writer = stdin.getWriter();
    this.#callTool = callTool;
    this.#signal = signal;
    this.#onReady = onReady;
  }

  /** Handles a frame's JSON; false when it was no frame of ours (it is output then). */
  handle(json: string): boolean {
    const frame = parseRelayFrame(json);
    if (frame === undefined) return false;
    if (frame.kind === "ready") {
      // Only the preamble's first frame counts: a program cannot restart its deadline.
      if (!this.ready) this.#onReady();
      this.ready = true;
      return true;
    }
    if (this.#inFlight.size >= MAX_CONCURRENT_CALLS) {
      this.#reply(frame.call.id, {
        error: `Too many tool calls at once (at most ${MAX_CONCURRENT_CALLS})`,
      });
      return true;
    }
    const running = this.#call(frame.call).finally(() => this.#inFlight.delete(running));
    this.#inFlight.add(running);
    return true;
  }

  async #call(call: RelayCall): Promise<void> {
    try {
      const result = await this.#callTool(call.name, call.arguments, this.#signal);
      this.#reply(call.id, { result });
    } catch (error) {
      this.#reply(call.id, { error: error instanceof Error ? error.message : String(error) });
    }
  }

  #reply(id: number, body: { result?: unknown; error?: string }): void {
    if (this.#signal.aborted) return;
    const line = JSON.stringify({ id, ...body }) + "\n";
    // A program that exited cannot read: a failed write is nobody's loss.
    this.#writer.write(this.#encoder.encode(line)).catch(() => {});
  }

  /** Waits for the calls still running (their signal is aborted by now), closes stdin. */
  async close(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    await this.#writer.close().catch(() => {});
  }
}

/** Splits the child's stdout into relay frames (to `relay`) and text (to `write`). */
async function pumpStdout(
  stream: ReadableStream<Uint8Array>,
  write: (text: string) => void,
  relay: CallRelay,
): Promise<void> {
  const decoder = new TextDecoder();
  const output = (bytes: Uint8Array) => {
    const text = decoder.decode(bytes, { stream: true });
    if (text !== "") write(text);
  };
  const demux = new RelayDemux(output, (json, raw) => {
    if (!relay.handle(json)) output(raw);
  });
  for await (const chunk of stream) demux.push(chunk);
  demux.end();
  const rest = decoder.decode();
  if (rest !== "") write(rest);
}

/** Deno's advice after a type error names flags `exec` does not have. */
const CHECK_HINTS =
  // deno colours these two lines even with NO_COLOR.
  // deno-lint-ignore no-control-regex
  /\n? *(?:\x1b\[[\d;]*m)*(?:info|hint):(?:\x1b\[[\d;]*m)* (?:The program failed type-checking|Re-run with)[^\n]*(?:\n|$)/g;

/**
 * Streams the child's stderr to `write`: refused specifiers restored to what the program
 * wrote, the temporary directory's paths dropped.
 */
async function pumpStderr(
  stream: ReadableStream<Uint8Array>,
  write: (text: string) => void,
  dir: string,
  onRefused: (specifier: string) => void,
): Promise<void> {
  const local = [pathToFileURL(dir).href + "/", dir + "/"];
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    let text = restoreRefused(chunk, dir, onRefused);
    text = local.reduce((t, prefix) => t.replaceAll(prefix, ""), text).replace(CHECK_HINTS, "");
    if (text !== "") write(text);
  }
}
