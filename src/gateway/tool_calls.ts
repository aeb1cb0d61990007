/**
 * Listing and calling the gateway's tools: its own local tools first, then the exposed tools
 * of the upstreams; a call goes to the upstream that listed the name (or, for a server that is
 * down and never listed tools, the one whose prefix the name carries) and its answer comes back
 * with secrets masked, or as an `isError` result that names the server and the fix.
 */
// @ts-types="@modelcontextprotocol/sdk/types"
import {
  type CallToolResult,
  ErrorCode,
  McpError,
  type Tool,
} from "@modelcontextprotocol/sdk/types.js";
import { NotAuthenticatedError, ToolscriptError, UpstreamError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { type FixContext, renderFix, renderFixIn } from "../fix_command.ts";
import type { Upstream } from "./upstream.ts";
import type { ExposureCache } from "./exposure_cache.ts";
import type { GatewayMetrics } from "./metrics.ts";
import { maskSecrets } from "./mask_secrets.ts";
import { RetiredUpstreamError } from "./upstream_pool.ts";
import type { CallerUpstreams } from "./caller_upstreams.ts";

/**
 * Tools served by the gateway itself rather than an upstream: listed before the upstreams'
 * tools, and a call to one of their names is handled here before any upstream is looked up.
 */
export interface LocalTools {
  /** The tools, in listing order; an upstream tool of the same name is neither listed nor called. */
  // deno-doc-ignore private-type-ref -- an MCP SDK type (`@modelcontextprotocol/sdk/types.js`)
  readonly tools: readonly Tool[];
  /** False: `listTools()` lists only {@link LocalTools.tools} (upstream tools stay callable). */
  readonly listUpstreamTools: boolean;
  /**
   * Calls one of {@link LocalTools.tools}; `signal` is the client's cancellation of the call,
   * `caller` the `gateway.callers` caller making it (tool calls made for it act as that caller).
   */
  // deno-doc-ignore private-type-ref -- an MCP SDK type (`@modelcontextprotocol/sdk/types.js`)
  call(
    name: string,
    args: Record<string, unknown> | undefined,
    signal?: AbortSignal,
    caller?: string,
  ): Promise<CallToolResult>;
}

/** Options of {@link ToolCalls}. */
export interface ToolCallsOptions {
  /** The upstreams by server name (the map a reload swaps in place). */
  upstreams: ReadonlyMap<string, Upstream>;
  /** The exposure table of their offers. */
  exposure: ExposureCache;
  /** Where calls are counted. */
  metrics: GatewayMetrics;
  /** Its redactor masks secrets in answers and error results. */
  logger: Logger;
  /** What fix commands in error results add (`--config`). */
  fixes: FixContext;
  /** The callers' own connections (`gateway.callers`); undefined: every call is the gateway's. */
  callers?: CallerUpstreams;
}

/** The tool side of the gateway; see the module comment. */
export class ToolCalls {
  readonly #options: ToolCallsOptions;
  #local?: { tools: LocalTools; names: Set<string> };

  /** Serves no local tools until {@link ToolCalls.serveLocal}. */
  constructor(options: ToolCallsOptions) {
    this.#options = options;
  }

  /** Serves `tools` before the upstreams' tools. */
  serveLocal(tools: LocalTools): void {
    this.#local = { tools, names: new Set(tools.tools.map((t) => t.name)) };
  }

  /** The local tools, then the upstreams' exposed tools not shadowed by a local one. */
  // deno-doc-ignore private-type-ref -- an MCP SDK type (`@modelcontextprotocol/sdk/types.js`)
  list(): Tool[] {
    const exposed = this.#options.exposure.names.tools;
    const local = this.#local;
    if (!local) return [...exposed];
    const upstream = local.tools.listUpstreamTools
      ? exposed.filter((tool) => !local.names.has(tool.name))
      : [];
    return [...local.tools.tools, ...upstream];
  }

  /**
   * Calls an exposed tool (see `Gateway.callTool`).
   *
   * @throws {McpError} (`InvalidParams`) for a name that is not listed, and the upstream's own
   *   JSON-RPC errors.
   */
  // deno-doc-ignore private-type-ref -- an MCP SDK type (`@modelcontextprotocol/sdk/types.js`)
  async call(
    namespaced: string,
    args: Record<string, unknown> | undefined,
    signal?: AbortSignal,
    caller?: string,
  ): Promise<CallToolResult> {
    if (this.#local?.names.has(namespaced)) {
      return await this.#local.tools.call(namespaced, args, signal, caller);
    }
    const { metrics, logger } = this.#options;
    const startedAt = performance.now();
    // A server that is down and never listed tools may still own the name: reconnect and try,
    // or say why it is down, rather than "unknown tool".
    const listed = this.#options.exposure.resolve(namespaced, "tool");
    const target = listed ?? this.#unlistedTarget(namespaced);
    if (!target) {
      metrics.toolCalls(undefined, undefined).record("failed", startedAt);
      throw new McpError(ErrorCode.InvalidParams, `Unknown tool "${namespaced}"`);
    }
    const { name } = target;
    // Only names the upstream listed become labels, so clients cannot grow the series.
    const calls = metrics.toolCalls(target.upstream.name, listed && name);
    // A caller's call to an OAuth server goes through that caller's own connection.
    const callers = this.#options.callers;
    const own = caller === undefined || !callers
      ? undefined
      : await callers.forCall(target.upstream.config, caller);
    const upstream = own ?? target.upstream;
    if (own && own.state !== "ok" && own.lastFailure instanceof ToolscriptError) {
      calls.record("failed", startedAt);
      logger.info(`call of caller "${caller}" to server "${upstream.name}" refused`, {
        error: own.lastError,
      });
      return this.errorResult(own.lastFailure, upstream.name);
    }
    if (!own && name === "authenticate" && upstream.state === "needs-auth") {
      calls.record("failed", startedAt);
      return this.errorResult(new NotAuthenticatedError(upstream.name));
    }
    try {
      const result = maskSecrets(await upstream.callTool(name, args, signal), logger.redactor);
      calls.record(result.isError === true ? "error" : "ok", startedAt);
      return result;
    } catch (error) {
      calls.record("failed", startedAt);
      if (error instanceof RetiredUpstreamError) throw error;
      if (error instanceof McpError && !isLocalError(error)) {
        error.message = logger.redactor.maskSecrets(error.message);
        maskSecrets(error.data, logger.redactor); // in place: `data` is read-only
        throw error;
      }
      if (error instanceof ToolscriptError) return this.errorResult(error, upstream.name);
      return this.errorResult(
        new UpstreamError(upstream.name, error instanceof Error ? error.message : String(error)),
      );
    }
  }

  #unlistedTarget(namespaced: string): { upstream: Upstream; name: string } | undefined {
    const { upstreams, exposure } = this.#options;
    const target = exposure.names.unlistedTool(
      namespaced,
      (server) => upstreams.get(server)?.state !== "ok",
    );
    const upstream = target && upstreams.get(target.server);
    return upstream && { upstream, name: target.name };
  }

  /**
   * A tool result with `isError: true` whose redacted text names the server (when given), says
   * what went wrong and the command that fixes it.
   */
  errorResult(error: ToolscriptError, server?: string): CallToolResult {
    const fixes = this.#options.fixes;
    let text = renderFixIn(error.message, error, fixes);
    if (server && !text.includes(`"${server}"`)) text = `Server "${server}": ${text}`;
    const fix = renderFix(error, fixes);
    if (fix && !text.includes(fix)) text += `; fix: ${fix}`;
    text = this.#options.logger.redactor.redactText(text);
    return { isError: true, content: [{ type: "text", text }] };
  }
}

/** SDK errors raised on our side of the connection (closed, timed out), not by the upstream. */
function isLocalError(error: McpError): boolean {
  return error.code === ErrorCode.ConnectionClosed || error.code === ErrorCode.RequestTimeout;
}
