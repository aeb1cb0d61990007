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
import { type ExposedCollision, ExposedNames, type ExposedServerOffer } from "./exposed_names.ts";
import { maskSecrets } from "./mask_secrets.ts";
import { SessionHub } from "./session_hub.ts";
import { GatewayMetrics } from "./metrics.ts";
import { planReload } from "./reload_plan.ts";

export { NAME_SEPARATOR } from "./exposed_names.ts";

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
 * Tools served by the gateway itself rather than an upstream: listed before the upstreams'
 * tools, and a call to one of their names is handled here before any upstream is looked up.
 */
export interface LocalTools {
  /** The tools, in listing order; an upstream tool of the same name is neither listed nor called. */
  // deno-doc-ignore private-type-ref -- an MCP SDK type (`@modelcontextprotocol/sdk/types.js`)
  readonly tools: readonly Tool[];
  /** False: `listTools()` lists only {@link LocalTools.tools} (upstream tools stay callable). */
  readonly listUpstreamTools: boolean;
  /** Calls one of {@link LocalTools.tools}; `signal` is the client's cancellation of the call. */
  // deno-doc-ignore private-type-ref -- an MCP SDK type (`@modelcontextprotocol/sdk/types.js`)
  call(
    name: string,
    args: Record<string, unknown> | undefined,
    signal?: AbortSignal,
  ): Promise<CallToolResult>;
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
  #listeners = new Set<(changed: ReadonlySet<ListKind>) => void>();
  /** What clients were last told each merged list holds (JSON), to tell which ones changed. */
  #lists: Record<ListKind, string> = { tools: "", prompts: "", resources: "" };
  #options: GatewayOptions;
  #version = 0;
  /** Tool-cache writes under way; `close()` waits for them. */
  #saving = new Set<Promise<void>>();
  /** The exposure table and what it was built from (see {@link Gateway.exposedNames}). */
  #exposed?: { names: ExposedNames; built: unknown[] };
  /** Collisions already logged, so each is warned about once while it lasts. */
  #warned = new Set<string>();
  #local?: { tools: LocalTools; names: Set<string> };
  #config: Config;
  /** Reloads run one at a time, in order (see {@link Gateway.reload}). */
  #reloading: Promise<unknown> = Promise.resolve();
  #closing = false;

  /** Connects nothing yet; call {@link Gateway.start}. */
  constructor(config: Config, options: GatewayOptions) {
    this.#config = config;
    this.logger = options.logger;
    this.#options = options;
    this.metrics = options.metrics ?? new GatewayMetrics();
    this.upstreams = new Map();
    for (const server of config.servers) {
      if (server.enabled) this.upstreams.set(server.name, this.#newUpstream(server));
    }
    const local = options.localTools?.(this);
    if (local) this.#local = { tools: local, names: new Set(local.tools.map((t) => t.name)) };
    this.#lists = this.#currentLists();
  }

  /** The merged lists as JSON, one text per kind of `list_changed`. */
  #currentLists(): Record<ListKind, string> {
    return {
      tools: JSON.stringify(this.listTools()),
      prompts: JSON.stringify(this.listPrompts()),
      resources: JSON.stringify([this.listResources(), this.listResourceTemplates()]),
    };
  }

  /** Something changed: bumps the version and tells listeners which merged lists differ. */
  #notify(): void {
    this.#version++;
    const lists = this.#currentLists();
    const changed = new Set<ListKind>();
    for (const kind of LIST_KINDS) if (lists[kind] !== this.#lists[kind]) changed.add(kind);
    this.#lists = lists;
    for (const listener of this.#listeners) listener(changed);
  }

  /**
   * The config it runs: the one it was built from, or the last one {@link Gateway.reload}
   * applied (with the `gateway` block it started with). Servers with `enabled: false` get no
   * upstream.
   */
  get config(): Config {
    return this.#config;
  }

  #newUpstream(server: ServerConfig): Upstream {
    const options = this.#options;
    return new Upstream(server, {
      logger: options.logger,
      credentials: options.credentialsFor?.(server),
      fetch: options.fetch,
      configPath: options.configPath,
      retryDelayMs: options.retryDelayMs,
      hub: this.hub,
      onChange: (upstream) => this.#changed(upstream),
    });
  }

  /** Shows an upstream's cached tools until it connects; then makes its first attempt. */
  async #connectFirst(upstream: Upstream): Promise<void> {
    const cached = await this.#options.toolCache?.load(upstream.name).catch((error) => {
      this.logger.debug(`no cached tools for server "${upstream.name}"`, {
        error: String(error),
      });
      return undefined;
    });
    if (cached && upstream.catalog.tools.length === 0) upstream.catalog.tools = cached;
    await upstream.connect();
  }

  /**
   * Applies a new config without a restart: servers that are new (or newly enabled) get an
   * upstream and connect, servers gone (or disabled) are closed, servers whose entry changed
   * are closed and connected again with the new entry, and the others are left alone (their
   * connections, stdio children and sessions untouched). The upstreams take the new config's
   * order, which decides who wins a shared exposed name. Clients hear `list_changed` when the
   * merged lists change. Requests in flight to a closed upstream reject with an `McpError`
   * (`ConnectionClosed`) that names the server and says why. Its `secrets` join the logger's
   * redactor first. Resolves, like {@link Gateway.start}, once every new upstream has
   * connected or failed its first attempt; reloads run one at a time in call order.
   *
   * The `gateway` block (host, port, …) is not applied, and {@link Gateway.config} keeps the
   * one it started with: the caller decides what a change there means (the CLI logs that a
   * restart is needed). Internal: not part of the library API yet.
   * @ignore
   */
  reload(config: Config): Promise<GatewayReload> {
    const run = this.#reloading.then(() => this.#apply(config));
    this.#reloading = run.catch(() => {});
    return run;
  }

  async #apply(config: Config): Promise<GatewayReload> {
    if (this.#closing) return { added: [], removed: [], changed: [] };
    for (const secret of config.secrets) this.logger.redactor.addSecret(secret);
    const plan = planReload([...this.upstreams.values()].map((u) => u.config), config.servers);
    // The endpoint keeps running as it started: its block stays the one it runs with.
    this.#config = { ...config, gateway: this.#config.gateway };
    const summary: GatewayReload = {
      added: plan.added.map((s) => s.name),
      removed: plan.removed,
      changed: plan.changed.map((s) => s.name),
    };
    if (!plan.reshaped) return summary;
    const retired = [
      ...plan.removed.map((name) => ({ name, why: "it was removed from the config" })),
      ...summary.changed.map((name) => ({
        name,
        why: "its config entry changed; it is reconnecting",
      })),
    ].map(({ name, why }) => ({ upstream: this.upstreams.get(name)!, why }));
    const fresh = [...plan.added, ...plan.changed].map((server) => this.#newUpstream(server));
    const byName = new Map([...this.upstreams, ...fresh.map((u) => [u.name, u] as const)]);
    // Swap in place: sessions and routes hold this very map.
    this.upstreams.clear();
    for (const name of plan.order) this.upstreams.set(name, byName.get(name)!);
    this.#notify();
    // Old connections go first: a changed stdio server's old child is stopped before the new
    // one starts, so the two never hold the same files or ports.
    await Promise.all(retired.map(({ upstream, why }) =>
      upstream.close(
        new RetiredUpstreamError(
          `Server "${upstream.name}" is no longer available: ${why}; the request did not finish`,
        ),
      )
    ));
    // New upstreams send log messages from the level the connected clients asked for.
    const level = this.hub.mostVerboseLevel();
    for (const upstream of level ? fresh : []) await upstream.setLogLevel(level!);
    await Promise.all(fresh.map((upstream) => this.#connectFirst(upstream)));
    return summary;
  }

  /**
   * Connects every upstream in parallel and resolves when each has connected or failed its
   * first attempt (each bounded by its own timeout); failed ones keep retrying in the background.
   * An abort of `signal` rejects at once with its reason (the upstreams are left to `close()`).
   */
  async start(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const started = Promise.all(
      [...this.upstreams.values()].map((upstream) => this.#connectFirst(upstream)),
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

  /**
   * Subscribes to changes of the upstreams' offers; `listener` gets the kinds of merged list
   * whose content changed (empty when none did, e.g. only a state changed). Returns the
   * unsubscribe function.
   */
  onChange(
    listener: (changed: ReadonlySet<"tools" | "prompts" | "resources">) => void,
  ): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(upstream: Upstream): void {
    // A retired upstream's last words (its close) change nothing clients see.
    if (this.upstreams.get(upstream.name) !== upstream) return;
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
    this.#notify();
  }

  /**
   * The exposure table of the upstreams' current offers: exposed names both ways, filters,
   * rewritten URIs (see {@link ExposedNames}). Rebuilt only when an upstream's catalog or state
   * changed since the last use, so listing and calling cost a lookup. Internal, like
   * {@link Gateway.upstreams}.
   * @ignore
   */
  get exposedNames(): ExposedNames {
    const built: unknown[] = [];
    for (const u of this.upstreams.values()) {
      const { catalog } = u;
      built.push(
        u,
        catalog,
        catalog.tools,
        catalog.prompts,
        catalog.resources,
        catalog.templates,
        u.state,
        u.lastFailure,
      );
    }
    const current = this.#exposed;
    if (
      current && current.built.length === built.length &&
      current.built.every((v, i) => v === built[i])
    ) {
      return current.names;
    }
    const offers: ExposedServerOffer[] = [...this.upstreams.values()].map((u) => ({
      server: u.name,
      prefix: u.config.prefix,
      toolFilter: u.config.tools,
      tools: u.catalog.tools,
      prompts: u.catalog.prompts,
      resources: u.catalog.resources,
      templates: u.catalog.templates,
      extraTools: u.catalog.tools.length === 0 && u.state === "needs-auth"
        ? [this.#authenticateTool(u)]
        : undefined,
    }));
    const names = new ExposedNames(offers);
    this.#exposed = { names, built };
    this.#warnCollisions(names.collisions);
    return names;
  }

  #warnCollisions(collisions: readonly ExposedCollision[]): void {
    const now = new Set<string>();
    for (const c of collisions) {
      const key = JSON.stringify([c.kind, c.exposed, c.kept, c.other]);
      now.add(key);
      if (this.#warned.has(key)) continue;
      const what = `${c.kind} ${JSON.stringify(c.exposed)}`;
      if (c.rewritten) {
        this.logger.warn(
          `server "${c.other}" offers ${what}, which server "${c.kept}" (listed first in the ` +
            `config) offers too; exposing it as ${JSON.stringify(c.rewritten)}`,
        );
      } else {
        this.logger.warn(
          `servers "${c.kept}" and "${c.other}" both expose ${what}; keeping the one of ` +
            `server "${c.kept}" (listed first in the config) and hiding the other`,
        );
      }
    }
    this.#warned = now;
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
    const local = this.#local;
    if (!local) return [...this.exposedNames.tools];
    const upstream = local.tools.listUpstreamTools
      ? this.exposedNames.tools.filter((tool) => !local.names.has(tool.name))
      : [];
    return [...local.tools.tools, ...upstream];
  }

  #authenticateTool(upstream: Upstream): Tool {
    const fix = this.#fixFor(upstream);
    return {
      name: "authenticate",
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
    const names = this.exposedNames;
    const target = (kind !== "prompt" ? names.tool(namespaced) : undefined) ??
      (kind !== "tool" ? names.prompt(namespaced) : undefined);
    const upstream = target && this.upstreams.get(target.server);
    return upstream && { upstream, name: target.name };
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
  ): Promise<CallToolResult> {
    if (this.#local?.names.has(namespaced)) {
      return await this.#local.tools.call(namespaced, args, signal);
    }
    const startedAt = performance.now();
    // A server that is down and never listed tools may still own the name: reconnect and try,
    // or say why it is down, rather than "unknown tool".
    const listed = this.resolve(namespaced, "tool");
    const target = listed ?? this.#unlistedTarget(namespaced);
    if (!target) {
      this.metrics.toolCalls(undefined, undefined).record("failed", startedAt);
      throw new McpError(ErrorCode.InvalidParams, `Unknown tool "${namespaced}"`);
    }
    const { upstream, name } = target;
    // Only names the upstream listed become labels, so clients cannot grow the series.
    const calls = this.metrics.toolCalls(upstream.name, listed && name);
    if (name === "authenticate" && upstream.state === "needs-auth") {
      calls.record("failed", startedAt);
      return this.errorResult(
        new NotAuthenticatedError(upstream.name, { configPath: this.#options.configPath }),
      );
    }
    try {
      const result = this.maskSecrets(await upstream.callTool(name, args, signal));
      calls.record(result.isError === true ? "error" : "ok", startedAt);
      return result;
    } catch (error) {
      calls.record("failed", startedAt);
      if (error instanceof RetiredUpstreamError) throw error;
      if (error instanceof McpError && !isLocalError(error)) {
        error.message = this.logger.redactor.maskSecrets(error.message);
        this.maskSecrets(error.data); // in place: `data` is read-only
        throw error;
      }
      if (error instanceof ToolscriptError) return this.errorResult(error, upstream.name);
      return this.errorResult(
        new UpstreamError(upstream.name, error instanceof Error ? error.message : String(error)),
      );
    }
  }

  #unlistedTarget(namespaced: string): { upstream: Upstream; name: string } | undefined {
    const target = this.exposedNames.unlistedTool(
      namespaced,
      (server) => this.upstreams.get(server)?.state !== "ok",
    );
    const upstream = target && this.upstreams.get(target.server);
    return upstream && { upstream, name: target.name };
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
   * The upstream behind a resource URI a client reads (see {@link Gateway.resolveResource},
   * which also gives the URI to send it). Internal, like {@link Gateway.upstreams}.
   * @ignore
   */
  upstreamForResource(uri: string): Upstream | undefined {
    return this.resolveResource(uri)?.upstream;
  }

  /**
   * The upstream behind an exposed resource URI and the URI as that upstream knows it (a
   * rewritten `toolscript://<server>/…` URI undone): the server that listed it, else the one
   * whose template produces it. Reads and subscriptions must send `uri`, not the exposed one.
   * Internal, like {@link Gateway.upstreams}.
   * @ignore
   */
  resolveResource(uri: string): { upstream: Upstream; uri: string } | undefined {
    const target = this.exposedNames.resource(uri);
    const upstream = target && this.upstreams.get(target.server);
    return upstream && { upstream, uri: target.uri };
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
    return [...this.upstreams.values()].map((u) => ({
      name: u.name,
      transport: u.config.type,
      state: u.state,
      tools: u.catalog.tools.length,
      error: u.lastError,
      fix: u.state === "needs-auth" ? this.#fixFor(u) : undefined,
    }));
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
    this.#closing = true;
    this.#listeners.clear();
    // A reload under way has already swapped its upstreams in; closing them ends its connects.
    await Promise.all([...this.upstreams.values()].map((u) => u.close()));
    await this.#reloading;
    await Promise.all(this.#saving);
  }

  /** Same as {@link Gateway.close}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** A merged list clients can be told changed: `notifications/<kind>/list_changed`. */
export type ListKind = "tools" | "prompts" | "resources";

const LIST_KINDS: readonly ListKind[] = ["tools", "prompts", "resources"];

/** What {@link Gateway.reload} did, by server name, in config order. */
export interface GatewayReload {
  /** Servers that are new (or newly enabled): connected. */
  added: string[];
  /** Servers gone (or disabled): closed. */
  removed: string[];
  /** Servers whose entry changed: closed and connected again. */
  changed: string[];
}

/**
 * How a request in flight to an upstream ends when a reload closes that upstream: a JSON-RPC
 * error (`ConnectionClosed`) that names the server and says why, passed to the client as is.
 */
class RetiredUpstreamError extends McpError {
  constructor(message: string) {
    super(ErrorCode.ConnectionClosed, message);
    this.name = "RetiredUpstreamError";
  }
}

/** SDK errors raised on our side of the connection (closed, timed out), not by the upstream. */
function isLocalError(error: McpError): boolean {
  return error.code === ErrorCode.ConnectionClosed || error.code === ErrorCode.RequestTimeout;
}
