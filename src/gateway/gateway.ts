/**
 * The aggregating core: every enabled server as an {@link Upstream}, their tools, prompts and
 * resources merged under `<server>__<name>`, and calls routed back to the right upstream.
 * Transports for our own endpoint (HTTP, stdio) sit on top of this in other modules.
 */
// @ts-types="@modelcontextprotocol/sdk/types"
import {
  type CallToolResult,
  ErrorCode,
  McpError,
  type Prompt,
  type Resource,
  type ResourceTemplate,
  type Tool,
} from "@modelcontextprotocol/sdk/types.js";
import type { Config, ServerConfig } from "../config/types.ts";
import type { CredentialProvider } from "../auth/types.ts";
import { NotAuthenticatedError, ToolscriptError, UpstreamError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { Upstream, type UpstreamState } from "./upstream.ts";
import type { ToolCache } from "./tool_cache.ts";
import { SessionHub } from "./session_hub.ts";

/** Separates the server name from the upstream's own tool or prompt name. */
export const NAME_SEPARATOR = "__";

/** Options of {@link Gateway}. */
export interface GatewayOptions {
  /** Receives connection and call logs; its redactor also cleans error results sent to clients. */
  logger: Logger;
  /** Returns the credentials for a server (none for servers without `auth`). */
  credentialsFor?: (server: ServerConfig) => CredentialProvider | undefined;
  /** Default `globalThis.fetch`; used for upstream HTTP and SSE servers. */
  fetch?: typeof fetch;
  /** Remembers each server's last tool list so a server that needs login still shows tools. */
  toolCache?: ToolCache;
  /** Config path to put in `toolscript auth … --config` hints; undefined for the default. */
  configPath?: string;
  /**
   * Backoff in ms before reconnect attempt `attempt` (0-based) of a failed server; default 1 s
   * doubling to 60 s, with jitter.
   */
  retryDelayMs?: (attempt: number) => number;
}

/** One server's state as `status` and `/health` show it. */
export interface ServerHealth {
  /** The server's name in config. */
  name: string;
  /** `stdio`, `http` or `sse`. */
  transport: ServerConfig["type"];
  /** Connection state; `needs-auth` means the user must log in (see `fix`). */
  state: UpstreamState;
  /** Number of tools offered: the live list, else the last one seen or cached. */
  tools: number;
  /** Why the last connect or call failed, redacted; undefined when healthy. */
  error?: string;
  /** The command that fixes `needs-auth` (`toolscript auth <server>`); undefined otherwise. */
  fix?: string;
}

/**
 * All upstreams behind one namespace: tools, prompts and resources of server `s` appear as
 * `s__<name>`. One failing server never blocks or breaks the others; it is retried in the
 * background. Build it with {@link createGateway}, then `start()`; `close()` (or
 * `await using`) stops stdio children and open connections.
 */
export class Gateway implements AsyncDisposable {
  /** The config it was built from; servers with `enabled: false` get no upstream. */
  readonly config: Config;
  /**
   * The upstream of each enabled server, by name. Internal: for toolscript's own endpoints
   * and commands, not part of the library API.
   * @ignore
   */
  readonly upstreams: Map<string, Upstream>;
  /** The logger from the options; error results sent to clients pass its redactor. */
  readonly logger: Logger;
  /**
   * The connected client sessions, where upstreams route progress, log messages and
   * server-to-client requests. Internal, like {@link Gateway.upstreams}.
   * @ignore
   */
  readonly hub: SessionHub = new SessionHub();
  #listeners = new Set<() => void>();
  #options: GatewayOptions;
  #version = 0;
  /** Tool-cache writes under way; `close()` waits for them. */
  #saving = new Set<Promise<void>>();

  /** Connects nothing yet; call {@link Gateway.start}. */
  constructor(config: Config, options: GatewayOptions) {
    this.config = config;
    this.logger = options.logger;
    this.#options = options;
    this.upstreams = new Map();
    for (const server of config.servers) {
      if (!server.enabled) continue;
      this.upstreams.set(
        server.name,
        new Upstream(server, {
          logger: options.logger,
          credentials: options.credentialsFor?.(server),
          fetch: options.fetch,
          configPath: options.configPath,
          retryDelayMs: options.retryDelayMs,
          hub: this.hub,
          onChange: (upstream) => this.#changed(upstream),
        }),
      );
    }
  }

  /**
   * Connects every upstream in parallel and resolves when each has connected or failed its
   * first attempt (each bounded by its own timeout); failed ones keep retrying in the background.
   * An abort of `signal` rejects at once with its reason (the upstreams are left to `close()`).
   */
  async start(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const started = Promise.all(
      [...this.upstreams.values()].map(async (upstream) => {
        const cached = await this.#options.toolCache?.load(upstream.name).catch((error) => {
          this.logger.debug(`no cached tools for server "${upstream.name}"`, {
            error: String(error),
          });
          return undefined;
        });
        if (cached && upstream.catalog.tools.length === 0) upstream.catalog.tools = cached;
        await upstream.connect();
      }),
    );
    if (!signal) return void await started;
    const aborted = Promise.withResolvers<never>();
    const onAbort = () => aborted.reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      await Promise.race([started, aborted.promise]);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  /** A counter that changes whenever any upstream's offer changes (for cache keys). */
  get version(): number {
    return this.#version;
  }

  /** Subscribes to changes of the merged lists; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(upstream: Upstream): void {
    this.#version++;
    if (upstream.state === "ok" && this.#options.toolCache) {
      const saving = this.#options.toolCache.save(upstream.name, upstream.catalog.tools)
        .catch((error) =>
          this.logger.warn(`cannot cache tools of server "${upstream.name}"`, {
            error: String(error),
          })
        )
        .finally(() => this.#saving.delete(saving));
      this.#saving.add(saving);
    }
    for (const listener of this.#listeners) listener();
  }

  /**
   * Every tool of every upstream, named `<server>__<tool>`. A server that needs a login and
   * has no cached tools contributes one `<server>__authenticate` tool naming the fix command.
   */
  // deno-doc-ignore private-type-ref -- an MCP SDK type (`@modelcontextprotocol/sdk/types.js`)
  listTools(): Tool[] {
    const tools: Tool[] = [];
    for (const upstream of this.upstreams.values()) {
      for (const tool of upstream.catalog.tools) {
        tools.push({ ...tool, name: `${upstream.name}${NAME_SEPARATOR}${tool.name}` });
      }
      if (upstream.catalog.tools.length === 0 && upstream.state === "needs-auth") {
        tools.push(this.#authenticateTool(upstream));
      }
    }
    return tools;
  }

  #authenticateTool(upstream: Upstream): Tool {
    const fix = this.#fixFor(upstream);
    return {
      name: `${upstream.name}${NAME_SEPARATOR}authenticate`,
      description: `Server "${upstream.name}" needs a login before its tools can be used. ` +
        `Ask the user to run: ${fix}`,
      inputSchema: { type: "object", properties: {} },
    };
  }

  #fixFor(upstream: Upstream): string {
    const failure = upstream.lastFailure;
    if (failure instanceof ToolscriptError && failure.fix) return failure.fix;
    return new NotAuthenticatedError(upstream.name, { configPath: this.#options.configPath })
      .fix!;
  }

  /**
   * Finds the upstream and its own name for a namespaced `<server>__<name>` (the longest
   * matching server name wins). Internal, like {@link Gateway.upstreams}.
   * @ignore
   */
  resolve(namespaced: string): { upstream: Upstream; name: string } | undefined {
    let best: Upstream | undefined;
    for (const upstream of this.upstreams.values()) {
      if (
        namespaced.startsWith(upstream.name + NAME_SEPARATOR) &&
        (!best || upstream.name.length > best.name.length)
      ) best = upstream;
    }
    if (!best) return undefined;
    return { upstream: best, name: namespaced.slice(best.name.length + NAME_SEPARATOR.length) };
  }

  /**
   * Calls a namespaced tool. Upstream results and JSON-RPC errors pass through unchanged;
   * connection and credential problems become an `isError` result that says which server,
   * why, and the command that fixes it.
   *
   * @throws {McpError} (`InvalidParams`) for a name that matches no server, and the upstream's
   *   own JSON-RPC errors.
   */
  // deno-doc-ignore private-type-ref -- an MCP SDK type (`@modelcontextprotocol/sdk/types.js`)
  async callTool(
    namespaced: string,
    args: Record<string, unknown> | undefined,
    signal?: AbortSignal,
  ): Promise<CallToolResult> {
    const target = this.resolve(namespaced);
    if (!target) {
      throw new McpError(ErrorCode.InvalidParams, `Unknown tool "${namespaced}"`);
    }
    const { upstream, name } = target;
    if (name === "authenticate" && upstream.state === "needs-auth") {
      return this.errorResult(
        new NotAuthenticatedError(upstream.name, { configPath: this.#options.configPath }),
      );
    }
    // A tool the server never listed is still tried (the list may be stale); if the server
    // refuses it, say which tool of which server, since its own error may name neither.
    const listed = upstream.catalog.tools.some((t) => t.name === name);
    try {
      const result = await upstream.callTool(name, args, signal);
      if (listed || !result.isError) return result;
      const note = `Unknown tool "${namespaced}" on server "${upstream.name}"`;
      return { ...result, content: [{ type: "text", text: note }, ...result.content] };
    } catch (error) {
      if (error instanceof McpError && !isLocalError(error)) {
        if (listed) throw error;
        throw new McpError(
          error.code,
          `Unknown tool "${namespaced}" (server "${upstream.name}" answered: ${
            error.message.replace(/^MCP error -?\d+: /, "")
          })`,
          error.data,
        );
      }
      if (error instanceof ToolscriptError) return this.errorResult(error, upstream.name);
      return this.errorResult(
        new UpstreamError(upstream.name, error instanceof Error ? error.message : String(error)),
      );
    }
  }

  /**
   * A tool result with `isError: true` whose redacted text names the server (when given), says
   * what went wrong and the command that fixes it.
   */
  errorResult(error: ToolscriptError, server?: string): CallToolResult {
    let text = error.message;
    if (server && !text.includes(`"${server}"`)) text = `Server "${server}": ${text}`;
    if (error.fix && !text.includes(error.fix)) text += `; fix: ${error.fix}`;
    text = this.logger.redactor.redactText(text);
    return { isError: true, content: [{ type: "text", text }] };
  }

  /** Every prompt, named `<server>__<prompt>`. */
  // deno-doc-ignore private-type-ref -- an MCP SDK type (`@modelcontextprotocol/sdk/types.js`)
  listPrompts(): Prompt[] {
    return [...this.upstreams.values()].flatMap((u) =>
      u.catalog.prompts.map((p) => ({ ...p, name: `${u.name}${NAME_SEPARATOR}${p.name}` }))
    );
  }

  /** Every resource; URIs stay as the upstream gave them, names are namespaced. */
  // deno-doc-ignore private-type-ref -- an MCP SDK type (`@modelcontextprotocol/sdk/types.js`)
  listResources(): Resource[] {
    return [...this.upstreams.values()].flatMap((u) =>
      u.catalog.resources.map((r) => ({ ...r, name: `${u.name}${NAME_SEPARATOR}${r.name}` }))
    );
  }

  /** Every resource template, names namespaced. */
  // deno-doc-ignore private-type-ref -- an MCP SDK type (`@modelcontextprotocol/sdk/types.js`)
  listResourceTemplates(): ResourceTemplate[] {
    return [...this.upstreams.values()].flatMap((u) =>
      u.catalog.templates.map((t) => ({ ...t, name: `${u.name}${NAME_SEPARATOR}${t.name}` }))
    );
  }

  /**
   * The upstream that listed `uri`, or the first whose template shares its scheme. Internal,
   * like {@link Gateway.upstreams}.
   * @ignore
   */
  upstreamForResource(uri: string): Upstream | undefined {
    const all = [...this.upstreams.values()];
    const listed = all.find((u) => u.catalog.resources.some((r) => r.uri === uri));
    if (listed) return listed;
    const scheme = uri.split(":")[0] + ":";
    return all.find((u) => u.catalog.templates.some((t) => t.uriTemplate.startsWith(scheme)));
  }

  /** Health of every enabled server. */
  health(): ServerHealth[] {
    return [...this.upstreams.values()].map((u) => ({
      name: u.name,
      transport: u.config.type,
      state: u.state,
      tools: u.catalog.tools.length,
      error: u.lastError,
      fix: u.state === "needs-auth" ? this.#fixFor(u) : undefined,
    }));
  }

  /** Closes every upstream (stopping stdio children). */
  async close(): Promise<void> {
    this.#listeners.clear();
    await Promise.all([...this.upstreams.values()].map((u) => u.close()));
    await Promise.all(this.#saving);
  }

  /** Same as {@link Gateway.close}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** SDK errors raised on our side of the connection (closed, timed out), not by the upstream. */
function isLocalError(error: McpError): boolean {
  return error.code === ErrorCode.ConnectionClosed || error.code === ErrorCode.RequestTimeout;
}
