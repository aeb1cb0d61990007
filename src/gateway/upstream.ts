/**
 * One configured MCP server as the gateway sees it: its connection, its state, and the last
 * lists of tools, prompts and resources it offered. A failing server is retried with backoff
 * in the background and never blocks or breaks the others.
 */
// @ts-types="@modelcontextprotocol/sdk/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/types"
import {
  type CallToolResult,
  type ClientCapabilities,
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  type ServerCapabilities,
  type Tool,
  ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { type FixContext, renderFix } from "../fix_command.ts";
import type { ServerConfig } from "../config/types.ts";
import type { CredentialProvider } from "../auth/types.ts";
import { NotAuthenticatedError, ToolscriptError, UpstreamError } from "../errors.ts";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { describeCallError, explainConnectFailure, isSessionLost } from "./upstream_errors.ts";
import type { Logger } from "../log.ts";
import { createUpstreamTransport, type UpstreamTransport } from "./upstream_transport.ts";
import { fetchCatalog, type UpstreamCatalog } from "./upstream_catalog.ts";
import { UpstreamLink } from "./upstream_link.ts";
import type { Json } from "./jsonrpc.ts";
import { SessionHub } from "./session_hub.ts";
import { TOOLSCRIPT_VERSION } from "../version.ts";

/** Connection state of an upstream, as `status` and `/health` report it. */
export type UpstreamState = "connecting" | "ok" | "needs-auth" | "error" | "closed";

/** Options of {@link Upstream}. */
export interface UpstreamOptions {
  logger: Logger;
  credentials?: CredentialProvider;
  fetch?: typeof fetch;
  /** Called whenever the tools, prompts or resources this upstream offers may have changed. */
  onChange?: (upstream: Upstream) => void;
  /** Backoff between reconnect attempts; default 1 s doubling to 60 s. */
  retryDelayMs?: (attempt: number) => number;
  /** Tools to show while not connected (e.g. from the on-disk cache). */
  cachedTools?: Tool[];
  /** The gateway's client sessions, where server-to-client messages are routed. */
  hub?: SessionHub;
  /** What the fix in the "needs authentication" warning adds (the gateway's `--config`). */
  fixes?: FixContext;
}

const CLIENT_INFO = { name: "toolscript", version: TOOLSCRIPT_VERSION };

/**
 * What the gateway declares to every upstream: it can pass sampling, elicitation (form and URL
 * mode) and roots requests on to the client that caused them.
 */
export const GATEWAY_CLIENT_CAPABILITIES: ClientCapabilities = {
  sampling: {},
  elicitation: { form: {}, url: {} },
  roots: { listChanged: true },
};

/** A call to a down server tries to connect again only if the last attempt is older than this. */
const RECONNECT_ON_CALL_AFTER_MS = 2000;

/** A live (or trying to be live) connection to one upstream MCP server. */
export class Upstream implements AsyncDisposable {
  readonly config: ServerConfig;
  state: UpstreamState = "connecting";
  /** The state when the gateway was last told of a change. */
  #reportedState: UpstreamState | undefined;
  /** Why the last connect or call failed, redacted; undefined when healthy. */
  lastError?: string;
  /** The error behind `lastError`, for callers that act on its class. */
  lastFailure?: unknown;
  catalog: UpstreamCatalog;
  #options: UpstreamOptions;
  #client?: Client;
  #link?: UpstreamLink;
  #transport?: UpstreamTransport;
  #hub: SessionHub;
  #logLevel?: string;
  #connecting?: Promise<void>;
  #closed = new AbortController();
  #attempt = 0;
  #lastFailureAt = -Infinity;
  #retryTimer?: ReturnType<typeof setTimeout>;

  constructor(config: ServerConfig, options: UpstreamOptions) {
    this.config = config;
    this.#options = options;
    this.#hub = options.hub ?? new SessionHub();
    this.catalog = { tools: options.cachedTools ?? [], prompts: [], resources: [], templates: [] };
  }

  /** The server's name in config. */
  get name(): string {
    return this.config.name;
  }

  /** Connects once (sharing an attempt already under way); on failure schedules a retry. */
  connect(): Promise<void> {
    this.#connecting ??= this.#connectOnce().finally(() => this.#connecting = undefined);
    return this.#connecting;
  }

  /** Drops the current connection and connects again now (e.g. after new credentials). */
  /** The stored credentials changed (another process): the next request reads them again. */
  credentialsChanged(): void {
    this.#options.credentials?.invalidate?.();
  }

  async reconnect(): Promise<void> {
    clearTimeout(this.#retryTimer);
    this.#attempt = 0;
    this.#options.credentials?.invalidate?.();
    await this.#dropClient();
    await this.connect();
  }

  async #connectOnce(): Promise<void> {
    if (this.#closed.signal.aborted) return;
    // Whoever connects now (a call, a credential change) makes a pending retry pointless; left
    // armed, it would drop the healthy connection this attempt makes.
    clearTimeout(this.#retryTimer);
    await this.#dropClient();
    this.state = "connecting";
    const log = this.#options.logger;
    const started = performance.now();
    const transport = createUpstreamTransport(this.config, this.#options);
    const link = new UpstreamLink(transport.transport, { server: this.name, hub: this.#hub });
    const client = new Client(CLIENT_INFO, { capabilities: GATEWAY_CLIENT_CAPABILITIES });
    try {
      await client.connect(link, {
        signal: this.#closed.signal,
        timeout: this.config.timeoutMs,
      });
      this.#client = client;
      this.#link = link;
      this.#transport = transport;
      this.#watch(client, link);
      this.catalog = await fetchCatalog(client, this.config.timeoutMs);
      await this.#restoreSession(link);
      this.state = "ok";
      this.lastError = this.lastFailure = undefined;
      this.#attempt = 0;
      log.info(`server "${this.name}" connected`, {
        tools: this.catalog.tools.length,
        ms: Math.round(performance.now() - started),
      });
      this.#changed();
    } catch (error) {
      // Forget the client first, so its onclose does not report a second failure.
      this.#client = undefined;
      this.#link = undefined;
      await client.close().catch(() => {});
      const credentials = await this.#options.credentials?.status().catch(() => undefined);
      this.#fail(
        explainConnectFailure(this.config, error, {
          transport,
          credentials,
        }),
        "connect",
      );
    }
  }

  /** After a reconnect: the log level and resource subscriptions clients asked for. */
  async #restoreSession(link: UpstreamLink): Promise<void> {
    const caps = this.serverCapabilities;
    const timeoutMs = this.config.timeoutMs;
    const restores: Promise<unknown>[] = [];
    if (this.#logLevel && caps?.logging) {
      restores.push(link.request("logging/setLevel", { level: this.#logLevel }, { timeoutMs }));
    }
    if (caps?.resources?.subscribe) {
      for (const uri of this.#hub.subscribedUris(this.name)) {
        restores.push(link.request("resources/subscribe", { uri }, { timeoutMs }));
      }
    }
    await Promise.all(restores.map((p) => p.catch(() => {})));
  }

  #watch(client: Client, link: UpstreamLink): void {
    const refresh = async () => {
      try {
        this.catalog = await fetchCatalog(client, this.config.timeoutMs);
        this.#changed();
      } catch (error) {
        this.#options.logger.warn(`server "${this.name}" list refresh failed`, {
          error: String(error),
        });
      }
    };
    client.setNotificationHandler(ToolListChangedNotificationSchema, refresh);
    client.setNotificationHandler(PromptListChangedNotificationSchema, refresh);
    client.setNotificationHandler(ResourceListChangedNotificationSchema, refresh);
    // The first transport error since the last good message is usually the cause of a close
    // (e.g. "ReadBuffer exceeded maximum size"); later ones are its echoes.
    let transportError = "";
    client.onerror = (error) => transportError ||= error.message;
    const deliver = link.onmessage;
    link.onmessage = (message, extra) => {
      transportError = "";
      deliver?.(message, extra);
    };
    client.onclose = () => {
      if (this.#client !== client || this.#closed.signal.aborted) return;
      this.#client = undefined;
      this.#link = undefined;
      const tail = this.#transport?.stderrTail();
      const why = `connection closed${transportError ? `: ${transportError}` : ""}`;
      this.#fail(
        new UpstreamError(this.name, `${why}${tail ? ` (stderr: ${tail})` : ""}`),
        "connection",
      );
    };
  }

  /** Tells the gateway this upstream's offer may have changed; remembers the state it saw. */
  #changed(): void {
    this.#reportedState = this.state;
    this.#options.onChange?.(this);
  }

  #fail(error: unknown, phase: string): void {
    // Only a failed connect attempt holds off the next call's attempt; a connection that
    // dropped (a crash) is reconnected by the very next call.
    if (phase === "connect") this.#lastFailureAt = performance.now();
    this.lastFailure = error;
    this.lastError = this.#options.logger.redactor.redactText(
      error instanceof Error ? error.message : String(error),
    );
    // A failure changes what the gateway offers only when the state does (e.g. the
    // `<server>__authenticate` placeholder appears); another failed attempt changes nothing.
    const offerChanged = () => this.state !== this.#reportedState;
    if (error instanceof NotAuthenticatedError) {
      this.state = "needs-auth";
      this.#options.logger.warn(`server "${this.name}" needs authentication`, {
        fix: renderFix(error, this.#options.fixes ?? {}),
      });
      if (offerChanged()) this.#changed();
      return; // retrying cannot help until new credentials arrive (reconnect()).
    }
    this.state = "error";
    const delayMs = (this.#options.retryDelayMs ?? defaultRetryDelay)(this.#attempt++);
    this.#options.logger.warn(`server "${this.name}" ${phase} failed; retrying`, {
      error: this.lastError,
      retryInMs: Math.round(delayMs),
    });
    if (offerChanged()) this.#changed();
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.connect(), delayMs);
  }

  /** The capabilities the server declared; undefined while not connected. */
  get serverCapabilities(): ServerCapabilities | undefined {
    return this.#client?.getServerCapabilities();
  }

  /**
   * Calls `tool` upstream and returns its result unchanged; connection problems throw. A
   * `signal` bound to a client's call in the gateway's hub routes that call's progress and
   * server-to-client requests back to that client.
   */
  async callTool(
    tool: string,
    args: Record<string, unknown> | undefined,
    signal?: AbortSignal,
  ): Promise<CallToolResult> {
    const params: Json = args === undefined ? { name: tool } : { name: tool, arguments: args };
    return await this.forward("tools/call", params, signal) as unknown as CallToolResult;
  }

  /**
   * Sends any request (tools/call, prompts/get, resources/read, completion/complete, …)
   * upstream as it is and resolves with the upstream's result unchanged. Connection problems
   * throw a {@link ToolscriptError}; the upstream's JSON-RPC errors an `McpError`.
   */
  async forward(method: string, params: Json, signal?: AbortSignal): Promise<Json> {
    const call = this.#hub.callOf(signal);
    for (let attempt = 0;; attempt++) {
      // Connected: no extra async step on the hot path.
      const link = this.#link ?? await this.#readyLink();
      try {
        return await link.request(method, params, {
          call,
          signal,
          timeoutMs: this.config.timeoutMs,
        });
      } catch (error) {
        if (signal?.aborted && error === signal.reason) throw error;
        // Closed under the call (removed from the config, shutdown): say so, not "closed".
        if (this.#closed.signal.aborted) throw this.#closed.signal.reason;
        if (attempt === 0 && isSessionLost(error)) {
          // The server restarted and forgot our session: the spec says start a new one.
          this.#options.logger.info(`server "${this.name}" lost our session; reconnecting`);
          await this.reconnect();
          continue;
        }
        if (error instanceof StreamableHTTPError && error.code === 401) {
          throw await this.#unauthorized(error);
        }
        throw describeCallError(this.name, error, this.#transport?.stderrTail(), this.lastFailure);
      }
    }
  }

  /**
   * A 401 on a call means what it means on connect (a login is needed, or the configured
   * credentials were rejected): the state says so, and the error names the fix.
   */
  async #unauthorized(error: unknown): Promise<unknown> {
    const credentials = await this.#options.credentials?.status().catch(() => undefined);
    const explained = explainConnectFailure(this.config, error, {
      transport: this.#transport!,
      credentials,
    });
    if (explained instanceof NotAuthenticatedError) this.#fail(explained, "call");
    return explained;
  }

  /** Sends a notification upstream (e.g. `notifications/roots/list_changed`). */
  async notify(method: string, params: Json): Promise<void> {
    await this.#link?.notify(method, params);
  }

  /**
   * Asks the server for log messages from `level` on (`logging/setLevel`), when it offers
   * logging; remembered and sent again after a reconnect.
   */
  async setLogLevel(level: string): Promise<void> {
    this.#logLevel = level;
    if (!this.serverCapabilities?.logging || !this.#link) return;
    await this.#link.request("logging/setLevel", { level }, { timeoutMs: this.config.timeoutMs });
  }

  /** The connected link, connecting first when the server is down. */
  async #readyLink(): Promise<UpstreamLink> {
    if (this.#closed.signal.aborted) throw this.#closed.signal.reason;
    // A call right after a failed attempt reports that failure instead of trying again at once.
    const recent = performance.now() - this.#lastFailureAt < RECONNECT_ON_CALL_AFTER_MS;
    if (!this.#link && this.state !== "closed" && (!recent || this.#connecting)) {
      await this.connect();
    }
    if (this.#link) return this.#link;
    if (this.lastFailure instanceof ToolscriptError) throw this.lastFailure;
    throw new UpstreamError(this.name, this.lastError ?? "not connected");
  }

  async #dropClient(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    this.#link = undefined;
    await client?.close().catch(() => {});
  }

  /**
   * Stops retrying and closes the connection (and the child process, for stdio). Requests in
   * flight reject with `reason` (default: an {@link UpstreamError} saying the gateway is
   * shutting down).
   */
  async close(reason?: unknown): Promise<void> {
    this.#closed.abort(reason ?? new UpstreamError(this.name, "gateway is shutting down"));
    clearTimeout(this.#retryTimer);
    this.state = "closed";
    await this.#connecting?.catch(() => {});
    await this.#dropClient();
    await this.#options.credentials?.close?.();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function defaultRetryDelay(attempt: number): number {
  const base = Math.min(60_000, 1000 * 2 ** attempt);
  return base / 2 + Math.random() * base / 2;
}
