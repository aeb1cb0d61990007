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
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { ToolscriptError, UsageError } from "../errors.ts";
import { Logger } from "../log.ts";
import type { CatalogTool } from "../codemode/tool_catalog.ts";
import {
  catalogFromTools,
  catalogOfGateway,
  splitByServerNames,
} from "../codemode/gateway_catalog.ts";
import { type CliIo, createCliGateway, openCliRuntime } from "./cli_runtime.ts";
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

async function catalogOfRunningGateway(running: RunningGateway, io: CliIo): Promise<Catalog> {
  const headers: Record<string, string> = running.token
    ? { authorization: `Bearer ${running.token}` }
    : {};
  const health = await io.fetch(new URL("/health", running.origin), { headers, signal: io.signal })
    .catch((error) => {
      throw unreachable(running, error);
    });
  if (!health.ok) {
    await health.body?.cancel();
    throw new ToolscriptError(
      `The toolscript gateway at "${running.origin}" answered HTTP ${health.status}`,
      {
        code: "upstream",
        fix: health.status === 401
          ? "set TOOLSCRIPT_GATEWAY_TOKEN to the gateway's token"
          : undefined,
      },
    );
  }
  const body = await health.json() as { servers?: Array<{ name?: unknown }> };
  const servers = (body.servers ?? []).map((s) => String(s.name));
  const client = new Client({ name: "toolscript-cli", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(running.url), {
    requestInit: { headers },
    fetch: io.fetch,
  });
  try {
    await client.connect(transport);
  } catch (error) {
    throw unreachable(running, error);
  }
  try {
    const tools: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : {}, { signal: io.signal });
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor);
    return { tools: catalogFromTools(tools, splitByServerNames(servers)), servers };
  } finally {
    await transport.terminateSession().catch(() => {});
    await client.close();
  }
}

function unreachable(running: RunningGateway, error: unknown): ToolscriptError {
  return new ToolscriptError(`Cannot reach the toolscript gateway at "${running.origin}"`, {
    code: "upstream",
    cause: error,
    fix: "toolscript gateway, or unset TOOLSCRIPT_GATEWAY_URL",
  });
}
