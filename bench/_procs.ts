/**
 * Processes the benchmark runs: `main.ts gateway` as users run it (a separate process), the
 * echo upstream in its own process, SDK clients over HTTP and stdio, and RSS from /proc.
 */
import { fileURLToPath } from "node:url";
import { join } from "node:path";
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/client/stdio"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { Call } from "./_measure.ts";

/** Absolute path of the repository root. */
export const REPO_ROOT: string = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
/** The CLI entry point. */
export const MAIN_TS: string = join(REPO_ROOT, "main.ts");
/** The repo's deno.json (import map for child scripts started from any cwd). */
export const DENO_JSON: string = join(REPO_ROOT, "deno.json");
/** The lock of tests and benches, which may import test-only packages (oidc-provider). */
const TEST_LOCK: string = join(REPO_ROOT, "deno.test.lock");

const URL_LINE = /^TOOLSCRIPT_GATEWAY_URL=(\S+)$/;

/** The environment for toolscript children: ours without `TOOLSCRIPT_*`/`MCP_*` settings. */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(Deno.env.toObject())) {
    if (key.startsWith("TOOLSCRIPT_") || key === "MCP_SERVER_URL" || key === "MCP_AUTH_TOKEN") {
      continue;
    }
    env[key] = value;
  }
  return { ...env, NO_COLOR: "1", TOOLSCRIPT_LOG: "warn", ...extra };
}

/**
 * The run flags of deno.json's `gateway` task (`--no-code-cache`, `--v8-flags=…`, which bound
 * the heap of the long-running gateway): the benchmark starts `main.ts gateway` with them, as
 * `deno task gateway` does; other commands run without, as `deno task cli` runs them. Read when
 * asked (importing this module reads nothing).
 */
export function gatewayRunFlags(): string[] {
  const tasks = JSON.parse(Deno.readTextFileSync(DENO_JSON)).tasks as Record<string, string>;
  const words = tasks.gateway.split(/\s+/);
  return words.slice(words.indexOf("run") + 1, words.indexOf("main.ts"))
    .filter((word) => word.startsWith("--"));
}

/**
 * `deno run -A -q --config <repo>/deno.json <script> ...args`, with {@link gatewayRunFlags}
 * for `main.ts gateway`.
 */
export function denoScript(script: string, args: string[]): { command: string; args: string[] } {
  const flags = script === MAIN_TS && args[0] === "gateway" ? gatewayRunFlags() : [];
  return {
    command: Deno.execPath(),
    args: [
      "run",
      "-A",
      "-q",
      ...flags,
      "--config",
      DENO_JSON,
      `--lock=${TEST_LOCK}`,
      script,
      ...args,
    ],
  };
}

/** Writes a toolscript config with these `mcpServers` into `dir`; returns its path. */
export async function writeConfig(
  dir: string,
  name: string,
  servers: Record<string, unknown>,
): Promise<string> {
  const path = join(dir, `${name}.json`);
  await Deno.writeTextFile(path, JSON.stringify({ mcpServers: servers }, null, 2));
  return path;
}

/** A child process that printed a ready line; `close()` stops it. */
export interface ReadyProcess extends AsyncDisposable {
  pid: number;
  /** The value captured from the ready line (the URL). */
  url: string;
  /** Spawn until the ready line, ms. */
  readyMs: number;
  /** Last part of its stderr (for error messages). */
  stderrTail(): string;
  close(): Promise<void>;
}

/** Options of {@link spawnReady}. */
export interface SpawnReadyOptions {
  command: string;
  args: string[];
  env?: Record<string, string>;
  /** Matches the ready line on stdout; group 1 is the URL. */
  readyLine: RegExp;
  /** Give up after this long, ms. Default 120 000. */
  timeoutMs?: number;
}

/** Spawns a process and resolves once it prints its ready line on stdout. */
export async function spawnReady(options: SpawnReadyOptions): Promise<ReadyProcess> {
  const start = performance.now();
  const child = new Deno.Command(options.command, {
    args: options.args,
    env: options.env ?? childEnv(),
    clearEnv: true,
    cwd: REPO_ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let tail = "";
  const stderrDone = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (text) => void (tail = (tail + text).slice(-4000)) }),
  ).catch(() => {});
  const ready = Promise.withResolvers<string>();
  const stdoutDone = (async () => {
    let buffer = "";
    for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffer += text;
      let newline;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const match = options.readyLine.exec(buffer.slice(0, newline).trim());
        buffer = buffer.slice(newline + 1);
        if (match) ready.resolve(match[1]);
      }
    }
    ready.reject(new Error(`process exited before its ready line: ${tail.trim().slice(-800)}`));
  })().catch((error) => ready.reject(error));
  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      await child.stdin.close().catch(() => {});
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* already gone */ }
      }, 10_000);
      await child.status;
      clearTimeout(timer);
      await Promise.all([stdoutDone, stderrDone]);
    })();
  const timeoutMs = options.timeoutMs ?? 120_000;
  const timer = setTimeout(
    () => ready.reject(new Error(`no ready line after ${timeoutMs} ms`)),
    timeoutMs,
  );
  try {
    const url = await ready.promise;
    const readyMs = performance.now() - start;
    return {
      pid: child.pid,
      url,
      readyMs,
      stderrTail: () => tail,
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (error) {
    await close();
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** Spawns `main.ts gateway --config <config> --port 0` and waits for its URL line. */
export async function spawnGateway(config: string, home: string): Promise<ReadyProcess> {
  return await spawnReady({
    ...denoScript(MAIN_TS, ["gateway", "--config", config, "--port", "0"]),
    env: childEnv({ TOOLSCRIPT_HOME: home }),
    readyLine: URL_LINE,
  });
}

/** Spawns the echo upstream (`bench/_upstream.ts`, the SDK streamable HTTP fixture). */
export async function spawnUpstream(): Promise<ReadyProcess> {
  const script = fileURLToPath(new URL("./_upstream.ts", import.meta.url));
  return await spawnReady({
    ...denoScript(script, []),
    readyLine: /^UPSTREAM_URL=(\S+)$/,
  });
}

/** An SDK client that closes itself on dispose. */
export type BenchClient = Client & AsyncDisposable;

function disposable(client: Client): BenchClient {
  return Object.assign(client, { [Symbol.asyncDispose]: () => client.close() });
}

/** Connects an SDK client over streamable HTTP. */
export async function connectHttp(url: string): Promise<BenchClient> {
  const client = new Client({ name: "toolscript-bench", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return disposable(client);
}

/** Options of {@link connectStdio}. */
export interface StdioOptions {
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
}

/** Spawns an MCP server over stdio and connects to it; `pid` is the child's. */
export async function connectStdio(
  options: StdioOptions,
): Promise<BenchClient & { pid: number | null }> {
  const transport = new StdioClientTransport({
    command: options.command,
    args: options.args,
    env: options.env ?? childEnv(),
    cwd: options.cwd ?? REPO_ROOT,
    stderr: "ignore",
  });
  const client = new Client({ name: "toolscript-bench", version: "1.0.0" });
  await client.connect(transport);
  return Object.assign(disposable(client), { pid: transport.pid });
}

/**
 * A {@link Call} of the echo tool `tool` that fails unless the echo comes back (within
 * `timeoutMs`, when given; the SDK's default is 60 s).
 */
export function echoCall(client: Client, tool: string, timeoutMs?: number): Call {
  const options = timeoutMs === undefined ? undefined : { timeout: timeoutMs };
  return async () => {
    const params = { name: tool, arguments: { text: "ping" } };
    const result = await client.callTool(params, undefined, options) as {
      isError?: boolean;
      content?: { text?: string }[];
    };
    const text = result.content?.map((c) => c.text ?? "").join("") ?? "";
    if (result.isError || text !== "echo: ping") {
      throw new Error(`${tool} failed: ${text.slice(0, 300)}`);
    }
  };
}

/** Resident set size of a process in KiB (`VmRSS` of `/proc/<pid>/status`). */
export async function readRssKiB(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

/**
 * CPU time a process has used so far, user plus system, all its threads (not its children),
 * in ms (`utime` + `stime` of `/proc/<pid>/stat`, in clock ticks of 10 ms).
 */
export async function readCpuMs(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Direct children of a process (from `/proc/<pid>/task/<tid>/children`). */
export async function childPids(pid: number): Promise<number[]> {
  const pids: number[] = [];
  for await (const task of Deno.readDir(`/proc/${pid}/task`)) {
    const text = await Deno.readTextFile(`/proc/${pid}/task/${task.name}/children`)
      .catch(() => "");
    pids.push(...text.trim().split(/\s+/).filter(Boolean).map(Number));
  }
  return pids;
}

/** A temporary directory that removes itself. */
export async function scratchDir(prefix: string): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: `toolscript-bench-${prefix}-` });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }).catch(() => {}),
  };
}
