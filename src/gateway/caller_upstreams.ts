/**
 * The connections a gateway opens for its callers (`gateway.callers`): one per server and
 * caller, with that caller's own OAuth credentials, so an upstream sees a caller's token only
 * on that caller's calls. Servers whose credentials are the gateway's (machine, static, stdio)
 * have none: their calls use the gateway's own connection.
 */
import type { FixContext } from "../fix_command.ts";
import type { ServerConfig } from "../config/types.ts";
import type { CredentialProvider } from "../auth/types.ts";
import type { Logger } from "../log.ts";
import type { SessionHub } from "./session_hub.ts";
import { Upstream } from "./upstream.ts";

/** Options of {@link CallerUpstreams}. */
export interface CallerUpstreamsOptions {
  logger: Logger;
  /** The caller's own credentials for a server; undefined: the gateway's are used. */
  credentialsFor: (server: ServerConfig, caller: string) => CredentialProvider | undefined;
  fetch?: typeof fetch;
  hub?: SessionHub;
  /** What the fix in a connection's "needs authentication" warning adds. */
  fixes?: FixContext;
}

/** Per-(server, caller) upstream connections, opened on a caller's first call. */
export class CallerUpstreams {
  readonly #options: CallerUpstreamsOptions;
  /**
   * By server and caller, with the server entry it was made for; `upstream` null: the server
   * uses the gateway's own connection.
   */
  readonly #entries = new Map<string, { server: ServerConfig; upstream: Upstream | null }>();
  #closed = false;

  /** Opens nothing yet. */
  constructor(options: CallerUpstreamsOptions) {
    this.#options = options;
  }

  /**
   * The connection `caller`'s calls to `server` go through, connected (or failed, with the
   * reason as its `lastFailure`); undefined when the server's credentials are the gateway's.
   * A connection that is not up tries again at once: the caller may have just logged in.
   */
  async forCall(server: ServerConfig, caller: string): Promise<Upstream | undefined> {
    if (this.#closed) return undefined;
    const key = `${server.name}\0${caller}`;
    let entry = this.#entries.get(key);
    if (entry && entry.server !== server) {
      // The config was reloaded with a changed entry: a new connection for the new one.
      this.#entries.delete(key);
      await entry.upstream?.close();
      entry = undefined;
    }
    if (!entry) {
      const credentials = this.#options.credentialsFor(server, caller);
      const upstream = credentials
        ? new Upstream(server, {
          logger: this.#options.logger,
          credentials,
          fetch: this.#options.fetch,
          hub: this.#options.hub,
          fixes: this.#options.fixes,
          // Never retried in the background: the caller's next call tries again.
          retryDelayMs: () => 2 ** 31 - 1,
        })
        : null;
      entry = { server, upstream };
      this.#entries.set(key, entry);
      if (upstream) {
        this.#options.logger.info(`connecting to server "${server.name}" for caller "${caller}"`);
      }
    }
    const { upstream } = entry;
    if (!upstream) return undefined;
    if (upstream.state !== "ok") await upstream.reconnect();
    return upstream;
  }

  /** Closes the connections of `callers` (removed from the config); a later call opens anew. */
  async forget(callers: readonly string[]): Promise<void> {
    const gone = new Set(callers);
    const closing: Upstream[] = [];
    for (const [key, entry] of this.#entries) {
      if (!gone.has(key.slice(key.indexOf("\0") + 1))) continue;
      this.#entries.delete(key);
      if (entry.upstream) closing.push(entry.upstream);
    }
    await Promise.all(closing.map((u) => u.close()));
  }

  /** Closes every caller connection. */
  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#entries.values()].flatMap((e) => e.upstream ? [e.upstream] : []);
    this.#entries.clear();
    await Promise.all(all.map((u) => u.close()));
  }
}
