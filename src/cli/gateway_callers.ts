/**
 * The bearer tokens of `gateway.callers` for `toolscript gateway`: read at start (a bad one
 * stops the start), and followed while the gateway runs. A config reload that adds, removes or
 * changes callers applies at once, and a caller's `tokenFile` is watched, so a rotated token
 * replaces the old one without a reload (the old one is refused from then on).
 */
import { ConfigError } from "../errors.ts";
import { readSecret } from "../config/read_secret.ts";
import { watchFiles } from "../config/watch_files.ts";
import type { SecretSource } from "../config/types.ts";
import type { Logger } from "../log.ts";

/** The callers' tokens by caller name; undefined when the config has no callers. */
export type CallerTokens = Record<string, string> | undefined;

/**
 * The bearer token of each caller in `sources`, registered with the logger's redactor;
 * undefined when there are no callers.
 * @throws {ConfigError} when a token file or variable is missing or empty, or two callers
 *   share a token (a call could not tell whose it is).
 */
export async function readCallerTokens(
  sources: Record<string, SecretSource> | undefined,
  logger: Logger,
): Promise<CallerTokens> {
  if (!sources) return undefined;
  const tokens: Record<string, string> = {};
  const owners = new Map<string, string>();
  for (const [name, source] of Object.entries(sources)) {
    const token = await readSecret(source, { what: `token of caller "${name}"`, logger });
    if (token.trim() === "") {
      throw new ConfigError(`The token of caller "${name}" is empty; an empty token is refused`);
    }
    const other = owners.get(token);
    if (other !== undefined) {
      throw new ConfigError(
        `Callers "${other}" and "${name}" have the same token; give each its own`,
      );
    }
    owners.set(token, name);
    tokens[name] = token;
  }
  return tokens;
}

/** Which callers a change of the tokens concerns, by name. */
export interface CallerChange {
  added: string[];
  removed: string[];
  changed: string[];
}

/** Options of {@link followCallerTokens}. */
export interface FollowCallerTokensOptions {
  /** The callers the gateway started with, and their tokens as read then. */
  sources: Record<string, SecretSource> | undefined;
  tokens: CallerTokens;
  /** Hands the endpoint the tokens to accept from now on, and says which callers changed. */
  apply: (tokens: CallerTokens, change: CallerChange) => Promise<void>;
  logger: Logger;
  /** Quiet time settling a burst of token file events; default 100 ms. */
  debounceMs?: number;
  signal?: AbortSignal;
}

/** What {@link followCallerTokens} returns: feed it each reloaded config's callers. */
export interface CallerTokenFollower {
  /** The callers of a newly applied config; their tokens are read and applied. */
  reload(sources: Record<string, SecretSource> | undefined): Promise<void>;
  /** Stops watching the token files. */
  stop(): void;
}

/**
 * Keeps the endpoint's caller tokens in step with the config and the token files. On a
 * change, every caller's token is read again; a caller whose token cannot be read (a missing
 * or empty file, an unset variable) or that shares its token with another is refused until
 * that is fixed, with an error naming it (never its token); the others keep working. Changes
 * are applied one at a time, in order.
 */
export function followCallerTokens(options: FollowCallerTokensOptions): CallerTokenFollower {
  const { logger } = options;
  let sources = options.sources;
  let applied = options.tokens;
  let stopWatch = () => {};
  let queue: Promise<void> = Promise.resolve();
  let stopped = false;

  function watchTokenFiles(): void {
    stopWatch();
    const files = Object.values(sources ?? {}).flatMap((s) => s.file === undefined ? [] : [s.file]);
    stopWatch = files.length === 0 ? () => {} : watchFiles(files, () => void enqueue(), {
      debounceMs: options.debounceMs,
      logger,
      signal: options.signal,
    });
  }

  async function readLeniently(): Promise<CallerTokens> {
    if (!sources) return undefined;
    const tokens: Record<string, string> = {};
    const owners = new Map<string, string>();
    for (const [name, source] of Object.entries(sources)) {
      let token: string;
      try {
        token = await readSecret(source, { what: `token of caller "${name}"`, logger });
        if (token.trim() === "") throw new ConfigError(`The token of caller "${name}" is empty`);
      } catch (error) {
        logger.error(`caller "${name}" is refused until its token can be read`, {
          error: error instanceof Error ? error.message : String(error),
        });
        continue;
      }
      const other = owners.get(token);
      if (other !== undefined) {
        logger.error(
          `callers "${other}" and "${name}" have the same token; both are refused until each ` +
            "has its own",
        );
        delete tokens[other];
        continue;
      }
      owners.set(token, name);
      tokens[name] = token;
    }
    return tokens;
  }

  async function look(): Promise<void> {
    if (stopped) return;
    const next = await readLeniently();
    if (stopped) return;
    const before = applied ?? {};
    const after = next ?? {};
    const added = Object.keys(after).filter((n) => !Object.hasOwn(before, n));
    const removed = Object.keys(before).filter((n) => !Object.hasOwn(after, n));
    const changed = Object.keys(after).filter((n) =>
      Object.hasOwn(before, n) && before[n] !== after[n]
    );
    if (added.length + removed.length + changed.length === 0) return;
    applied = next;
    await options.apply(next, { added, removed, changed });
    logger.info("callers reloaded", { added, removed, changed });
  }

  function enqueue(): Promise<void> {
    const run = queue.then(look).catch((error) =>
      logger.warn("reloading the callers' tokens failed", { error: String(error) })
    );
    queue = run;
    return run;
  }

  watchTokenFiles();
  options.signal?.addEventListener("abort", () => stopWatch(), { once: true });
  return {
    reload(next) {
      sources = next;
      if (!stopped) watchTokenFiles();
      return enqueue();
    },
    stop() {
      stopped = true;
      stopWatch();
    },
  };
}
