/**
 * The upstreams of the enabled servers, by name, and their lifecycle: building one from its
 * config entry, its first connect (showing its cached tools until then), remembering its tool
 * list on disk when it changes, retiring it when a reload drops or replaces it, closing all.
 */
// @ts-types="@modelcontextprotocol/sdk/types"
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import type { FixContext } from "../fix_command.ts";
import type { ServerConfig } from "../config/types.ts";
import type { CredentialProvider } from "../auth/types.ts";
import type { Logger } from "../log.ts";
import { Upstream } from "./upstream.ts";
import type { ToolCache } from "./tool_cache.ts";
import type { SessionHub } from "./session_hub.ts";

/** Options of {@link UpstreamPool}. */
export interface UpstreamPoolOptions {
  /** Receives connection logs and cache warnings. */
  logger: Logger;
  /** Where upstreams route progress, log messages and server-to-client requests. */
  hub: SessionHub;
  /** Called when an upstream of the pool (not a retired one) may offer something else. */
  onChange: (upstream: Upstream) => void;
  /** Returns the credentials for a server (none for servers without `auth`). */
  credentialsFor?: (server: ServerConfig) => CredentialProvider | undefined;
  /** Default `globalThis.fetch`; used for upstream HTTP and SSE servers. */
  fetch?: typeof fetch;
  /** Remembers each server's last tool list (see {@link ToolCache}). */
  toolCache?: ToolCache;
  /** What the fix in an upstream's "needs authentication" warning adds. */
  fixes?: FixContext;
  /** Backoff in ms before reconnect attempt `attempt` of a failed server. */
  retryDelayMs?: (attempt: number) => number;
}

/**
 * One upstream per enabled server, in config order. {@link UpstreamPool.upstreams} is the one
 * map everybody reads (sessions, routes, health); a reload swaps its content in place.
 */
export class UpstreamPool {
  /** The upstreams, by server name, in config order. */
  readonly upstreams: Map<string, Upstream> = new Map();
  readonly #options: UpstreamPoolOptions;
  /** Tool-cache writes under way; {@link UpstreamPool.settled} waits for them. */
  #saving = new Set<Promise<void>>();

  /** Holds no upstream yet; {@link UpstreamPool.create} builds them. */
  constructor(options: UpstreamPoolOptions) {
    this.#options = options;
  }

  /** A new, unconnected upstream for `server` (not put in the map). */
  create(server: ServerConfig): Upstream {
    const options = this.#options;
    return new Upstream(server, {
      logger: options.logger,
      credentials: options.credentialsFor?.(server),
      fetch: options.fetch,
      retryDelayMs: options.retryDelayMs,
      fixes: options.fixes,
      hub: options.hub,
      onChange: (upstream) => this.#changed(upstream),
    });
  }

  /**
   * Shows an upstream's cached tools until it connects; then makes its first attempt. Resolves
   * once it connected or failed that attempt (later ones run in the background).
   */
  async connectFirst(upstream: Upstream): Promise<void> {
    const cached = await this.#options.toolCache?.load(upstream.name).catch((error) => {
      this.#options.logger.debug(`no cached tools for server "${upstream.name}"`, {
        error: String(error),
      });
      return undefined;
    });
    if (cached && upstream.catalog.tools.length === 0) upstream.catalog.tools = cached;
    await upstream.connect();
  }

  #changed(upstream: Upstream): void {
    // A retired upstream's last words (its close) change nothing clients see.
    if (this.upstreams.get(upstream.name) !== upstream) return;
    const cache = this.#options.toolCache;
    if (upstream.state === "ok" && cache) {
      const saving = cache.save(upstream.name, upstream.catalog.tools)
        .catch((error) =>
          this.#options.logger.warn(`cannot cache tools of server "${upstream.name}"`, {
            error: String(error),
          })
        )
        .finally(() => this.#saving.delete(saving));
      this.#saving.add(saving);
    }
    this.#options.onChange(upstream);
  }

  /**
   * Deletes the cached tool lists of `servers`, once the writes under way (a retired
   * upstream's last one among them) have landed, so none writes a list back.
   */
  async forgetTools(servers: readonly string[]): Promise<void> {
    const cache = this.#options.toolCache;
    if (!cache?.remove || servers.length === 0) return;
    await this.settled();
    await Promise.all(
      servers.map((server) =>
        cache.remove!(server).catch((error) =>
          this.#options.logger.warn(`cannot delete the cached tools of server "${server}"`, {
            error: String(error),
          })
        )
      ),
    );
  }

  /**
   * Closes an upstream a reload took out of the map: its requests in flight reject with a
   * {@link RetiredUpstreamError} that names the server and says `why`.
   */
  async retire(upstream: Upstream, why: string): Promise<void> {
    await upstream.close(
      new RetiredUpstreamError(
        `Server "${upstream.name}" is no longer available: ${why}; the request did not finish`,
      ),
    );
  }

  /** Closes every upstream in the map (stopping stdio children). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.upstreams.values()].map((u) => u.close()));
  }

  /** Resolves once the tool-cache writes under way have landed. */
  async settled(): Promise<void> {
    await Promise.all(this.#saving);
  }
}

/**
 * How a request in flight to an upstream ends when a reload closes that upstream: a JSON-RPC
 * error (`ConnectionClosed`) that names the server and says why, passed to the client as is.
 */
export class RetiredUpstreamError extends McpError {
  /** `message` names the server and says why it is gone. */
  constructor(message: string) {
    super(ErrorCode.ConnectionClosed, message);
    this.name = "RetiredUpstreamError";
  }
}
