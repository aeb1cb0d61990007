/**
 * Notices credentials written by another process (`toolscript auth` in a terminal while the
 * gateway runs) and reconnects the servers that were waiting for them. A cheap change token
 * per server (the store's `version()`, a stat) is polled; no restart is needed.
 */
import type { Gateway } from "./gateway.ts";

/** Options of {@link watchCredentials}. */
export interface CredentialWatchOptions {
  /** A change token for a server's stored credentials (undefined when none). */
  version: (server: string) => Promise<string | undefined>;
  /** How often to look; default 1000 ms (the contract allows 2 s). */
  intervalMs?: number;
  signal?: AbortSignal;
}

/**
 * Polls until `signal` aborts. A server whose credentials changed and that is not connected
 * (needs a login, or failed) is reconnected; the gateway then tells clients its tools changed.
 */
export function watchCredentials(gateway: Gateway, options: CredentialWatchOptions): () => void {
  const seen = new Map<string, string | undefined>();
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const remote = [...gateway.upstreams.values()].filter((u) => u.config.type !== "stdio");

  async function look(): Promise<void> {
    await Promise.all(remote.map(async (upstream) => {
      const version = await options.version(upstream.name).catch(() => undefined);
      const before = seen.get(upstream.name);
      seen.set(upstream.name, version);
      if (version === before || upstream.state === "ok") return;
      gateway.logger.info(`credentials of server "${upstream.name}" changed; reconnecting`);
      await upstream.reconnect();
    }));
  }

  async function loop(): Promise<void> {
    await look().catch((error) =>
      gateway.logger.warn("credential watch failed", { error: String(error) })
    );
    if (!stopped) timer = setTimeout(loop, options.intervalMs ?? 1000);
  }

  function stop(): void {
    stopped = true;
    clearTimeout(timer);
  }
  options.signal?.addEventListener("abort", stop, { once: true });
  // Record the starting versions first, so only later changes count.
  Promise.all(
    remote.map(async (u) => seen.set(u.name, await options.version(u.name).catch(() => undefined))),
  )
    .then(() => {
      if (!stopped) timer = setTimeout(loop, options.intervalMs ?? 1000);
    });
  return stop;
}
