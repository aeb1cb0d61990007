/**
 * Applying new configs to a running gateway: one at a time, in call order, each worked out by
 * {@link planReload} and carried out on the {@link UpstreamPool} (new and changed servers get
 * new upstreams, the map takes the new order, replaced and removed upstreams are retired, the
 * new ones make their first connect).
 */
import type { Config } from "../config/types.ts";
import type { Logger } from "../log.ts";
import { planReload, type ReloadPlan } from "./reload_plan.ts";
import type { UpstreamPool } from "./upstream_pool.ts";

/** What a reload did, by server name, in config order. */
export interface GatewayReload {
  /** Servers that are new (or newly enabled): connected. */
  added: string[];
  /** Servers gone (or disabled): closed. */
  removed: string[];
  /** Servers whose entry changed: closed and connected again. */
  changed: string[];
}

/** Options of {@link GatewayReloads}. */
export interface GatewayReloadsOptions {
  /** Its redactor learns each new config's secrets before anything else happens. */
  logger: Logger;
  /** Called once the pool's map holds a reload's new upstreams (tell clients). */
  onSwapped: () => void;
  /** The log level connected clients asked for, which new upstreams are sent. */
  logLevel: () => string | undefined;
}

/**
 * The config a gateway runs and the reloads that replace it, run one at a time in call order.
 * A config's `gateway` block is never applied: {@link GatewayReloads.config} keeps the one the
 * gateway started with.
 */
export class GatewayReloads {
  readonly #pool: UpstreamPool;
  readonly #options: GatewayReloadsOptions;
  #config: Config;
  #queue: Promise<unknown> = Promise.resolve();
  #closing = false;

  /** `config` is the one the gateway starts with (its upstreams already in `pool`). */
  constructor(pool: UpstreamPool, config: Config, options: GatewayReloadsOptions) {
    this.#pool = pool;
    this.#config = config;
    this.#options = options;
  }

  /** The config the gateway runs (with the `gateway` block it started with). */
  get config(): Config {
    return this.#config;
  }

  /** Queues `config`; resolves with what it did, once its new upstreams made their first try. */
  reload(config: Config): Promise<GatewayReload> {
    const run = this.#queue.then(() => this.#apply(config));
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Later reloads do nothing; resolves once the one under way has finished. */
  async close(): Promise<void> {
    this.#closing = true;
    await this.#queue;
  }

  async #apply(config: Config): Promise<GatewayReload> {
    if (this.#closing) return { added: [], removed: [], changed: [] };
    for (const secret of config.secrets) this.#options.logger.redactor.addSecret(secret);
    const running = [...this.#pool.upstreams.values()].map((u) => u.config);
    const plan = planReload(running, config.servers);
    const kept = new Set(config.servers.map((s) => s.name));
    const dropped = this.#config.servers.map((s) => s.name).filter((name) => !kept.has(name));
    // The endpoint keeps running as it started: its block stays the one it runs with.
    this.#config = { ...config, gateway: this.#config.gateway };
    await applyReloadPlan(this.#pool, plan, { ...this.#options, dropped });
    return {
      added: plan.added.map((s) => s.name),
      removed: plan.removed,
      changed: plan.changed.map((s) => s.name),
    };
  }
}

/** Options of {@link applyReloadPlan}. */
export interface ApplyReloadOptions {
  /** Servers whose entry left the config: their cached tool lists are deleted. */
  dropped: readonly string[];
  /** Called once the map holds the new upstreams, before any connection closes or opens. */
  onSwapped: () => void;
  /** The log level connected clients asked for, read after the old upstreams closed. */
  logLevel: () => string | undefined;
}

/**
 * Applies `plan` to `pool`; resolves once every new upstream has connected or failed its first
 * attempt. Unchanged upstreams keep their connections, children and sessions.
 */
export async function applyReloadPlan(
  pool: UpstreamPool,
  plan: ReloadPlan,
  options: ApplyReloadOptions,
): Promise<void> {
  if (!plan.reshaped) return void await pool.forgetTools(options.dropped);
  const upstreams = pool.upstreams;
  const retired = [
    ...plan.removed.map((name) => ({ name, why: "it was removed from the config" })),
    ...plan.changed.map(({ name }) => ({
      name,
      why: "its config entry changed; it is reconnecting",
    })),
  ].map(({ name, why }) => ({ upstream: upstreams.get(name)!, why }));
  const fresh = [...plan.added, ...plan.changed].map((server) => pool.create(server));
  const byName = new Map([...upstreams, ...fresh.map((u) => [u.name, u] as const)]);
  // Swap in place: sessions and routes hold this very map.
  upstreams.clear();
  for (const name of plan.order) upstreams.set(name, byName.get(name)!);
  options.onSwapped();
  // Old connections go first: a changed stdio server's old child is stopped before the new
  // one starts, so the two never hold the same files or ports.
  await Promise.all(retired.map(({ upstream, why }) => pool.retire(upstream, why)));
  // New upstreams send log messages from the level the connected clients asked for.
  const level = options.logLevel();
  for (const upstream of level ? fresh : []) await upstream.setLogLevel(level!);
  await pool.forgetTools(options.dropped);
  await Promise.all(fresh.map((upstream) => pool.connectFirst(upstream)));
}
