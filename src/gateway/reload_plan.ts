/**
 * What a config reload must do, worked out from the servers running and the new config's
 * servers alone (no I/O): which servers are new, which changed, which are gone, and the new
 * order. The gateway carries the plan out (see `Gateway.reload`).
 */
import type { ServerConfig } from "../config/types.ts";

/** The outcome of {@link planReload}; names and entries in the new config's order. */
export interface ReloadPlan {
  /** Enabled servers of the new config, in its order: the upstreams after the reload. */
  order: string[];
  /** Entries of servers not running now (new, or newly enabled): connect them. */
  added: ServerConfig[];
  /** New entries of running servers whose entry differs: close the old, connect the new. */
  changed: ServerConfig[];
  /** Running servers the new config drops or disables: close them. */
  removed: string[];
  /** True when the upstreams after the reload differ from now in membership or order. */
  reshaped: boolean;
}

/**
 * Compares the running servers (in their order) with the new config's servers. A server is
 * unchanged when its whole validated entry is (compared as JSON with sorted keys, so the key
 * order in the file does not matter); any difference (command, args, env, url, headers, auth,
 * prefix, filters, timeout) reconnects it. Disabled servers count as absent; a name listed
 * twice counts once, first entry first.
 */
export function planReload(
  running: readonly ServerConfig[],
  servers: readonly ServerConfig[],
): ReloadPlan {
  const now = new Map(running.map((server) => [server.name, server]));
  const plan: ReloadPlan = { order: [], added: [], changed: [], removed: [], reshaped: false };
  const seen = new Set<string>();
  for (const server of servers) {
    if (!server.enabled || seen.has(server.name)) continue;
    seen.add(server.name);
    plan.order.push(server.name);
    const current = now.get(server.name);
    if (!current) plan.added.push(server);
    else if (!sameServerConfig(current, server)) plan.changed.push(server);
  }
  plan.removed = running.map((s) => s.name).filter((name) => !seen.has(name));
  plan.reshaped = plan.added.length + plan.changed.length > 0 ||
    running.map((s) => s.name).join("\n") !== plan.order.join("\n");
  return plan;
}

/** True when two entries of a server connect the same way and expose the same things. */
export function sameServerConfig(a: ServerConfig, b: ServerConfig): boolean {
  return stableJson(a) === stableJson(b);
}

/** JSON with object keys sorted, so two values equal but for key order give the same text. */
export function stableJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => x < y ? -1 : x > y ? 1 : 0))
        : v,
  );
}
