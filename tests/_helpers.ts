/**
 * Shared helpers for specs: scratch directories, config files, and the CLI (`main.ts`) run as a
 * real subprocess, either to completion ({@link runCli}) or long-running ({@link spawnCli}).
 */
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import type { RemoteServerConfig } from "../src/config/types.ts";

/** Absolute path of the repository root. */
export const REPO_ROOT: string = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");

/** Absolute path of the CLI entry point. */
export const MAIN_TS: string = join(REPO_ROOT, "main.ts");

/**
 * A remote server's config as the loader makes it from `{ "type": "http", "url": url }` under
 * the name `demo` (no auth block); `overrides` replaces any field, e.g. `auth`.
 */
export function remoteServerConfig(
  url: string,
  overrides: Partial<RemoteServerConfig> = {},
): RemoteServerConfig {
  return {
    name: "demo",
    type: "http",
    url,
    headers: {},
    allowInsecureHttp: false,
    enabled: true,
    allowUnauthenticated: false,
    timeoutMs: 10_000,
    ...overrides,
  };
}

/** The body of an MCP `initialize` request (protocol 2025-06-18), for specs that post it raw. */
export function initializeRequestBody(clientInfo = { name: "t", version: "1" }): string {
  return JSON.stringify({
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo },
  });
}

/** True when something (a file, a directory, a link) is at `path`. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** A temporary directory that removes itself on dispose. */
export interface ScratchDir extends AsyncDisposable {
  readonly path: string;
}

/** Creates a temporary directory; `await using dir = await makeScratchDir()` removes it. */
export async function makeScratchDir(): Promise<ScratchDir> {
  const path = await Deno.makeTempDir({ prefix: "toolscript-test-" });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      });
    },
  };
}

/** Writes `config` as JSON to `<dir>/<fileName>` (default `toolscript.json`); returns the path. */
export async function writeConfig(
  dir: string | { path: string },
  config: object,
  fileName = "toolscript.json",
): Promise<string> {
  const path = join(typeof dir === "string" ? dir : dir.path, fileName);
  await Deno.writeTextFile(path, JSON.stringify(config, null, 2));
  return path;
}

/** Options of {@link runCli} and {@link spawnCli}. */
export interface CliOptions {
  /**
   * Extra environment; `undefined` removes a variable. Applied over the inherited environment,
   * from which `TOOLSCRIPT_*`, `MCP_SERVER_URL` and `MCP_AUTH_TOKEN` are always dropped so a
   * developer's own settings never leak into a spec. `NO_COLOR=1` is set.
   */
  env?: Record<string, string | undefined>;
  /** Sets `TOOLSCRIPT_HOME` (a scratch dir path or the dir itself). */
  home?: string | { path: string };
  /** Working directory of the CLI. Default: the repo root. */
  cwd?: string;
  /** Text written to stdin, which is then closed. Without it stdin is closed from the start. */
  stdin?: string;
  /** Kill the CLI (SIGKILL) and reject after this long. Default 30 000 ms. */
  timeoutMs?: number;
  /** Script to run instead of `main.ts` (the helpers' own spec uses this). */
  script?: string;
}

/** Options of {@link spawnCli}. */
export interface SpawnCliOptions extends Omit<CliOptions, "timeoutMs"> {
  /** Keep stdin open (after writing `stdin`, if given) for {@link CliProcess.writeStdin}. */
  keepStdinOpen?: boolean;
}

/** How a CLI run ended. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function defaultDenoDir(env: Record<string, string>): string {
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, "deno");
  return join(env.HOME ?? "/root", ".cache", "deno");
}

/** The environment a CLI subprocess gets (see {@link CliOptions.env}). */
export function cliEnv(options: Pick<CliOptions, "env" | "home"> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(Deno.env.toObject())) {
    if (key.startsWith("TOOLSCRIPT_") || key === "MCP_SERVER_URL" || key === "MCP_AUTH_TOKEN") {
      continue;
    }
    env[key] = value;
  }
  env.NO_COLOR = "1";
  // Specs that point HOME at a scratch dir must not make Deno download every npm package into
  // a fresh cache there: pin the cache this process uses.
  env.DENO_DIR ??= defaultDenoDir(env);
  if (options.home !== undefined) {
    env.TOOLSCRIPT_HOME = typeof options.home === "string" ? options.home : options.home.path;
  }
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** `deno run -A -q --config <repo>/deno.json <repo>/main.ts ...args` as a Deno.Command. */
function cliCommand(args: string[], options: CliOptions, stdin: "piped" | "null") {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "-q",
      "--config",
      join(REPO_ROOT, "deno.json"),
      // Test scripts may import test-only packages (oidc-provider); their lock is apart.
      `--lock=${join(REPO_ROOT, "deno.test.lock")}`,
      options.script ?? MAIN_TS,
      ...args,
    ],
    cwd: options.cwd ?? REPO_ROOT,
    env: cliEnv(options),
    clearEnv: true,
    stdin,
    stdout: "piped",
    stderr: "piped",
  });
}

/**
 * Runs the CLI to completion and returns its exit code and output.
 * @throws {Error} when it runs past `timeoutMs` (the process is killed first).
 */
export async function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const child = cliCommand(args, options, options.stdin === undefined ? "null" : "piped")
    .spawn();
  const writing = options.stdin === undefined
    ? Promise.resolve()
    : writeAndClose(child.stdin, options.stdin);
  const timeoutMs = options.timeoutMs ?? 30_000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, timeoutMs);
  try {
    const [output] = await Promise.all([child.output(), writing]);
    const result = {
      code: output.code,
      stdout: new TextDecoder().decode(output.stdout),
      stderr: new TextDecoder().decode(output.stderr),
    };
    if (timedOut) {
      throw new Error(
        `CLI ${JSON.stringify(args)} ran past ${timeoutMs} ms\nstdout:\n${result.stdout}\n` +
          `stderr:\n${result.stderr}`,
      );
    }
    return result;
  } finally {
    clearTimeout(timer);
  }
}

/** Options of {@link CliProcess.waitForLine}. */
export interface WaitForLineOptions {
  /** Default `stdout`. */
  stream?: "stdout" | "stderr";
  /** Default 30 000 ms. */
  timeoutMs?: number;
}

/** A running CLI process. `await using` kills it (SIGTERM, then SIGKILL after 5 s) and waits. */
export interface CliProcess extends AsyncDisposable {
  readonly pid: number;
  /** Resolves when the process exits. */
  readonly status: Promise<Deno.CommandStatus>;
  /**
   * Resolves with the match of the first line (lines already received included) that matches
   * `pattern`; rejects on timeout or when the stream ends without one.
   */
  waitForLine(pattern: RegExp, options?: WaitForLineOptions): Promise<RegExpMatchArray>;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Writes to stdin (needs `keepStdinOpen`). */
  writeStdin(text: string): Promise<void>;
  /** Closes stdin (needs `keepStdinOpen`). Idempotent. */
  closeStdin(): Promise<void>;
  /** Sends a signal; a no-op once the process has exited. */
  kill(signal?: Deno.Signal): void;
}

interface LineStream {
  text: string;
  lines: string[];
  ended: boolean;
  waiters: Set<() => void>;
}

/** Starts the CLI and returns at once; see {@link CliProcess}. */
export function spawnCli(args: string[], options: SpawnCliOptions = {}): CliProcess {
  const piped = options.stdin !== undefined || options.keepStdinOpen === true;
  const child = cliCommand(args, options, piped ? "piped" : "null").spawn();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const streams = {
    stdout: { text: "", lines: [], ended: false, waiters: new Set() } as LineStream,
    stderr: { text: "", lines: [], ended: false, waiters: new Set() } as LineStream,
  };
  const pumps = [pump(child.stdout, streams.stdout), pump(child.stderr, streams.stderr)];

  const stdinWriter = piped ? child.stdin.getWriter() : undefined;
  let stdinClosed = !piped;
  let stdinChain: Promise<void> = Promise.resolve();
  function writeStdin(text: string): Promise<void> {
    if (!stdinWriter || stdinClosed) return Promise.reject(new Error("stdin is not open"));
    stdinChain = stdinChain.then(() => stdinWriter.write(new TextEncoder().encode(text)));
    return stdinChain;
  }
  function closeStdin(): Promise<void> {
    if (!stdinWriter || stdinClosed) return stdinChain;
    stdinClosed = true;
    stdinChain = stdinChain.then(() => stdinWriter.close()).catch(() => {});
    return stdinChain;
  }
  if (options.stdin !== undefined) {
    writeStdin(options.stdin).catch(() => {});
    if (!options.keepStdinOpen) closeStdin();
  }

  function kill(signal: Deno.Signal = "SIGTERM"): void {
    if (exited) return;
    try {
      child.kill(signal);
    } catch (error) {
      if (!(error instanceof TypeError)) throw error; // already exited
    }
  }

  function waitForLine(
    pattern: RegExp,
    { stream = "stdout", timeoutMs = 30_000 }: WaitForLineOptions = {},
  ): Promise<RegExpMatchArray> {
    const state = streams[stream];
    return new Promise((resolve, reject) => {
      let checked = 0;
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `No ${stream} line matched ${pattern} within ${timeoutMs} ms\n${stream}:\n${state.text}`,
          ),
        );
      }, timeoutMs);
      function done() {
        clearTimeout(timer);
        state.waiters.delete(check);
      }
      function check() {
        for (; checked < state.lines.length; checked++) {
          const match = state.lines[checked].match(pattern);
          if (match) {
            done();
            resolve(match);
            return;
          }
        }
        if (state.ended) {
          done();
          reject(new Error(`${stream} ended before a line matched ${pattern}\n${state.text}`));
        }
      }
      state.waiters.add(check);
      check();
    });
  }

  async function dispose(): Promise<void> {
    await closeStdin();
    kill("SIGTERM");
    const timer = setTimeout(() => kill("SIGKILL"), 5_000);
    try {
      await status;
      await Promise.all(pumps);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    pid: child.pid,
    status,
    waitForLine,
    stdout: () => streams.stdout.text,
    stderr: () => streams.stderr.text,
    writeStdin,
    closeStdin,
    kill,
    [Symbol.asyncDispose]: dispose,
  };
}

async function pump(readable: ReadableStream<Uint8Array>, state: LineStream): Promise<void> {
  let partial = "";
  const notify = () => {
    for (const waiter of [...state.waiters]) waiter();
  };
  try {
    for await (const chunk of readable.pipeThrough(new TextDecoderStream())) {
      state.text += chunk;
      const parts = (partial + chunk).split("\n");
      partial = parts.pop() ?? "";
      if (parts.length > 0) {
        state.lines.push(...parts.map((line) => line.replace(/\r$/, "")));
        notify();
      }
    }
  } finally {
    if (partial) state.lines.push(partial);
    state.ended = true;
    notify();
  }
}

async function writeAndClose(stdin: WritableStream<Uint8Array>, text: string): Promise<void> {
  const writer = stdin.getWriter();
  try {
    await writer.write(new TextEncoder().encode(text));
    await writer.close();
  } catch {
    // The process closed stdin early; its exit code tells the story.
  }
}

/** A `toolscript gateway` started by {@link spawnTokenGateway}; disposing stops it and removes its home. */
export interface SpawnedGateway extends AsyncDisposable {
  /** The TCP port it listens on. */
  readonly port: number;
}

/**
 * Spawns `toolscript gateway --port 0` with no upstreams, closed by `token`
 * (`TOOLSCRIPT_GATEWAY_TOKEN`), in a scratch home; `gateway` is the config's `gateway` block and
 * `args` are extra CLI arguments (e.g. `--host 0.0.0.0`). Resolves once it prints its URL.
 */
export async function spawnTokenGateway(
  token: string,
  options: { gateway?: Record<string, unknown>; args?: string[] } = {},
): Promise<SpawnedGateway> {
  const dir = await makeScratchDir();
  const config = await writeConfig(dir, {
    ...(options.gateway ? { gateway: options.gateway } : {}),
    mcpServers: {},
  });
  const process = spawnCli(
    ["gateway", "--config", config, ...(options.args ?? []), "--port", "0"],
    { home: dir, env: { TOOLSCRIPT_GATEWAY_TOKEN: token } },
  );
  const [, url] = await process.waitForLine(/^TOOLSCRIPT_GATEWAY_URL=(\S+)$/);
  return {
    port: Number(new URL(url).port),
    async [Symbol.asyncDispose]() {
      await process[Symbol.asyncDispose]();
      await dir[Symbol.asyncDispose]();
    },
  };
}
