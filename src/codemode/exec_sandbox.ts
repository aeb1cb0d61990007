/**
 * Runs a code-mode program in a locked-down Deno process: type-checked first, allowed to
 * reach only the gateway, with no file, environment, subprocess, FFI or system access.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ToolscriptError } from "../errors.ts";
import { foreignModules } from "./_module_graph.ts";
import { TOOLS_MODULE_PATH } from "./runtime_routes.ts";

/** Options of {@link runSandboxed}. */
export interface SandboxOptions {
  /** The gateway's origin, `http://host:port`: the only address the program may reach. */
  gatewayOrigin: string;
  /** Bearer token of the gateway, handed to the program (and to nothing else). */
  gatewayToken?: string;
  /** Kill the program (SIGKILL) after this long. */
  timeoutMs: number;
  /**
   * The parent's environment. Only what Deno itself needs to find its cache and print
   * (see {@link SANDBOX_ENV_NAMES}) is passed on; the program cannot read even that.
   */
  env: (name: string) => string | undefined;
  /** Receives the program's stdout as it is written. */
  stdout: (text: string) => void;
  /** Receives the program's stderr (and the compiler's diagnostics) as it is written. */
  stderr: (text: string) => void;
  /** Fetches the tools module; defaults to `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Aborting kills the program and rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** The Deno executable; defaults to `Deno.execPath()`. */
  denoPath?: string;
}

/** How a sandboxed run ended. */
export type SandboxOutcome =
  /** The program ran (or failed type-checking) and exited with `code`. */
  | { kind: "exited"; code: number }
  /** The program ran past the timeout and was killed. */
  | { kind: "timed_out" }
  /** The program imports something other than `toolscript`; it was not run. */
  | { kind: "rejected"; imports: string[] };

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
 * to the gateway's tools module.
 *
 * The module is fetched from `<gatewayOrigin>/runtime/tools.ts` (with the gateway token) and
 * written, with the program and a generated entry file, to a fresh temporary directory that
 * is removed afterwards. The entry first runs a preamble that sets
 * `globalThis.__TOOLSCRIPT_GATEWAY_TOKEN__` when there is a token and removes `localStorage`
 * and `caches` (which would write to Deno's cache directory), then imports the program. A program whose module graph reaches any other file,
 * URL or package is refused before it runs. The rest runs under
 * `deno run --check --no-prompt --no-remote --no-npm --allow-net=<gateway host:port>` with a
 * cleared environment: a type error prints the compiler's diagnostics and exits 1 before any
 * line of the program runs.
 *
 * @throws {ToolscriptError} (code `upstream`) when the tools module cannot be fetched.
 * @example
 * ```ts ignore
 * const outcome = await runSandboxed(`import { tools } from "toolscript"; console.log(1);`, {
 *   gatewayOrigin: "http://127.0.0.1:3333", timeoutMs: 60_000, env: Deno.env.get,
 *   stdout: console.log, stderr: console.error,
 * });
 * ```
 */
export async function runSandboxed(code: string, options: SandboxOptions): Promise<SandboxOutcome> {
  const denoPath = options.denoPath ?? Deno.execPath();
  const env = sandboxEnv(options.env);
  const deadline = new AbortController();
  let running: Deno.ChildProcess | undefined;
  const kill = () => {
    try {
      running?.kill("SIGKILL");
    } catch {
      // Already exited.
    }
  };
  const timer = setTimeout(() => {
    deadline.abort();
    kill();
  }, options.timeoutMs);
  options.signal?.addEventListener("abort", kill);
  const stopped = () => {
    options.signal?.throwIfAborted();
    return deadline.signal.aborted;
  };
  const dir = await Deno.makeTempDir({ prefix: "toolscript-exec-" });
  try {
    const source = await fetchToolsModule(options, deadline.signal);
    if (stopped() || source === undefined) return { kind: "timed_out" };
    const files = await writeProgram(dir, code, source, options.gatewayToken);
    let foreign: string[];
    try {
      foreign = await foreignModules({
        denoPath,
        entry: files.entry,
        importMap: files.importMap,
        env,
        cwd: dir,
        allowed: new Set(files.modules.map((path) => pathToFileURL(path).href)),
        onSpawn: (child) => running = child,
      });
    } catch (error) {
      if (stopped()) return { kind: "timed_out" };
      throw error;
    }
    if (stopped()) return { kind: "timed_out" };
    if (foreign.length > 0) return { kind: "rejected", imports: foreign };
    const child = new Deno.Command(denoPath, {
      args: [
        "run",
        "--quiet",
        "--check",
        "--no-prompt",
        "--no-config",
        "--no-lock",
        "--no-remote",
        "--no-npm",
        "--import-map",
        files.importMap,
        `--allow-net=${netAddress(options.gatewayOrigin)}`,
        files.entry,
      ],
      cwd: dir,
      env,
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    running = child;
    if (options.signal?.aborted || deadline.signal.aborted) kill();
    const local = [pathToFileURL(dir).href + "/", dir + "/"];
    const [status] = await Promise.all([
      child.status,
      pump(child.stdout, options.stdout, []),
      pump(child.stderr, options.stderr, local),
    ]);
    if (stopped()) return { kind: "timed_out" };
    return { kind: "exited", code: status.code };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", kill);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
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

/** `host:port` of an http(s) origin, as `--allow-net` wants it. */
function netAddress(origin: string): string {
  const url = new URL(origin);
  return `${url.hostname}:${url.port || (url.protocol === "https:" ? "443" : "80")}`;
}

async function fetchToolsModule(
  options: SandboxOptions,
  deadline: AbortSignal,
): Promise<string | undefined> {
  const url = new URL(TOOLS_MODULE_PATH, options.gatewayOrigin);
  const headers = new Headers({ accept: "application/typescript" });
  if (options.gatewayToken) headers.set("authorization", `Bearer ${options.gatewayToken}`);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, { headers, signal });
  } catch (error) {
    options.signal?.throwIfAborted();
    if (deadline.aborted) return undefined;
    throw new ToolscriptError(
      `Cannot reach the toolscript gateway at "${options.gatewayOrigin}"`,
      {
        code: "upstream",
        cause: error,
        fix: "toolscript gateway, or unset TOOLSCRIPT_GATEWAY_URL",
      },
    );
  }
  if (!response.ok) {
    await response.body?.cancel();
    const fix = response.status === 401
      ? "set TOOLSCRIPT_GATEWAY_TOKEN to the gateway's token"
      : undefined;
    throw new ToolscriptError(
      `Cannot load the tools module from the gateway at "${options.gatewayOrigin}": ` +
        `HTTP ${response.status}`,
      { code: "upstream", fix },
    );
  }
  return await response.text();
}

interface ProgramFiles {
  entry: string;
  importMap: string;
  /** Every module the program may load. */
  modules: string[];
}

async function writeProgram(
  dir: string,
  code: string,
  toolsSource: string,
  gatewayToken: string | undefined,
): Promise<ProgramFiles> {
  const path = (name: string) => join(dir, name);
  const write = (name: string, text: string) =>
    Deno.writeTextFile(path(name), text, { mode: 0o600, createNew: true });
  await write("tools.ts", toolsSource);
  await write("program.ts", code);
  await write("import_map.json", JSON.stringify({ imports: { toolscript: "./tools.ts" } }));
  const preamble = [
    "// Runs before the program. localStorage and caches would write to Deno's cache directory.",
    `for (const name of ["localStorage", "caches"]) Reflect.deleteProperty(globalThis, name);`,
  ];
  if (gatewayToken) {
    preamble.push(
      "(globalThis as { __TOOLSCRIPT_GATEWAY_TOKEN__?: string }).__TOOLSCRIPT_GATEWAY_TOKEN__ =",
      `  ${JSON.stringify(gatewayToken)};`,
    );
  }
  await write("preamble.ts", [...preamble, "export {};", ""].join("\n"));
  // Imports evaluate in order: the preamble is done before the program's first line runs.
  await write("main.ts", `import "./preamble.ts";\nimport "./program.ts";\n`);
  const modules = ["main.ts", "preamble.ts", "program.ts", "tools.ts"].map(path);
  return { entry: path("main.ts"), importMap: path("import_map.json"), modules };
}

/** Deno's advice after a type error names flags `exec` does not have. */
const CHECK_HINTS =
  // deno colours these two lines even with NO_COLOR.
  // deno-lint-ignore no-control-regex
  /\n? *(?:\x1b\[[\d;]*m)*(?:info|hint):(?:\x1b\[[\d;]*m)* (?:The program failed type-checking|Re-run with)[^\n]*(?:\n|$)/g;

/** Streams a child's output to `write`, dropping `strip` (the temp directory's paths). */
async function pump(
  stream: ReadableStream<Uint8Array>,
  write: (text: string) => void,
  strip: string[],
): Promise<void> {
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    let text = chunk;
    if (strip.length > 0) {
      text = strip.reduce((t, prefix) => t.replaceAll(prefix, ""), text).replace(CHECK_HINTS, "");
    }
    if (text !== "") write(text);
  }
}
