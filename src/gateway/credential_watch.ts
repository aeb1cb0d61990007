/**
 * Notices credentials written by another process (`toolscript auth` in a terminal while the
 * gateway runs) and reconnects the servers that were waiting for them. A cheap change token
 * per server (the store's `version()`, a stat) is polled; no restart is needed.
 */
import type { Gateway } from "./gateway.ts";

/** The seen version of a server whose store could not be read. */
const UNREADABLE = "\0unreadable";

/** Options of {@link watchCredentials}. */
export interface CredentialWatchOptions {
  /** A change token for a server's stored credentials (undefined when none). */
  version: (server: string) => Promise<string | undefined>;
  /** How often to look; default 1000 ms (the contract allows 2 s). */
  intervalMs?: number;
  /**
   * Change notifications, when the store pushes them (the Redis store's pub/sub): each call
   * of `onChange` makes the watch look at once instead of at the next round.
   */
  subscribe?: (onChange: () => void, signal: AbortSignal) => void;
  signal?: AbortSignal;
}

/**
 * Polls until `signal` aborts. A server whose credentials changed and that is not connected
 * (needs a login, or failed) is reconnected; the gateway then tells clients its tools changed.
 * A connected one is told to read its credentials again before its next request (providers
 * keep them in memory between such changes).
 * A store that cannot be read (an insecure or unreadable file) is no change: it is logged as a
 * warning once per server and distinct error, and looked at again on the next round.
 */
export function watchCredentials(gateway: Gateway, options: CredentialWatchOptions): () => void {
  const seen = new Map<string, string | undefined>();
  /** Read errors logged per server since its last good read, so each is logged once. */
  const told = new Map<string, Set<string>>();
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Asked again every round: a config reload adds, removes and replaces upstreams.
  const remote = () => [...gateway.upstreams.values()].filter((u) => u.config.type !== "stdio");

  /** The server's change token, or `failed` when the store cannot be read (warned once). */
  async function versionOf(server: string): Promise<{ version?: string; failed?: true }> {
    try {
      const version = await options.version(server);
      told.delete(server);
      return { version };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // Unreadable is a state of its own: reading again (e.g. Redis is back) is a change.
      seen.set(server, UNREADABLE);
      const messages = told.get(server) ?? new Set();
      told.set(server, messages);
      if (!messages.has(message)) {
        messages.add(message);
        gateway.logger.warn(`cannot read the stored credentials of server "${server}"`, {
          error: message,
        });
      }
      return { failed: true };
    }
  }

  async function look(): Promise<void> {
    await Promise.all(
      remote().map(async (upstream) => {
        const { version, failed } = await versionOf(upstream.name);
        if (failed) return;
        // A server new since the last round starts from what it finds (it just connected).
        const known = seen.has(upstream.name);
        const before = seen.get(upstream.name);
        seen.set(upstream.name, version);
        if (!known || version === before) return;
        if (upstream.state === "ok") {
          // A refresh or login by another process: the next request uses the stored token set.
          gateway.logger.info(`credentials of server "${upstream.name}" changed`);
          upstream.credentialsChanged();
          return;
        }
        gateway.logger.info(`credentials of server "${upstream.name}" changed; reconnecting`);
        await upstream.reconnect();
      }),
    );
  }

  /** One look at a time; a notification during a look asks for one more after it. */
  let looking: Promise<void> | undefined;
  let again = false;
  function lookNow(): Promise<void> {
    if (looking) {
      again = true;
      return looking;
    }
    looking = look()
      .catch((error) => gateway.logger.warn("credential watch failed", { error: String(error) }))
      .finally(() => {
        looking = undefined;
        if (again && !stopped) {
          again = false;
          lookNow();
        }
      });
    return looking;
  }

  async function loop(): Promise<void> {
    await lookNow();
    if (!stopped) timer = setTimeout(loop, options.intervalMs ?? 1000);
  }

  const unsubscribe = new AbortController();
  function stop(): void {
    stopped = true;
    clearTimeout(timer);
    unsubscribe.abort();
  }
  options.signal?.addEventListener("abort", stop, { once: true });
  if (remote.length > 0) options.subscribe?.(() => void lookNow(), unsubscribe.signal);
  // Record the starting versions first, so only later changes count.
  Promise.all(
    remote().map(async (u) => {
      const { version, failed } = await versionOf(u.name);
      if (!failed) seen.set(u.name, version);
    }),
  )
    .catch((error) => gateway.logger.warn("credential watch failed", { error: String(error) }))
    .then(() => {
      if (!stopped) timer = setTimeout(loop, options.intervalMs ?? 1000);
    });
  return stop;
}
