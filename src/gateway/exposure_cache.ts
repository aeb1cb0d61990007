/**
 * The exposure table of the upstreams' current offers, rebuilt only when an offer changed, and
 * each name collision warned about once while it lasts.
 */
import type { Logger } from "../log.ts";
import type { FixContext } from "../fix_command.ts";
import type { Upstream } from "./upstream.ts";
import { type ExposedCollision, ExposedNames, type ExposedServerOffer } from "./exposed_names.ts";
import { authenticateTool } from "./needs_login.ts";

/** Options of {@link ExposureCache}. */
export interface ExposureCacheOptions {
  /** Receives the collision warnings. */
  logger: Logger;
  /** What the `<prefix>__authenticate` tool's fix command adds (`--config`). */
  fixes: FixContext;
}

/**
 * Builds an {@link ExposedNames} from the upstreams of a map (read anew on every use, in the
 * map's order, which decides collisions) and keeps it until an upstream's catalog, lists,
 * state or last failure is another object than the one it was built from.
 */
export class ExposureCache {
  readonly #upstreams: ReadonlyMap<string, Upstream>;
  readonly #options: ExposureCacheOptions;
  /** The table and what it was built from. */
  #built?: { names: ExposedNames; from: unknown[] };
  /** Collisions already logged. */
  #warned = new Set<string>();

  /** Builds nothing yet; the first {@link ExposureCache.names} does. */
  constructor(upstreams: ReadonlyMap<string, Upstream>, options: ExposureCacheOptions) {
    this.#upstreams = upstreams;
    this.#options = options;
  }

  /** The table of the offers now: a lookup when nothing changed since the last use. */
  get names(): ExposedNames {
    const current = this.#built;
    if (current && this.#unchangedSince(current.from)) return current.names;
    const from = this.#fingerprint();
    const offers: ExposedServerOffer[] = [...this.#upstreams.values()].map((u) => ({
      server: u.name,
      prefix: u.config.prefix,
      toolFilter: u.config.tools,
      tools: u.catalog.tools,
      prompts: u.catalog.prompts,
      resources: u.catalog.resources,
      templates: u.catalog.templates,
      extraTools: u.catalog.tools.length === 0 && u.state === "needs-auth"
        ? [authenticateTool(u, this.#options.fixes)]
        : undefined,
    }));
    const names = new ExposedNames(offers);
    this.#built = { names, from };
    this.#warnCollisions(names.collisions);
    return names;
  }

  /**
   * The upstream and its own name for an exposed tool or prompt name (tools first without
   * `kind`): a name resolves to a server exactly when it is listed under that server.
   */
  resolve(
    namespaced: string,
    kind?: "tool" | "prompt",
  ): { upstream: Upstream; name: string } | undefined {
    const names = this.names;
    const target = (kind !== "prompt" ? names.tool(namespaced) : undefined) ??
      (kind !== "tool" ? names.prompt(namespaced) : undefined);
    const upstream = target && this.#upstreams.get(target.server);
    return upstream && { upstream, name: target.name };
  }

  /** The upstream behind an exposed resource URI, and the URI as that upstream knows it. */
  resolveResource(uri: string): { upstream: Upstream; uri: string } | undefined {
    const target = this.names.resource(uri);
    const upstream = target && this.#upstreams.get(target.server);
    return upstream && { upstream, uri: target.uri };
  }

  /** What the table is built from, in order: every object whose change means a rebuild. */
  #fingerprint(): unknown[] {
    const from: unknown[] = [];
    this.#visitSources((value) => from.push(value) > 0);
    return from;
  }

  /**
   * Whether {@link ExposureCache.#fingerprint} would give `from` again, compared in place: this
   * runs on every tool call, so it builds no array (the fingerprint scales with the servers).
   */
  #unchangedSince(from: readonly unknown[]): boolean {
    let i = 0;
    return this.#visitSources((value) => from[i++] === value) && i === from.length;
  }

  /** Hands each source of the table to `visit` in order, while `visit` returns true. */
  #visitSources(visit: (value: unknown) => boolean): boolean {
    for (const u of this.#upstreams.values()) {
      const { catalog } = u;
      if (
        !visit(u) || !visit(catalog) || !visit(catalog.tools) || !visit(catalog.prompts) ||
        !visit(catalog.resources) || !visit(catalog.templates) || !visit(u.state) ||
        !visit(u.lastFailure)
      ) {
        return false;
      }
    }
    return true;
  }

  #warnCollisions(collisions: readonly ExposedCollision[]): void {
    const logger = this.#options.logger;
    const now = new Set<string>();
    for (const c of collisions) {
      const key = JSON.stringify([c.kind, c.exposed, c.kept, c.other]);
      now.add(key);
      if (this.#warned.has(key)) continue;
      const what = `${c.kind} ${JSON.stringify(c.exposed)}`;
      if (c.rewritten) {
        logger.warn(
          `server "${c.other}" offers ${what}, which server "${c.kept}" (listed first in the ` +
            `config) offers too; exposing it as ${JSON.stringify(c.rewritten)}`,
        );
      } else {
        logger.warn(
          `servers "${c.kept}" and "${c.other}" both expose ${what}; keeping the one of ` +
            `server "${c.kept}" (listed first in the config) and hiding the other`,
        );
      }
    }
    this.#warned = now;
  }
}
