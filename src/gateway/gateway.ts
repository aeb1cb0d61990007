/**
 * The aggregating core: every enabled server as an {@link Upstream}, their tools, prompts and
 * resources merged under `<server>__<name>`, and calls routed back to the right upstream.
 * Transports for our own endpoint (HTTP, stdio) sit on top of this in other modules; the parts
 * live beside it: the upstreams' lifecycle (upstream_pool.ts), reloads (reload_plan.ts,
 * apply_reload.ts), the exposure table (exposure_cache.ts), list changes (list_changes.ts),
 * tool calls (tool_calls.ts) and health (server_health.ts).
 */
// @ts-types="@modelcontextprotocol/sdk/types"
import type {
  CallToolResult,
  Prompt,
  Resource,
  ResourceTemplate,
  Tool,
} from "@modelcontextprotocol/sdk/types.js";
import type { Config, ServerConfig } from "../config/types.ts";
import type { CredentialProvider } from "../auth/types.ts";
import type { ToolscriptError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { FixContext } from "../fix_command.ts";
import type { Upstream } from "./upstream.ts";
import type { ToolCache } from "./tool_cache.ts";
import type { ExposedNames } from "./exposed_names.ts";
import { raceAbort } from "../abort.ts";
import { maskSecrets } from "./mask_secrets.ts";
import { SessionHub } from "./session_hub.ts";
import { GatewayMetrics } from "./metrics.ts";
import { type GatewayReload, GatewayReloads } from "./apply_reload.ts";
import { UpstreamPool } from "./upstream_pool.ts";
import { ExposureCache } from "./exposure_cache.ts";
import { ListChanges, type ListTexts } from "./list_changes.ts";
import { type LocalTools, ToolCalls } from "./tool_calls.ts";
import { CallerUpstreams } from "./caller_upstreams.ts";
import { type ServerHealth, serverHealth } from "./server_health.ts";

export { NAME_SEPARATOR } from "./exposed_names.ts";
export type { ListKind } from "./list_changes.ts";
export type { GatewayReload } from "./apply_reload.ts";
export type { LocalTools } from "./tool_calls.ts";
export type { ServerHealth } from "./server_health.ts";

/** Options of {@link Gateway}. */
export interface GatewayOptions {
  /** Receives connection and call logs; its redactor also cleans error results sent to clients. */
  logger: Logger;
  /** Returns the credentials for a server (none for servers without `auth`). */
  credentialsFor?: (server: ServerConfig) => CredentialProvider | undefined;
  /**
   * A caller's own credentials for a server (`gateway.callers`); undefined for servers whose
   * credentials are the gateway's. Without it, every call uses the gateway's credentials.
   */
  callerCredentialsFor?: (server: ServerConfig, caller: string) => CredentialProvider | undefined;
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
  /**
   * Where tool calls are counted (default a new one); pass the one whose `countTokenRequest`
   * the credential providers were given, so `/metrics` shows their token requests too.
   * Internal: not part of the library API yet.
   * @ignore
   */
  metrics?: GatewayMetrics;
  /**
   * Tools the gateway serves itself (code mode's `toolscript__*`), built once from the new
   * gateway; see {@link LocalTools}. The gateway knows nothing of what they do.
   */
  localTools?: (gateway: Gateway) => LocalTools;
}

/**
 * All upstreams behind one namespace: tools, prompts and resources of server `s` appear as
 * `s__<name>`. One failing server never blocks or breaks the others; it is retried in the
 * background. Build it with {@link createGateway}, then `start()`; `close()` (or
 * `await using`) stops stdio children and open connections.
 */
export class Gateway implements AsyncDisposable {
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
  /**
   * Counters and histograms behind `GET /metrics` (see {@link Gateway.renderMetrics}).
   * Internal, like {@link Gateway.upstreams}.
   * @ignore
   */
  readonly metrics: GatewayMetrics;
  readonly #pool: UpstreamPool;
  readonly #exposure: ExposureCache;
  readonly #tools: ToolCalls;
  readonly #changes: ListChanges;
  readonly #reloads: GatewayReloads;
  readonly #callers?: CallerUpstreams;
  /** What this edge adds to fix commands: the `--config` it runs with. */
  readonly #fixes: FixContext;

  /** Connects nothing yet; call {@link Gateway.start}. */
  constructor(config: Config, options: GatewayOptions) {
    this.logger = options.logger;
    this.#fixes = { configPath: options.configPath };
    this.metrics = options.metrics ?? new GatewayMetrics();
    this.#pool = new UpstreamPool({
      logger: options.logger,
      hub: this.hub,
      onChange: () => this.#changes.notify(),
      credentialsFor: options.credentialsFor,
      fetch: options.fetch,
      toolCache: options.toolCache,
      retryDelayMs: options.retryDelayMs,
      fixes: this.#fixes,
    });
    this.upstreams = this.#pool.upstreams;
    for (const server of config.servers) {
      if (server.enabled) this.upstreams.set(server.name, this.#pool.create(server));
    }
    this.#exposure = new ExposureCache(this.upstreams, {
      logger: options.logger,
      fixes: this.#fixes,
    });
    // Before the local tools: their builder may subscribe to changes.
    this.#changes = new ListChanges(() => this.#listTexts());
    this.#callers = options.callerCredentialsFor && new CallerUpstreams({
      logger: options.logger,
      credentialsFor: options.callerCredentialsFor,
      fetch: options.fetch,
      hub: this.hub,
      fixes: this.#fixes,
    });
    this.#tools = new ToolCalls({
      upstreams: this.upstreams,
      exposure: this.#exposure,
      metrics: this.metrics,
      logger: options.logger,
      fixes: this.#fixes,
      callers: this.#callers,
    });
    const local = options.localTools?.(this);
    if (local) this.#tools.serveLocal(local);
    this.#changes.baseline();
    this.#reloads = new GatewayReloads(this.#pool, config, {
      logger: options.logger,
      onSwapped: () => this.#changes.notify(),
      logLevel: () => this.hub.mostVerboseLevel(),
    });
  }

  /** The merged lists as JSON, one text per kind of `list_changed`. */
  #listTexts(): ListTexts {
    return {
      tools: JSON.stringify(this.listTools()),
      prompts: JSON.stringify(this.listPrompts()),
      resources: JSON.stringify([this.listResources(), this.listResourceTemplates()]),
    };
  }

  /**
   * The config it runs: the one it was built from, or the last one {@link Gateway.reload}
   * applied (with the `gateway` block it started with). Servers with `enabled: false` get no
   * upstream.
   */
  get config(): Config {
    return this.#reloads.config;
  }

  /**
   * Applies a new config without a restart: servers that are new (or newly enabled) get an
   * upstream and connect, servers gone (or disabled) are closed, servers whose entry changed
   * are closed and connected again with the new entry, and the others are left alone (their
   * connections, stdio children and sessions untouched). The upstreams take the new config's
   * order, which decides who wins a shared exposed name. Clients hear `list_changed` when the
   * merged lists change. Requests in flight to a closed upstream reject with an `McpError`
   * (`ConnectionClosed`) that names the server and says why. A server whose entry left the
   * config loses its cached tool list; a disabled one keeps it. Its `secrets` join the
   * logger's redactor first. Resolves, like {@link Gateway.start}, once every new upstream has
   * connected or failed its first attempt; reloads run one at a time in call order.
   *
   * The `gateway` block (host, port, …) is not applied, and {@link Gateway.config} keeps the
   * one it started with: the caller decides what a change there means (the CLI logs that a
   * restart is needed). Internal: not part of the library API yet.
   * @ignore
   */
  reload(config: Config): Promise<GatewayReload> {
    return this.#reloads.reload(config);
  }

  /**
   * Closes the connections opened for `callers` (callers a config reload removed): their
   * credentials are not used again. Internal. @ignore
   */
  async forgetCallers(callers: readonly string[]): Promise<void> {
    await this.#callers?.forget(callers);
  }

  /**
   * Connects every upstream in parallel and resolves when each has connected or failed its
   * first attempt (each bounded by its own timeout); failed ones keep retrying in the background.
   * An abort of `signal` rejects at once with its reason (the upstreams are left to `close()`).
   */
  async start(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const upstreams = [...this.upstreams.values()];
    await raceAbort(Promise.all(upstreams.map((u) => this.#pool.connectFirst(u))), signal);
  }

  /** A counter that changes whenever any upstream's offer changes (for cache keys). */
  get version(): number {
    return this.#changes.version;
  }

  /**
   * Subscribes to changes of the upstreams' offers; `listener` gets the kinds of merged list
   * whose content changed (empty when none did, e.g. only a state changed). Returns the
   * unsubscribe function.
   */
  onChange(
    listener: (changed: ReadonlySet<"tools" | "prompts" | "resources">) => void,
  ): () => void {
    return this.#changes.onChange(listener);
  }

  /**
   * The exposure table of the upstreams' current offers: exposed names both ways, filters,
   * rewritten URIs (see {@link ExposedNames}). Rebuilt only when an upstream's catalog or state
   * changed since the last use, so listing and calling cost a lookup. Internal, like
   * {@link Gateway.upstreams}.
   * @ignore
   */
  get exposedNames(): ExposedNames {
    return this.#exposure.names;
  }

  /**
   * Every exposed tool of every upstream, named `<prefix>__<tool>` (the upstream's own name for
   * `prefix: ""`; `prefix` defaults to the server name), without those `tools.allow`/`deny`
   * hide; on a name two servers expose, the server listed first wins. A server that needs a
   * login and has no cached tools contributes one `<prefix>__authenticate` tool naming the fix
   * command.
   */
  // deno-doc-ignore private-type-ref -- an MCP SDK type (`@modelcontextprotocol/sdk/types.js`)
  listTools(): Tool[] {
    return this.#tools.list();
  }

  /**
   * Finds the upstream and its own name for an exposed tool (`kind: "tool"`) or prompt
   * (`kind: "prompt"`) name, from the same table the lists come from: a name resolves to a
   * server exactly when it is listed under that server. Without `kind`, tools are looked up
   * first, then prompts (pass `kind` where the two may share a name). Internal, like
   * {@link Gateway.upstreams}.
   * @ignore
   */
  resolve(
    namespaced: string,
    kind?: "tool" | "prompt",
  ): { upstream: Upstream; name: string } | undefined {
    return this.#exposure.resolve(namespaced, kind);
  }

  /**
   * Calls an exposed tool. Upstream results and JSON-RPC errors pass through with every
   * registered secret masked (see {@link Gateway.maskSecrets}); connection and credential
   * problems become an `isError` result that says which server, why, and the command that
   * fixes it.
   *
   * @throws {McpError} (`InvalidParams`) for a name that is not listed (unknown, hidden by a
   *   filter, or lost to an earlier server), and the upstream's own JSON-RPC errors.
   */
  // deno-doc-ignore private-type-ref -- an MCP SDK type (`@modelcontextprotocol/sdk/types.js`)
  async callTool(
    namespaced: string,
    args: Record<string, unknown> | undefined,
    signal?: AbortSignal,
    caller?: string,
  ): Promise<CallToolResult> {
    return await this.#tools.call(namespaced, args, signal, caller);
  }

  /**
   * A tool result with `isError: true` whose redacted text names the server (when given), says
   * what went wrong and the command that fixes it.
   */
  errorResult(error: ToolscriptError, server?: string): CallToolResult {
    return this.#tools.errorResult(error, server);
  }

  /** Every prompt, named `<prefix>__<prompt>` like tools (first server wins a shared name). */
  // deno-doc-ignore private-type-ref -- an MCP SDK type (`@modelcontextprotocol/sdk/types.js`)
  listPrompts(): Prompt[] {
    return [...this.exposedNames.prompts];
  }

  /**
   * Every resource, names prefixed like tools. URIs stay as the upstream gave them, except that
   * a URI an earlier server already offers (or can produce from a template) is exposed as
   * `toolscript://<server>/<the upstream's URI>`.
   */
  // deno-doc-ignore private-type-ref -- an MCP SDK type (`@modelcontextprotocol/sdk/types.js`)
  listResources(): Resource[] {
    return [...this.exposedNames.resources];
  }

  /** Every resource template, names prefixed, overlapping templates rewritten like URIs. */
  // deno-doc-ignore private-type-ref -- an MCP SDK type (`@modelcontextprotocol/sdk/types.js`)
  listResourceTemplates(): ResourceTemplate[] {
    return [...this.exposedNames.templates];
  }

  /**
   * The upstream behind an exposed resource URI and the URI as that upstream knows it (a
   * rewritten `toolscript://<server>/…` URI undone): the server that listed it, else the one
   * whose template produces it. Reads and subscriptions must send `uri`, not the exposed one.
   * Internal, like {@link Gateway.upstreams}.
   * @ignore
   */
  resolveResource(uri: string): { upstream: Upstream; uri: string } | undefined {
    return this.#exposure.resolveResource(uri);
  }

  /**
   * Masks every secret the logger's redactor knows (configured credentials and header values,
   * tokens obtained; also in their JSON-escaped forms) in every string of an upstream's answer
   * (tool result, prompt messages, resource contents, error data), in place, and returns it.
   * Free when there are no secrets. Internal, like {@link Gateway.upstreams}.
   * @ignore
   */
  maskSecrets<T>(value: T): T {
    return maskSecrets(value, this.logger.redactor);
  }

  /** Health of every enabled server. */
  health(): ServerHealth[] {
    return serverHealth(this.upstreams.values(), this.#fixes);
  }

  /**
   * Every metric in the Prometheus text exposition format 0.0.4 (`GET /metrics`): tool calls
   * and their latency, token requests, upstream state, open client sessions.
   */
  renderMetrics(): string {
    return this.metrics.render({ upstreams: this.upstreams.values(), sessionsOpen: this.hub.size });
  }

  /** Closes every upstream (stopping stdio children). */
  async close(): Promise<void> {
    const reloaded = this.#reloads.close();
    this.#changes.clear();
    await this.#callers?.close();
    // A reload under way has already swapped its upstreams in; closing them ends its connects.
    await this.#pool.closeAll();
    await reloaded;
    await this.#pool.settled();
  }

  /** Same as {@link Gateway.close}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
