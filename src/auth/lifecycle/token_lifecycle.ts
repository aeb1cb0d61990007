/**
 * The one token lifecycle every grant shares: when a token is due for refresh (the one place
 * that decides it), one token request at a time in this process, a still-valid token kept while
 * a refresh fails, one backoff policy between failed refreshes, and the last failure mapped to
 * the {@link CredentialStatus} state vocabulary.
 *
 * A grant contributes only how it obtains a token: a {@link TokenSource}. Authorization-code
 * refresh (`oauth_credentials.ts`: under the store's lock, across processes) and the machine
 * grants (`client_credentials_provider.ts`: client_credentials, private_key_jwt, and through a
 * `MachineGrant` jwt_bearer and enterprise_managed) are the sources; DPoP changes how a source
 * requests and how a token is sent, not the lifecycle.
 */
import { AuthError, ConfigError, NotAuthenticatedError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import { raceAbort } from "../../abort.ts";
import { retryDelayMs } from "../protocol/retry_policy.ts";
import type { CredentialStatus } from "../types.ts";

/** A token as the lifecycle sees it: no secret but the token itself. */
export interface TokenSet {
  /** The access token; secret. */
  accessToken: string;
  /** Absolute expiry, epoch ms; undefined when the server did not say (never due by time). */
  expiresAt?: number;
  /** When it was obtained, epoch ms; with `expiresAt` it gives the lifetime. */
  obtainedAt?: number;
  /** Scopes granted, when known. */
  scopes?: string[];
  /** The `token_type` issued (`bearer`, `dpop`, as the server spelled it); undefined: Bearer. */
  tokenType?: string;
}

/** Why a {@link TokenSource} is asked for a token. */
export type TokenNeed =
  /** No token yet, or it expired. */
  | "missing"
  /** The current token is past its refresh point but still valid. */
  | "due"
  /** The server refused the current token (a 401). */
  | "rejected";

/** What a {@link TokenSource} is asked. */
export interface TokenDemand {
  /** Why a token is needed. */
  need: TokenNeed;
  /** The token held now, if any (for `rejected`: the one refused). */
  current?: TokenSet;
  /**
   * True when no usable token is held, so a caller waits for this one: a source may retry
   * temporary failures within the request. False for a refresh ahead of time: try once, the
   * lifecycle retries later with its backoff.
   */
  urgent: boolean;
  /** Aborts when the lifecycle is closed. */
  signal: AbortSignal;
}

/**
 * A grant: how to obtain a token, nothing else (no caching, timing or retries between
 * refreshes). Throw {@link NotAuthenticatedError} when only a new login helps (the lifecycle
 * then drops its token), {@link AuthError} with `temporary` when a later try may succeed, and
 * {@link ConfigError} when configured credentials cannot be read or used.
 */
export interface TokenSource {
  /** Obtains a new token (or one another process already obtained). */
  obtain(demand: TokenDemand): Promise<TokenSet>;
}

/** Options of {@link TokenLifecycle}. */
export interface TokenLifecycleOptions {
  /** The server's name, for log lines. */
  server: string;
  /** Receives the refresh-failed warnings. */
  logger: Logger;
  /** Epoch ms clock; default `Date.now`. */
  now?: () => number;
  /** Jitter of backoff delays, in [0, 1); default `Math.random`. */
  random?: () => number;
  /** Refresh once this fraction of the lifetime has passed; default 0.8. */
  refreshAt?: number;
  /**
   * Longest margin before expiry at which a refresh starts (caps `refreshAt` for long-lived
   * tokens); default unbounded.
   */
  maxMarginMs?: number;
  /** Refresh on a timer at the refresh point, not only on use; default false. */
  background?: boolean;
}

interface Flight {
  urgent: boolean;
  promise: Promise<TokenSet>;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * When a token obtained at `obtainedAt` and expiring at `expiresAt` is due for refresh: once
 * `refreshAt` of its lifetime has passed, but never earlier than `maxMarginMs` before expiry,
 * so a 2 s token is refreshed once per lifetime and a 1 h OAuth token a minute before its end.
 * A token whose lifetime is unknown is due `maxMarginMs` before expiry (at expiry when
 * unbounded); one without expiry never.
 *
 * @example A 20 s token with the OAuth defaults is due after 16 s
 * ```ts
 * import { refreshDueAt } from "./token_lifecycle.ts";
 * refreshDueAt({ accessToken: "t", obtainedAt: 0, expiresAt: 20_000 }, {
 *   refreshAt: 0.8,
 *   maxMarginMs: 60_000,
 * }); // 16_000
 * ```
 */
export function refreshDueAt(
  token: TokenSet,
  options: { refreshAt?: number; maxMarginMs?: number },
): number {
  const { expiresAt, obtainedAt } = token;
  if (expiresAt === undefined) return Infinity;
  const refreshAt = validFraction(options.refreshAt);
  const maxMarginMs = options.maxMarginMs ?? Infinity;
  const lifetimeMs = obtainedAt !== undefined && obtainedAt < expiresAt
    ? expiresAt - obtainedAt
    : undefined;
  const marginMs = lifetimeMs === undefined
    ? (Number.isFinite(maxMarginMs) ? maxMarginMs : 0)
    : Math.min(maxMarginMs, lifetimeMs * (1 - refreshAt));
  return expiresAt - marginMs;
}

function validFraction(value: number | undefined): number {
  return value !== undefined && value > 0 && value <= 1 ? value : 0.8;
}

/**
 * The state of a server's credentials, from what is held and how the last attempt ended: `ok`
 * while a valid token is held (`refresh-failed` when the last refresh failed); without one,
 * `needs-auth` when only a login helps, `error` for unusable configuration, `expired` for a
 * held token past its expiry that cannot be (or was not) renewed, else `ok` (nothing needed yet)
 * or `error` when obtaining one failed.
 */
export function credentialState(held: {
  token?: TokenSet;
  now: number;
  /** Whether an expired token can be renewed without the user (a refresh token, a machine grant). */
  renewable: boolean;
  lastError?: unknown;
}): CredentialStatus["state"] {
  const { token, lastError } = held;
  const valid = token !== undefined &&
    (token.expiresAt === undefined || held.now < token.expiresAt);
  if (valid) return lastError ? "refresh-failed" : "ok";
  if (needsLogin(lastError)) return "needs-auth";
  if (lastError instanceof ConfigError) return "error";
  if (token) return lastError || !held.renewable ? "expired" : "ok";
  return lastError ? "error" : "ok";
}

/** True when `error` says only a new login (or new credentials) helps. */
function needsLogin(error: unknown): boolean {
  return error instanceof NotAuthenticatedError ||
    (error instanceof AuthError && !error.temporary);
}

/**
 * Holds one server's current token and obtains new ones from a {@link TokenSource}.
 *
 * {@link TokenLifecycle.token} returns the held token until its refresh point
 * ({@link refreshDueAt}), then asks the source once; while that fails the held token is used
 * until it expires, and the next try waits for the backoff ({@link retryDelayMs}, or the
 * server's `Retry-After`). Concurrent callers share one request. A token learned elsewhere (a
 * store written by another process) is handed in with {@link TokenLifecycle.adopt}.
 */
export class TokenLifecycle implements Disposable {
  readonly #source: TokenSource;
  readonly #options: TokenLifecycleOptions;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #closed = new AbortController();
  #current: TokenSet | undefined;
  #flight: Flight | undefined;
  #lastError: Error | undefined;
  #failures = 0;
  #retryNotBefore = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** Holds no token yet; the first {@link TokenLifecycle.token} call obtains one. */
  constructor(source: TokenSource, options: TokenLifecycleOptions) {
    this.#source = source;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  /** The token held now (maybe expired), if any. */
  get current(): TokenSet | undefined {
    return this.#current;
  }

  /** The failure of the last attempt, cleared by a success. */
  get lastError(): Error | undefined {
    return this.#lastError;
  }

  /** Whether the token held is due for refresh now. */
  isDue(token: TokenSet | undefined = this.#current): boolean {
    return token !== undefined && this.#now() >= refreshDueAt(token, this.#options);
  }

  /** Whether `token` is past its expiry. */
  isExpired(token: TokenSet | undefined = this.#current): boolean {
    return token?.expiresAt !== undefined && this.#now() >= token.expiresAt;
  }

  /**
   * Takes a token learned elsewhere (or none: the credentials are gone). A different token
   * than the one held ends the backoff of failed refreshes: someone else renewed it.
   */
  adopt(token: TokenSet | undefined): void {
    if (token?.accessToken !== this.#current?.accessToken) {
      this.#failures = 0;
      this.#retryNotBefore = 0;
      if (token) this.#lastError = undefined;
    }
    this.#current = token;
    if (token) this.#schedule(refreshDueAt(token, this.#options));
  }

  /**
   * A usable token: the held one, or a new one when none is held, it expired, or it is due.
   * @throws what the source threw when no valid token is left, or when it said only a login
   *   helps; the signal's reason when `signal` aborts (the request goes on for others).
   */
  async token(signal?: AbortSignal): Promise<TokenSet> {
    signal?.throwIfAborted();
    const current = this.#current;
    const now = this.#now();
    if (!current || this.isExpired(current)) return await this.#obtain("missing", true, signal);
    if (!this.isDue(current) || now < this.#retryNotBefore) return current;
    try {
      return await this.#obtain("due", false, signal);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (error instanceof NotAuthenticatedError) throw error;
      // Still valid: keep using it; the failure is logged and shows in the state.
      return this.#current && !this.isExpired(this.#current) ? this.#current : current;
    }
  }

  /**
   * A new token because the server refused `refused` (a 401): joins a request under way, returns
   * a newer token already held, or asks the source. With `fresh` (the request must change, e.g.
   * wider scopes), a request under way is waited out and a new one started.
   */
  async renew(
    refused: string | undefined,
    signal?: AbortSignal,
    fresh = false,
  ): Promise<TokenSet> {
    signal?.throwIfAborted();
    if (this.#flight) {
      const joined = await raceAbort(this.#flight.promise, signal).catch(() => undefined);
      signal?.throwIfAborted();
      if (!fresh && joined && joined.accessToken !== refused) return joined;
    }
    const current = this.#current;
    if (!fresh && current && refused !== undefined && current.accessToken !== refused) {
      if (!this.isExpired(current)) return current;
    }
    return await this.#obtain("rejected", true, signal);
  }

  /** The state of the held token and the last attempt (see {@link credentialState}). */
  state(renewable: boolean): CredentialStatus["state"] {
    return credentialState({
      token: this.#current,
      now: this.#now(),
      renewable,
      lastError: this.#lastError,
    });
  }

  /** Stops the refresh timer and aborts a request under way. Idempotent. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#closed.signal.aborted) this.#closed.abort(new Error("Credential provider closed"));
  }

  /** Same as {@link TokenLifecycle.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Joins the request under way, or starts one; a failed soft one is followed by an urgent one. */
  async #obtain(need: TokenNeed, urgent: boolean, signal?: AbortSignal): Promise<TokenSet> {
    for (;;) {
      const flight = this.#flight ?? this.#start(need, urgent);
      try {
        return await raceAbort(flight.promise, signal);
      } catch (error) {
        // A refresh ahead of time makes one attempt; a caller without a usable token then
        // runs an urgent request itself (and others join it).
        if (signal?.aborted || !urgent || flight.urgent) throw error;
        if (error instanceof NotAuthenticatedError) throw error;
      }
    }
  }

  #start(need: TokenNeed, urgent: boolean): Flight {
    const current = this.#current;
    const promise = (async () => {
      try {
        const token = await this.#source.obtain({
          need,
          current,
          urgent,
          signal: this.#closed.signal,
        });
        this.#current = token;
        this.#lastError = undefined;
        this.#failures = 0;
        this.#retryNotBefore = 0;
        this.#schedule(refreshDueAt(token, this.#options));
        return token;
      } catch (error) {
        if (!this.#closed.signal.aborted) this.#recordFailure(error as Error);
        throw error;
      } finally {
        this.#flight = undefined;
      }
    })();
    promise.catch(() => {}); // Waiters may all have gone; the outcome is recorded anyway.
    this.#flight = { urgent, promise };
    return this.#flight;
  }

  #recordFailure(error: Error): void {
    this.#lastError = error;
    if (error instanceof NotAuthenticatedError) {
      this.#current = undefined;
      return;
    }
    const current = this.#current;
    if (!current || this.isExpired(current)) return;
    this.#failures++;
    const retryAfterMs = (error as { retryAfterMs?: unknown }).retryAfterMs;
    this.#retryNotBefore = this.#now() + retryDelayMs(this.#failures, {
      random: this.#random,
      retryAfterMs: typeof retryAfterMs === "number" ? retryAfterMs : undefined,
    });
    this.#options.logger.warn(
      `Cannot refresh the token of server "${this.#options.server}"; using the current one ` +
        (current.expiresAt === undefined
          ? "meanwhile"
          : `until it expires at ${new Date(current.expiresAt).toISOString()}`),
      { error: error.message },
    );
    if (current.expiresAt === undefined || this.#retryNotBefore < current.expiresAt) {
      this.#schedule(this.#retryNotBefore);
    }
  }

  /** Arms the background refresh for epoch ms `at` (by the injected clock). */
  #schedule(at: number): void {
    if (!this.#options.background || this.#closed.signal.aborted || !Number.isFinite(at)) return;
    clearTimeout(this.#timer);
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, at - this.#now()));
    const timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#flight) this.#obtain("due", false).catch(() => {});
    }, delay);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }
}
