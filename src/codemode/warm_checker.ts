/**
 * A warm type-checker for code-mode programs: one long-lived `deno lsp` (Deno's own language
 * server, so Deno's own compiler, libraries and options) that has already parsed the
 * libraries and the tools module, and answers "does this new program type-check?" in tens of
 * milliseconds where a cold `deno check` spends 0.3-0.4 s parsing the libraries again.
 *
 * It only ever says "clean" or "not sure": a program it finds clean runs under `deno run
 * --no-check`; anything else (a diagnostic of any kind, the server dead or slow, a changed
 * tools module not yet checked) makes the run type-check as before with `deno run --check`,
 * so diagnostics the user sees are always `deno check`'s own. It never runs a program: the
 * language server only parses and type-checks. It starts with a cleared environment whose
 * proxy points at a closed port, and is never asked to cache anything, so it loads nothing
 * from the network; its files live in a private directory of its own.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ensurePrivateDir } from "../config/private_file.ts";
import { SANDBOX_COMPILER_OPTIONS, SANDBOX_GLOBALS_SOURCE } from "./_sandbox_types.ts";
import { RELAY_PREAMBLE_SOURCE } from "./_relay.ts";
import { LspConnection } from "./_lsp_connection.ts";
import { sandboxImportMap } from "./_module_graph.ts";
import { sandboxRunRoot } from "./exec_sandbox.ts";
import { findDeno } from "./find_deno.ts";

/** What a {@link ProgramChecker} says of a program. */
export type CheckVerdict =
  /** The program and the tools module type-check with no diagnostic at all. */
  | "clean"
  /** Anything else: the caller type-checks the program itself. */
  | "unsure";

/** Checks a program against a tools module ahead of running it. */
export interface ProgramChecker {
  /** The verdict on `code` importing `toolsModule` as `"toolscript"`; never rejects. */
  check(code: string, toolsModule: string, signal?: AbortSignal): Promise<CheckVerdict>;
}

/** Options of {@link WarmChecker}. */
export interface WarmCheckerOptions {
  /** The Deno executable (its `lsp` subcommand is the checker). */
  denoPath: string;
  /** A private directory (made 0700) under which the checker keeps its files. */
  root: string;
  /** The parent's environment: only Deno's cache locations are passed on. */
  env: (name: string) => string | undefined;
  /** Longest wait for one check of a warm server; default {@link DEFAULT_WARM_CHECK_TIMEOUT_MS}. */
  checkTimeoutMs?: number;
  /** Checks after which the server is restarted, bounding its memory; default 500. */
  maxChecksPerServer?: number;
  /** V8 heap cap of the server, MiB; default 768. */
  heapMiB?: number;
}

/** Environment variables the language server gets from the parent (Deno's cache). */
const CHECKER_ENV_NAMES = ["DENO_DIR", "HOME", "XDG_CACHE_HOME", "LOCALAPPDATA", "USERPROFILE"];

/**
 * The warm checker. Checks are answered one at a time (each a few milliseconds once warm),
 * each program under a document name of its own, so two callers never see each other's
 * diagnostics. The server starts at the first check (or {@link WarmChecker.warmUp}), and again
 * after it died, timed out twice in a row or served
 * {@link WarmCheckerOptions.maxChecksPerServer} checks. Disposing stops it.
 */
export class WarmChecker implements ProgramChecker, AsyncDisposable {
  #options: WarmCheckerOptions;
  /** The server that finished warming up. */
  #ready: CheckerServer | undefined;
  /** The server being started and warmed up. */
  #warming: Promise<void> | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #timeouts = 0;
  #closed = false;

  /** Nothing starts until the first {@link check} or {@link warmUp}. */
  constructor(options: WarmCheckerOptions) {
    this.#options = options;
  }

  /**
   * See {@link ProgramChecker.check}. Without a warm server this answers "unsure" at once and
   * starts one (its cold start takes longer than a `deno check`), so only later checks use it.
   */
  check(code: string, toolsModule: string, signal?: AbortSignal): Promise<CheckVerdict> {
    if (this.#closed) return Promise.resolve("unsure");
    const server = this.#ready;
    if (server === undefined || !server.alive) {
      this.warmUp(toolsModule);
      return Promise.resolve("unsure");
    }
    const run = this.#queue.then(() => this.#checkOn(server, code, toolsModule, signal));
    this.#queue = run.catch(() => {});
    return run.catch(() => "unsure" as const);
  }

  /**
   * Starts the server unless one runs or starts, and has it parse the libraries and
   * `toolsModule`; resolves when it is warm (or failed to start: the next check retries).
   */
  warmUp(toolsModule: string): Promise<void> {
    if (this.#closed || this.#ready?.alive) return Promise.resolve();
    this.#warming ??= (async () => {
      const bound = AbortSignal.timeout(WARM_UP_TIMEOUT_MS);
      let server: CheckerServer | undefined;
      try {
        server = await CheckerServer.start(this.#options, bound);
        await server.check("export {};\n", toolsModule, bound);
        if (this.#closed) await server.close();
        else {
          this.#ready = server;
          this.#timeouts = 0;
        }
      } catch {
        await server?.close();
      } finally {
        this.#warming = undefined;
      }
    })();
    return this.#warming;
  }

  /** The warm server's process id, while one runs (for specs and diagnostics). */
  serverPid(): number | undefined {
    return this.#ready?.alive ? this.#ready.pid : undefined;
  }

  async #checkOn(
    server: CheckerServer,
    code: string,
    toolsModule: string,
    signal?: AbortSignal,
  ): Promise<CheckVerdict> {
    if (this.#closed || signal?.aborted || !server.alive) return "unsure";
    const bound = AbortSignal.timeout(
      this.#options.checkTimeoutMs ?? DEFAULT_WARM_CHECK_TIMEOUT_MS,
    );
    try {
      const verdict = await server.check(
        code,
        toolsModule,
        signal ? AbortSignal.any([signal, bound]) : bound,
      );
      this.#timeouts = 0;
      if (server.checks >= (this.#options.maxChecksPerServer ?? 500)) await this.#stop(server);
      return verdict;
    } catch {
      // A dead server, or one that timed out twice in a row, is replaced at the next check.
      if (!server.alive || (bound.aborted && ++this.#timeouts >= 2)) await this.#stop(server);
      return "unsure";
    }
  }

  async #stop(server: CheckerServer): Promise<void> {
    if (this.#ready === server) this.#ready = undefined;
    await server.close();
  }

  /** Stops the server; later checks answer "unsure". */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#closed = true;
    await this.#warming;
    await this.#queue;
    if (this.#ready) await this.#stop(this.#ready);
  }
}

/** Longest wait for one warm check; default of {@link WarmCheckerOptions.checkTimeoutMs}. */
export const DEFAULT_WARM_CHECK_TIMEOUT_MS = 5_000;

/** Longest start and warm-up of a server. */
const WARM_UP_TIMEOUT_MS = 60_000;

/** One running `deno lsp` and the documents it holds. */
class CheckerServer {
  /** Checks answered. */
  checks = 0;
  #lsp: LspConnection;
  #dir: string;
  #toolsVersion = 0;
  /** The tools module the open `tools.ts` holds, and whether it (with the fixed files) is clean. */
  #tools: { source: string; clean: boolean } | undefined;

  private constructor(lsp: LspConnection, dir: string) {
    this.#lsp = lsp;
    this.#dir = dir;
  }

  get alive(): boolean {
    return this.#lsp.alive;
  }

  get pid(): number {
    return this.#lsp.pid;
  }

  static async start(options: WarmCheckerOptions, signal: AbortSignal): Promise<CheckerServer> {
    await ensurePrivateDir(options.root);
    const dir = await Deno.makeTempDir({ dir: options.root, prefix: "checker-" });
    await Deno.chmod(dir, 0o700).catch(() => {});
    const write = (name: string, text: string) =>
      Deno.writeTextFile(join(dir, name), text, { mode: 0o600 });
    await write(
      "deno.json",
      JSON.stringify({
        compilerOptions: SANDBOX_COMPILER_OPTIONS,
        importMap: "./import_map.json",
        lock: false,
      }),
    );
    await write("globals.ts", SANDBOX_GLOBALS_SOURCE);
    await write("preamble.ts", RELAY_PREAMBLE_SOURCE);
    await write("tools.ts", "export {};\n");
    // The sandbox's own import map: whatever a run may not load, the checker may not either.
    const all = ["globals.ts", "preamble.ts", "tools.ts"].map((name) => join(dir, name));
    await write(
      "import_map.json",
      JSON.stringify(sandboxImportMap({ tools: join(dir, "tools.ts"), all })),
    );
    const env: Record<string, string> = {};
    for (const name of CHECKER_ENV_NAMES) {
      const value = options.env(name);
      if (value) env[name] = value;
    }
    // Nothing is ever fetched; should the server try, it reaches a closed port.
    const nowhere = "http://127.0.0.1:9";
    Object.assign(env, {
      // `deno lsp` takes no --v8-flags.
      DENO_V8_FLAGS: `--max-old-space-size=${options.heapMiB ?? 768}`,
      NO_COLOR: "1",
      DENO_NO_UPDATE_CHECK: "1",
      HTTP_PROXY: nowhere,
      HTTPS_PROXY: nowhere,
      NPM_CONFIG_REGISTRY: nowhere,
      JSR_URL: nowhere,
    });
    const lsp = LspConnection.spawn(options.denoPath, {
      args: ["lsp"],
      cwd: dir,
      env,
      onRemove: () => Deno.remove(dir, { recursive: true }).catch(() => {}),
    });
    try {
      const root = pathToFileURL(dir).href;
      await lsp.request("initialize", {
        processId: Deno.pid,
        rootUri: root,
        workspaceFolders: [{ uri: root, name: "checker" }],
        capabilities: {
          textDocument: { diagnostic: { dynamicRegistration: false } },
          workspace: { configuration: true },
        },
        initializationOptions: { enable: true, lint: false, cache: null, cacheOnSave: false },
      }, signal);
      lsp.notify("initialized", {});
      const server = new CheckerServer(lsp, dir);
      // The globals and the preamble are part of every run's program.
      for (const name of ["globals.ts", "preamble.ts"]) {
        const text = name === "globals.ts" ? SANDBOX_GLOBALS_SOURCE : RELAY_PREAMBLE_SOURCE;
        lsp.notify("textDocument/didOpen", {
          textDocument: { uri: server.#uri(name), languageId: "typescript", version: 1, text },
        });
      }
      return server;
    } catch (error) {
      await lsp.close();
      throw error;
    }
  }

  #uri(name: string): string {
    return pathToFileURL(join(this.#dir, name)).href;
  }

  async check(code: string, toolsModule: string, signal: AbortSignal): Promise<CheckVerdict> {
    this.checks++;
    if (this.#tools?.source !== toolsModule) {
      this.#tools = undefined;
      const uri = this.#uri("tools.ts");
      const version = ++this.#toolsVersion;
      const textDocument = { uri, languageId: "typescript", version, text: toolsModule };
      if (version === 1) this.#lsp.notify("textDocument/didOpen", { textDocument });
      else {
        this.#lsp.notify("textDocument/didChange", {
          textDocument: { uri, version },
          contentChanges: [{ text: toolsModule }],
        });
      }
      let clean = true;
      for (const name of ["tools.ts", "globals.ts", "preamble.ts"]) {
        if (!await this.#clean(this.#uri(name), signal)) clean = false;
      }
      this.#tools = { source: toolsModule, clean };
    }
    if (!this.#tools.clean) return "unsure";
    // A name per check: no check ever reads another's document.
    const uri = this.#uri(`program-${this.checks}.ts`);
    this.#lsp.notify("textDocument/didOpen", {
      textDocument: { uri, languageId: "typescript", version: 1, text: code },
    });
    try {
      return await this.#clean(uri, signal) ? "clean" : "unsure";
    } finally {
      this.#lsp.notify("textDocument/didClose", { textDocument: { uri } });
    }
  }

  /**
   * Whether the document at `uri` has no error or warning (hints such as "declared but never
   * used" do not fail `deno check`).
   */
  async #clean(uri: string, signal: AbortSignal): Promise<boolean> {
    const report = await this.#lsp.request("textDocument/diagnostic", {
      textDocument: { uri },
    }, signal) as { kind?: string; items?: { severity?: number }[] } | null;
    return report?.kind === "full" && Array.isArray(report.items) &&
      report.items.every((item) => item.severity === 3 || item.severity === 4);
  }

  async close(): Promise<void> {
    await this.#lsp.close();
  }
}

const checkersByOwner = new WeakMap<object, WarmChecker>();

/**
 * The one {@link WarmChecker} of `owner` (a gateway), made by `create` on first use, so the
 * gateway's `/runtime/check` route and its `toolscript__exec` tool share one server.
 */
export function sharedWarmChecker(owner: object, create: () => WarmChecker): WarmChecker {
  let checker = checkersByOwner.get(owner);
  if (checker === undefined) {
    checker = create();
    checkersByOwner.set(owner, checker);
  }
  return checker;
}

/** The hex SHA-256 of a tools module, naming the version a check is asked against. */
export async function toolsModuleHash(source: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(source));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The gateway's shared warm checker, its files beside the sandbox's run root
 * (`toolscript-exec-<uid>-checker`), or one that is always unsure when there is no temporary
 * directory or no Deno to run.
 */
export async function gatewayChecker(
  gateway: object,
  env: (name: string) => string | undefined,
): Promise<ProgramChecker> {
  const none: ProgramChecker = { check: () => Promise.resolve("unsure") };
  const runRoot = sandboxRunRoot(env);
  if (runRoot === undefined) return none;
  // Beside the run root, not in it: its day-old key directories are pruned.
  const root = `${runRoot}-checker`;
  const denoPath = await findDeno(env).catch(() => undefined);
  if (denoPath === undefined) return none;
  return sharedWarmChecker(gateway, () => new WarmChecker({ denoPath, root, env }));
}
