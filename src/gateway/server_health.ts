/** One line per enabled server of what `status` and `GET /health` show. */
import type { ServerConfig } from "../config/types.ts";
import type { Upstream, UpstreamState } from "./upstream.ts";
import { type FixContext, renderFixIn } from "../fix_command.ts";
import { loginFixFor } from "./needs_login.ts";

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

/** The health of each upstream, in their order; `fixes` says what fix commands add. */
export function serverHealth(upstreams: Iterable<Upstream>, fixes: FixContext): ServerHealth[] {
  return [...upstreams].map((u) => ({
    name: u.name,
    transport: u.config.type,
    state: u.state,
    tools: u.catalog.tools.length,
    error: u.lastError && renderFixIn(u.lastError, u.lastFailure, fixes),
    fix: u.state === "needs-auth" ? loginFixFor(u, fixes) : undefined,
  }));
}
