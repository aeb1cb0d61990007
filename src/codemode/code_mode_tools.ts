/**
 * Code mode as MCP tools, for clients that only speak MCP (`gateway.expose: code|both`):
 * `toolscript__search`, `toolscript__types` and `toolscript__exec` take the arguments and give
 * the output of the `search`, `types` and `exec` commands. The gateway serves them as its
 * local tools; `exec` runs programs in the sandbox, in-process against the gateway.
 */
// @ts-types="@modelcontextprotocol/sdk/types"
import type { CallToolResult, Tool } from "@modelcontextprotocol/sdk/types.js";
import { ToolscriptError } from "../errors.ts";
import type { Gateway, LocalTools } from "../gateway/gateway.ts";
import type { ExposedNames } from "../gateway/exposed_names.ts";
import { catalogOfGateway, filterCatalog, resolveFilters } from "./gateway_catalog.ts";
import type { CatalogTool } from "./tool_catalog.ts";
import { createToolSearch, type ToolSearch } from "./tool_search.ts";
import { generateToolsDeclarations, generateToolsModule } from "./tools_module.ts";
import { gatewayChecker, type ProgramChecker } from "./warm_checker.ts";
import {
  runSandboxed,
  type SandboxOutcome,
  sandboxRunRoot,
  timedOutMessage,
} from "./exec_sandbox.ts";
import { findDeno } from "./find_deno.ts";

/** The names of the code-mode tools. */
export const CODE_MODE_TOOL_NAMES = {
  search: "toolscript__search",
  types: "toolscript__types",
  exec: "toolscript__exec",
} as const;

/** Default {@link CodeModeToolsOptions.maxTimeoutSeconds}: the `exec` command's default. */
export const DEFAULT_EXEC_MAX_TIMEOUT_SECONDS = 300;

/** Default and largest `limit` of `toolscript__search`. */
const DEFAULT_LIMIT = 10, MAX_LIMIT = 100;

/** Most characters of a program's stdout (and of its stderr) kept for the result. */
export const MAX_EXEC_OUTPUT_CHARS = 1_000_000;

/**
 * A URL that resolves nowhere (RFC 2606), for the generated module's HTTP client when the
 * sandbox relays every call to this process.
 */
export const UNUSED_GATEWAY_URL = "http://toolscript.invalid";

/** Options of {@link createCodeModeTools}. */
export interface CodeModeToolsOptions {
  /** `code`: list only the code-mode tools; `both`: them, then every upstream tool. */
  expose: "code" | "both";
  /** The environment the sandbox picks Deno's cache dirs and `PATH` from (see `runSandboxed`). */
  env: (name: string) => string | undefined;
  /** Largest (and default) `timeoutSeconds` of `toolscript__exec`; default 300. */
  maxTimeoutSeconds?: number;
  /** The Deno that runs programs; default: found like the `exec` command finds it. */
  denoPath?: string;
  /** Where runs keep their reusable directories; default `sandboxRunRoot(env)`. */
  runRoot?: string;
  /**
   * The warm type-checker asked before each run; default the gateway's shared one
   * (`gatewayChecker`), started at the first `toolscript__exec`.
   */
  checker?: ProgramChecker;
}

/**
 * The code-mode tools of `gateway`, as its {@link LocalTools}. Their descriptions teach the
 * workflow (search, read the types, write one program). `toolscript__exec` runs the program
 * in the sandbox of `runSandboxed`, its tool calls going to `gateway.callTool` (never to a
 * code-mode tool); the call's abort signal kills it, so does the timeout. A failed program (type
 * error, uncaught error, timeout) is an `isError` result holding its output.
 *
 * @example
 * ```ts ignore
 * const gateway = createGateway(config, {
 *   home, localTools: (g) => createCodeModeTools(g, { expose: "code", env: Deno.env.get }),
 * });
 * ```
 */
export function createCodeModeTools(gateway: Gateway, options: CodeModeToolsOptions): LocalTools {
  const maxSeconds = options.maxTimeoutSeconds ?? DEFAULT_EXEC_MAX_TIMEOUT_SECONDS;
  const catalog = new CatalogView(gateway);
  let denoPath: Promise<string> | undefined;
  const own = new Set<string>(Object.values(CODE_MODE_TOOL_NAMES));
  const runRoot = options.runRoot ?? sandboxRunRoot(options.env);

  /** Runs a program whose tool calls act as `caller` (the one that asked for it). */
  async function exec(args: Record<string, unknown>, signal?: AbortSignal, caller?: string) {
    const code = args.code;
    if (typeof code !== "string" || code.trim() === "") return invalid("code", "a program");
    const seconds = args.timeoutSeconds ?? maxSeconds;
    if (typeof seconds !== "number" || !(seconds > 0)) {
      return invalid("timeoutSeconds", "a number of seconds above 0");
    }
    const timeoutMs = Math.min(seconds, maxSeconds) * 1000;
    denoPath ??= options.denoPath ? Promise.resolve(options.denoPath) : findDeno(options.env);
    const stdout = new Captured(), stderr = new Captured();
    const outcome = await runSandboxed(code, {
      toolsModule: catalog.toolsModule(),
      callTool: (name, toolArgs, callSignal) =>
        own.has(name)
          ? Promise.reject(new Error(`Unknown tool "${name}"`))
          : gateway.callTool(name, toolArgs, callSignal, caller),
      timeoutMs,
      runRoot,
      env: options.env,
      stdout: (text) => stdout.add(text),
      stderr: (text) => stderr.add(text),
      signal,
      denoPath: await denoPath,
      checker: options.checker ?? await gatewayChecker(gateway, options.env),
    });
    return gateway.maskSecrets(execResult(outcome, stdout.text(), stderr.text(), timeoutMs));
  }

  function search(args: Record<string, unknown>): CallToolResult {
    const { query, limit = DEFAULT_LIMIT } = args;
    if (typeof query !== "string" || query.trim() === "") return invalid("query", "some words");
    if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > MAX_LIMIT) {
      return invalid("limit", `a whole number from 1 to ${MAX_LIMIT}`);
    }
    const hits = catalog.search().search(query, { limit: limit as number });
    if (hits.length === 0) return text(`No tool matches ${JSON.stringify(query)}`);
    return text(hits.map((hit) => `${hit.id.replaceAll("\t", " ")}\t${hit.summary}`).join("\n"));
  }

  function types(args: Record<string, unknown>): CallToolResult {
    const { filter = "" } = args;
    const raw = Array.isArray(filter) ? filter : [filter];
    if (!raw.every((entry) => typeof entry === "string")) {
      return invalid("filter", 'a comma-separated list of "<server>" or "<server>__<tool>"');
    }
    const entries = raw.flatMap((list) => list.split(",")).map((s) => s.trim()).filter(Boolean);
    const tools = catalog.tools();
    try {
      const selected = filterCatalog(tools, resolveFilters(entries, tools, catalog.servers()));
      return text(generateToolsDeclarations(selected));
    } catch (error) {
      if (error instanceof ToolscriptError) return failure(error.message);
      throw error;
    }
  }

  return {
    tools: codeModeToolList(maxSeconds),
    listUpstreamTools: options.expose === "both",
    async call(name, args, signal, caller) {
      const input = args ?? {};
      switch (name) {
        case CODE_MODE_TOOL_NAMES.search:
          return search(input);
        case CODE_MODE_TOOL_NAMES.types:
          return types(input);
        case CODE_MODE_TOOL_NAMES.exec:
          return await exec(input, signal, caller);
        default:
          return failure(`Unknown tool "${name}"`);
      }
    },
  };
}

/** The gateway's catalog, search index and tools module, rebuilt when its exposed tools change. */
class CatalogView {
  #gateway: Gateway;
  #built?: { names: ExposedNames; tools: CatalogTool[]; search?: ToolSearch; module?: string };

  constructor(gateway: Gateway) {
    this.#gateway = gateway;
  }

  #current() {
    const names = this.#gateway.exposedNames;
    if (this.#built?.names !== names) {
      this.#built = { names, tools: catalogOfGateway(this.#gateway) };
    }
    return this.#built;
  }

  tools(): CatalogTool[] {
    return this.#current().tools;
  }

  servers(): string[] {
    return [...this.#gateway.upstreams.keys()];
  }

  search(): ToolSearch {
    const built = this.#current();
    return built.search ??= createToolSearch(built.tools);
  }

  toolsModule(): string {
    const built = this.#current();
    return built.module ??= generateToolsModule(built.tools, {
      gatewayUrl: UNUSED_GATEWAY_URL,
      onWarning: (message) => this.#gateway.logger.debug("tools module", { warning: message }),
    });
  }
}

/** Collects one output stream, keeping at most {@link MAX_EXEC_OUTPUT_CHARS}. */
class Captured {
  #parts: string[] = [];
  #length = 0;
  #dropped = 0;

  add(chunk: string): void {
    const room = MAX_EXEC_OUTPUT_CHARS - this.#length;
    if (room <= 0) return void (this.#dropped += chunk.length);
    this.#parts.push(chunk.slice(0, room));
    this.#length += Math.min(room, chunk.length);
    this.#dropped += Math.max(0, chunk.length - room);
  }

  text(): string {
    const kept = this.#parts.join("");
    return this.#dropped === 0 ? kept : `${kept}\n[… ${this.#dropped} more characters cut]\n`;
  }
}

/** The exec result: its status line, then the program's stdout and stderr (when not empty). */
function execResult(
  outcome: SandboxOutcome,
  stdout: string,
  stderr: string,
  timeoutMs: number,
): CallToolResult {
  let status: string;
  switch (outcome.kind) {
    case "exited":
      status = `exit code: ${outcome.code}`;
      break;
    case "timed_out":
      status = timedOutMessage(outcome.phase, timeoutMs);
      break;
    case "rejected":
      status = `The program may import only "toolscript"; it also imports ` +
        outcome.imports.map((s) => JSON.stringify(s)).join(", ");
      break;
  }
  const parts = [status];
  if (stdout !== "") parts.push(`--- stdout ---\n${stdout.replace(/\n$/, "")}`);
  if (stderr !== "") parts.push(`--- stderr ---\n${stderr.replace(/\n$/, "")}`);
  const ok = outcome.kind === "exited" && outcome.code === 0;
  return { content: [{ type: "text", text: parts.join("\n") }], ...(ok ? {} : { isError: true }) };
}

function text(value: string): CallToolResult {
  return { content: [{ type: "text", text: value }] };
}

function failure(message: string): CallToolResult {
  return { isError: true, content: [{ type: "text", text: message }] };
}

function invalid(argument: string, expected: string): CallToolResult {
  return failure(`Invalid arguments: "${argument}" must be ${expected}`);
}

/** The three tools as `tools/list` shows them. */
function codeModeToolList(maxSeconds: number): Tool[] {
  const workflow = "Code mode: find tools with toolscript__search, read their TypeScript " +
    "signatures with toolscript__types, then run ONE TypeScript program with toolscript__exec " +
    'that calls as many tools as the task needs (`import { tools } from "toolscript"`).';
  return [
    {
      name: CODE_MODE_TOOL_NAMES.search,
      description: "Search the available tools by describing what you want to do. " +
        "Returns one line per match, best first: `<server>__<tool>`, a tab, its summary.\n\n" +
        workflow,
      inputSchema: {
        type: "object",
        properties: {
          query: { type: "string", description: "What you want to do, in a few words" },
          limit: {
            type: "integer",
            minimum: 1,
            maximum: MAX_LIMIT,
            description: `Most results (default ${DEFAULT_LIMIT})`,
          },
        },
        required: ["query"],
      },
      annotations: { title: "Search tools", readOnlyHint: true, openWorldHint: false },
    },
    {
      name: CODE_MODE_TOOL_NAMES.types,
      description: 'TypeScript declarations of the "toolscript" module that toolscript__exec ' +
        "programs import: `tools.<server>.<tool>(params)`, one typed async function per tool, " +
        "returning its result (structured content, else its text), and `ToolError`, which a " +
        "failing tool throws. Pass `filter` to read only some servers or tools.\n\n" + workflow,
      inputSchema: {
        type: "object",
        properties: {
          filter: {
            type: "string",
            description: "Comma-separated `<server>` or `<server>__<tool>` names, as " +
              "toolscript__search prints them (default: every tool)",
          },
        },
      },
      annotations: { title: "Read tool types", readOnlyHint: true, openWorldHint: false },
    },
    {
      name: CODE_MODE_TOOL_NAMES.exec,
      description: "Run a TypeScript program that calls tools, and get back its exit code, " +
        "stdout and stderr. Do the whole task in one program (loops, conditions, several " +
        "tools, combined results) instead of one tool call per step:\n\n" +
        'import { tools } from "toolscript";\n' +
        "const result = await tools.myServer.someTool({ arg: 1 });\n" +
        "console.log(JSON.stringify(result));\n\n" +
        "The program is type-checked first (names and types as toolscript__types shows " +
        "them); only what it prints comes back. It has no network, file or environment " +
        "access: tools are its only way out.\n\n" + workflow,
      inputSchema: {
        type: "object",
        properties: {
          code: { type: "string", description: "The TypeScript program" },
          timeoutSeconds: {
            type: "number",
            exclusiveMinimum: 0,
            maximum: maxSeconds,
            description: `Stop the program when it has run this long, type-checking not ` +
              `included (default and most ${maxSeconds})`,
          },
        },
        required: ["code"],
      },
      annotations: { title: "Run a program", readOnlyHint: false, openWorldHint: true },
    },
  ];
}
