/**
 * What `exec`, `types` and `search` share (private to this folder): the running gateway named
 * by `TOOLSCRIPT_GATEWAY_URL`, quieter logs, and the tool catalog from that gateway or,
 * without one, from the config directly.
 */
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import { type CallToolResult, CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { ToolscriptError, UsageError } from "../errors.ts";
import { Logger } from "../log.ts";
import { isRecord } from "../config/is_record.ts";
import type { CatalogTool } from "../codemode/tool_catalog.ts";
import { catalogOfGateway } from "../codemode/gateway_catalog.ts";
import {
  CHECK_PATH,
  MAX_CHECK_BODY_BYTES,
  TOOL_CATALOG_PATH,
  TOOLS_MODULE_PATH,
} from "../codemode/runtime_routes.ts";
import {
  type CheckVerdict,
  type ProgramChecker,
  toolsModuleHash,
} from "../codemode/warm_checker.ts";
import { type CliIo, createCliGateway, openCliRuntime } from "./cli_runtime.ts";
import type { SandboxCallTool } from "../codemode/exec_sandbox.ts";
import { gatewayTokenFromEnv } from "./gateway.ts";

/** A running gateway to use instead of starting one. */
export interface RunningGateway {
  /** `http://host:port`. */
  origin: string;
  /** `http://host:port/mcp`. */
  url: string;
  token?: string;
}

/**
 * The gateway `TOOLSCRIPT_GATEWAY_URL` names (with `TOOLSCRIPT_GATEWAY_TOKEN`), if set. The
 * running gateway has its own config, so a `configFlag` (`--config`) is ignored, with a warning.
 */
export function runningGateway(io: CliIo, configFlag?: string): RunningGateway | undefined {
  const value = io.env("TOOLSCRIPT_GATEWAY_URL");
  if (!value) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`TOOLSCRIPT_GATEWAY_URL is not a URL: "${value}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`TOOLSCRIPT_GATEWAY_URL must be an http(s) URL, got "${value}"`);
  }
  const token = gatewayTokenFromEnv(io);
  if (configFlag !== undefined) {
    io.logger.warn(
      `TOOLSCRIPT_GATEWAY_URL is set: using the running gateway at "${url.origin}" and ` +
        `ignoring --config "${configFlag}" (unset TOOLSCRIPT_GATEWAY_URL to use that config)`,
    );
  }
  return { origin: url.origin, url: url.href, token };
}

/**
 * `io` with a logger at `warn` unless `TOOLSCRIPT_LOG` says otherwise, so connection chatter
 * does not mix with a program's or a listing's output. Shares the redactor.
 */
export function quietIo(io: CliIo): CliIo {
  if (io.env("TOOLSCRIPT_LOG")) return io;
  const logger = new Logger({
    level: "warn",
    redactor: io.logger.redactor,
    write: (line) => io.stderr(line + "\n"),
  });
  return { ...io, logger };
}

/** Every tool behind the gateway and the configured server names. */
export interface Catalog {
  tools: CatalogTool[];
  servers: string[];
}

/**
 * Lists the tools: from the running gateway when `TOOLSCRIPT_GATEWAY_URL` is set, else by
 * connecting to every enabled server of the config (servers that fail are logged and left
 * out).
 */
export async function loadCatalog(io: CliIo, configFlag?: string): Promise<Catalog> {
  const running = runningGateway(io, configFlag);
  if (running) return await catalogOfRunningGateway(running, io);
  const runtime = await openCliRuntime(io, configFlag);
  await using gateway = createCliGateway(runtime);
  await gateway.start();
  for (const server of gateway.health()) {
    if (server.state === "ok") continue;
    runtime.logger.warn(`server "${server.name}" is ${server.state}: ${server.error ?? ""}`);
  }
  return { tools: catalogOfGateway(gateway), servers: [...gateway.upstreams.keys()] };
}

/** The running gateway's tool catalog, from its `/runtime/catalog.json` (same access rules as `/mcp`). */
async function catalogOfRunningGateway(running: RunningGateway, io: CliIo): Promise<Catalog> {
  const headers: Record<string, string> = running.token
    ? { authorization: `Bearer ${running.token}` }
    : {};
  const response = await io.fetch(new URL(TOOL_CATALOG_PATH, running.origin), {
    headers,
    signal: io.signal,
  }).catch((error) => {
    throw unreachable(running, error);
  });
  if (!response.ok) {
    await response.body?.cancel();
    throw new ToolscriptError(
      `The toolscript gateway at "${running.origin}" answered HTTP ${response.status}`,
      {
        code: "upstream",
        fix: response.status === 401
          ? "set TOOLSCRIPT_GATEWAY_TOKEN to the gateway's token"
          : undefined,
      },
    );
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (!isRecord(body) || !Array.isArray(body.tools) || !Array.isArray(body.servers)) {
    throw new ToolscriptError(
      `The toolscript gateway at "${running.origin}" sent no tool catalog`,
      { code: "upstream" },
    );
  }
  const tools = body.tools.filter((tool): tool is CatalogTool =>
    isRecord(tool) && typeof tool.server === "string" && typeof tool.name === "string" &&
    isRecord(tool.inputSchema)
  );
  return { tools, servers: body.servers.map(String) };
}

function unreachable(running: RunningGateway, error: unknown): ToolscriptError {
  return new ToolscriptError(`Cannot reach the toolscript gateway at "${running.origin}"`, {
    code: "upstream",
    cause: error,
    fix: "toolscript gateway, or unset TOOLSCRIPT_GATEWAY_URL",
  });
}

/** A running gateway as `exec` uses it: its tools module and a way to call its tools. */
export interface GatewayConnection extends AsyncDisposable {
  /** The gateway's `/runtime/tools.ts`. */
  toolsModule: string;
  /** Calls `<server>__<tool>` over MCP, with the gateway token when there is one. */
  callTool: SandboxCallTool;
  /** Asks the gateway's warm checker (`/runtime/check`) about a program. */
  checker: ProgramChecker;
}

/** Longest wait for the gateway's warm check before type-checking locally. */
const GATEWAY_CHECK_TIMEOUT_MS = 15_000;

/**
 * Fetches the running gateway's tools module and opens an MCP session to it at once (so the
 * session is ready by the program's first call, while the program is still type-checked).
 * The gateway token stays in this process. Disposing ends the session.
 *
 * @throws {ToolscriptError} (code `upstream`) when the module cannot be fetched.
 */
export async function connectRunningGateway(
  running: RunningGateway,
  io: CliIo,
  options: { requestTimeoutMs: number },
): Promise<GatewayConnection> {
  const headers: Record<string, string> = running.token
    ? { authorization: `Bearer ${running.token}` }
    : {};
  const toolsModule = await fetchToolsModule(running, io, headers);
  const client = new Client({ name: "toolscript-exec", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(running.url), {
    requestInit: { headers },
    fetch: io.fetch,
  });
  const connected = client.connect(transport).then(() => true, (error) => {
    io.logger.debug("cannot open an MCP session with the gateway", { error: String(error) });
    return false;
  });
  const toolsHash = toolsModuleHash(toolsModule);
  return {
    toolsModule,
    checker: {
      async check(code, module, signal): Promise<CheckVerdict> {
        try {
          if (module !== toolsModule) return "unsure";
          const request = new TextEncoder().encode(
            JSON.stringify({ tools: await toolsHash, program: code }),
          );
          if (request.length > MAX_CHECK_BODY_BYTES) return "unsure";
          const bound = AbortSignal.timeout(GATEWAY_CHECK_TIMEOUT_MS);
          const response = await io.fetch(new URL(CHECK_PATH, running.origin), {
            method: "POST",
            headers: { ...headers, "content-type": "application/json" },
            body: request,
            signal: signal ? AbortSignal.any([signal, bound]) : bound,
          });
          if (!response.ok) {
            await response.body?.cancel();
            return "unsure";
          }
          const body = await response.json();
          return isRecord(body) && body.verdict === "clean" ? "clean" : "unsure";
        } catch (error) {
          io.logger.debug("no warm check from the gateway", { error: String(error) });
          return "unsure";
        }
      },
    },
    async callTool(name, args, signal) {
      if (!await connected) throw unreachable(running, undefined);
      // deno-lint-ignore no-explicit-any -- the SDK's result type is a zod-inferred union
      const result: any = await client.request(
        { method: "tools/call", params: { name, arguments: args } },
        CallToolResultSchema,
        { signal, timeout: options.requestTimeoutMs, maxTotalTimeout: options.requestTimeoutMs },
      );
      return result as CallToolResult;
    },
    async [Symbol.asyncDispose]() {
      if (await connected) await transport.terminateSession().catch(() => {});
      await client.close();
    },
  };
}

async function fetchToolsModule(
  running: RunningGateway,
  io: CliIo,
  headers: Record<string, string>,
): Promise<string> {
  const url = new URL(TOOLS_MODULE_PATH, running.origin);
  let response: Response;
  try {
    response = await io.fetch(url, {
      headers: { ...headers, accept: "application/typescript" },
      signal: io.signal,
    });
  } catch (error) {
    io.signal.throwIfAborted();
    throw unreachable(running, error);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new ToolscriptError(
      `Cannot load the tools module from the gateway at "${running.origin}": ` +
        `HTTP ${response.status}`,
      {
        code: "upstream",
        fix: response.status === 401
          ? "set TOOLSCRIPT_GATEWAY_TOKEN to the gateway's token"
          : undefined,
      },
    );
  }
  return await response.text();
}
