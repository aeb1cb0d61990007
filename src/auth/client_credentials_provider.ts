/**
 * Machine credentials: the OAuth client_credentials grant, with the client authenticated by a
 * secret (`client_credentials`) or by a signed JWT (`private_key_jwt`, RFC 7523).
 *
 * Why not the SDK's `client/auth-extensions.js` `ClientCredentialsProvider` /
 * `PrivateKeyJwtProvider`: they are `OAuthClientProvider`s for the SDK's `auth()` flow, which
 * finds the authorization server through RFC 9728 metadata of the MCP server (we are given
 * `tokenUrl`), takes the secret or key once as a string (our `*File` secrets rotate), keeps
 * tokens without an absolute expiry, and has no single-flight, proactive refresh or backoff.
 * This provider therefore calls oauth4webapi's request/process pair directly and plugs into
 * our own {@link CredentialProvider} seam.
 */
import { isLoopbackHost } from "../config/loopback.ts";
import type {
  ClientCredentialsAuthConfig,
  EnterpriseManagedAuthConfig,
  JwtBearerAuthConfig,
  PrivateKeyJwtAuthConfig,
} from "../config/types.ts";
import { AuthError, ConfigError } from "../errors.ts";
import { fingerprint, type Logger } from "../log.ts";
import { abortableDelay, raceAbort } from "../abort.ts";
import { ClientAuthentication } from "./_client_authentication.ts";
import type { MachineGrant } from "./_machine_grant.ts";
import { chooseDpopAlg, DpopKey, isDpopBound } from "./dpop.ts";
import { type ObtainedToken, requestToken, TokenRequestError } from "./_token_request.ts";
import type {
  CredentialProvider,
  CredentialStatus,
  DpopSender,
  TokenRequestHook,
  TokenRequestOutcome,
} from "./types.ts";

/** Options of {@link ClientCredentialsProvider}. */
export interface ClientCredentialsProviderOptions {
  /** Debug lines and warnings; every token obtained is registered with its redactor. */
  logger: Logger;
  /** Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Epoch ms; decides expiry and the refresh point. Default `Date.now`. */
  now?: () => number;
  /** Jitter of retry delays, in [0, 1). Default `Math.random`. */
  random?: () => number;
  /** Waits between retries; rejects with `signal.reason` on abort. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** The server's `allowInsecureHttp`: permits a non-loopback `http:` token URL. */
  allowInsecureHttp?: boolean;
  /** Attempts per token request when no usable token is cached; default 4. */
  maxAttempts?: number;
  /** Per-attempt timeout; default 30 000 ms. */
  requestTimeoutMs?: number;
  /** Refresh on a timer at `refreshAt` of the lifetime; default true. */
  backgroundRefresh?: boolean;
  /**
   * Told of every request sent to the token endpoint (each retry counts), for the gateway's
   * metrics. Internal: not part of the library API yet.
   * @ignore
   */
  onTokenRequest?: TokenRequestHook;
  /**
   * How token requests are made; default the client_credentials grant of `auth`. Required for
   * the extension grants (`jwt_bearer`, `enterprise_managed`), which only contribute this.
   * Internal: not part of the library API yet.
   * @ignore
   */
  grant?: MachineGrant;
}

/** The auth types whose tokens this provider's lifecycle manages. */
export type MachineAuthConfig =
  | ClientCredentialsAuthConfig
  | PrivateKeyJwtAuthConfig
  | JwtBearerAuthConfig
  | EnterpriseManagedAuthConfig;

interface CachedToken {
  accessToken: string;
  /** `bearer` or `dpop`. */
  tokenType: string;
  expiresAt: number;
  refreshAt: number;
  scopes: string[];
}

interface Flight {
  /** `soft`: a usable token exists, one attempt; `hard`: none, the full retry policy. */
  mode: "soft" | "hard";
  promise: Promise<CachedToken>;
}

const DEFAULT_LIFETIME_S = 3600;
const MAX_TIMER_MS = 2 ** 31 - 1;
const MAX_RETRY_AFTER_MS = 60_000;

/**
 * Obtains, caches and refreshes a client_credentials token for one server.
 *
 * Concurrent callers share one token request. The token is refreshed at `refreshAt` of its
 * lifetime, by a timer and by the first `headers()` call past that point; while a refresh fails
 * the current token is used until it expires. `*File` secrets and the private key file are read
 * again for every token request, so rotated secrets are picked up without a restart. Call
 * `close()` (or `await using`) to stop the timer.
 *
 * @throws {AuthError} from `headers()` when no token can be obtained; `temporary` is true for
 *   network errors, timeouts, 429 and 5xx. {@link ConfigError} when a secret or key file cannot
 *   be read or used.
 * @example
 * ```ts
 * import { ClientCredentialsProvider } from "./client_credentials_provider.ts";
 * import { Logger } from "../log.ts";
 * await using provider = new ClientCredentialsProvider("internal", {
 *   type: "client_credentials",
 *   tokenUrl: "https://auth.example/oauth/token",
 *   clientId: { value: "bot" },
 *   clientSecret: { file: "/run/secrets/secret" },
 *   refreshAt: 0.8,
 * }, { logger: new Logger() });
 * // const headers = await provider.headers(); // { Authorization: "Bearer …" }
 * ```
 */
export class ClientCredentialsProvider implements CredentialProvider, AsyncDisposable {
  readonly #server: string;
  readonly #auth: MachineAuthConfig;
  readonly #logger: Logger;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #insecure: boolean;
  readonly #grant: MachineGrant;
  readonly #maxAttempts: number;
  readonly #timeoutMs: number;
  readonly #background: boolean;
  readonly #onAttempt?: (outcome: TokenRequestOutcome) => void;
  readonly #closed = new AbortController();
  #current?: CachedToken;
  #flight?: Flight;
  #extraScopes: string[] = [];
  #lastError?: Error;
  #softFailures = 0;
  #retryNotBefore = 0;
  #timer?: ReturnType<typeof setTimeout>;
  /** The in-memory DPoP key (RFC 9449), made at the first token request that uses DPoP. */
  #dpop?: Promise<DpopKey>;

  /**
   * Requests nothing yet: the first token is obtained by the first `headers()` call.
   * `serverName` names the server in logs and errors.
   *
   * @throws {TypeError} when `auth.tokenUrl` is not a URL (validated configs always are), or an
   *   extension grant's auth comes without `options.grant`.
   */
  constructor(
    serverName: string,
    auth: MachineAuthConfig,
    options: ClientCredentialsProviderOptions,
  ) {
    this.#server = serverName;
    this.#auth = auth;
    this.#logger = options.logger;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#sleep = options.sleep ?? abortableDelay;
    this.#insecure = new URL(auth.tokenUrl).protocol === "http:" &&
      (options.allowInsecureHttp === true || isLoopbackHost(new URL(auth.tokenUrl).hostname));
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.#timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#background = options.backgroundRefresh ?? true;
    const hook = options.onTokenRequest;
    if (hook) this.#onAttempt = (outcome) => hook(serverName, auth.type, outcome);
    if (options.grant) this.#grant = options.grant;
    else if (auth.type === "client_credentials" || auth.type === "private_key_jwt") {
      this.#grant = new ClientAuthentication(serverName, auth, {
        logger: this.#logger,
        fetch: this.#fetch,
        insecure: this.#insecure,
      });
    } else throw new TypeError(`"${auth.type}" auth needs options.grant`);
  }

  /** `Authorization: Bearer <token>`, obtaining or refreshing the token when due. */
  async headers(signal?: AbortSignal): Promise<Record<string, string>> {
    signal?.throwIfAborted();
    const token = await this.#usableToken(signal);
    return {
      Authorization: `${isDpopBound(token.tokenType) ? "DPoP" : "Bearer"} ${token.accessToken}`,
    };
  }

  /** See {@link CredentialProvider.dpop}: the key DPoP-bound tokens are bound to. */
  async dpop(): Promise<DpopSender | undefined> {
    return await this.#dpop;
  }

  /**
   * On 401: drops the token and obtains a new one. On 403 `insufficient_scope`: obtains a token
   * with the configured scopes plus the challenged ones, once. Returns false otherwise.
   * @throws {AuthError} when the new token cannot be obtained.
   */
  async recover(response: Response, signal?: AbortSignal): Promise<boolean> {
    // The body is not needed. Cancel it without waiting: when `response` is a clone (as from
    // createAuthFetch), cancelling either branch settles only once both are cancelled.
    response.body?.cancel().catch(() => {});
    if (response.status === 401) {
      // A request already under way carries a newer token than the one refused: share it.
      if (!this.#flight) this.#current = undefined;
      await this.#obtain("hard", signal);
      return true;
    }
    if (response.status !== 403) return false;
    const challenged = insufficientScopes(response.headers.get("www-authenticate"));
    const requested = this.#requestedScopes();
    const missing = challenged.filter((s) => !requested.includes(s));
    if (missing.length === 0) return false;
    const granted = (this.#current?.scopes ?? []).filter((s) => !requested.includes(s));
    const previous = this.#extraScopes;
    this.#extraScopes = [...new Set([...previous, ...granted, ...missing])];
    this.#logger.debug(`Requesting wider scopes for server "${this.#server}"`, {
      scopes: this.#requestedScopes(),
    });
    if (this.#flight) await raceAbort(this.#flight.promise, signal).catch(() => {});
    signal?.throwIfAborted();
    try {
      await this.#obtain("hard", signal);
    } catch (error) {
      if (error instanceof AuthError && !error.temporary) this.#extraScopes = previous;
      throw error;
    }
    return true;
  }

  /** The state of the cached token; never the token itself. */
  status(): Promise<CredentialStatus> {
    const current = this.#current;
    const valid = current !== undefined && this.#now() < current.expiresAt;
    const error = this.#lastError;
    let state: CredentialStatus["state"];
    if (valid) state = error ? "refresh-failed" : "ok";
    else if (error instanceof AuthError && !error.temporary) state = "needs-auth";
    else if (error instanceof ConfigError) state = "error";
    else if (current) state = "expired";
    else state = error ? "error" : "ok";
    const scopes = current?.scopes ?? this.#requestedScopes();
    return Promise.resolve({
      authType: this.#auth.type,
      state,
      expiresAt: current?.expiresAt,
      scopes: scopes.length > 0 ? scopes : undefined,
      lastError: error ? this.#logger.redactor.redactText(error.message) : undefined,
      ...(current && isDpopBound(current.tokenType) ? { dpop: true } : {}),
    });
  }

  /** Stops the refresh timer and aborts a token request under way. Idempotent. */
  close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#closed.signal.aborted) this.#closed.abort(new Error("Credential provider closed"));
    return Promise.resolve();
  }

  /** Same as {@link ClientCredentialsProvider.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #usableToken(signal?: AbortSignal): Promise<CachedToken> {
    const current = this.#current;
    const now = this.#now();
    if (!current || now >= current.expiresAt) return await this.#obtain("hard", signal);
    if (now < current.refreshAt || now < this.#retryNotBefore) return current;
    try {
      return await this.#obtain("soft", signal);
    } catch {
      if (signal?.aborted) throw signal.reason;
      return current; // Still valid: keep using it; the failure is logged and in status().
    }
  }

  /** Joins the token request under way, or starts one. */
  async #obtain(mode: Flight["mode"], signal?: AbortSignal): Promise<CachedToken> {
    for (;;) {
      const flight = this.#flight ?? this.#start(mode);
      try {
        return await raceAbort(flight.promise, signal);
      } catch (error) {
        // A soft refresh makes one attempt; a caller without a usable token then runs the
        // full retry policy itself (and others join it).
        if (signal?.aborted || mode === "soft" || flight.mode === "hard") throw error;
      }
    }
  }

  #start(mode: Flight["mode"]): Flight {
    const promise = (async () => {
      try {
        return await this.#fetchAndStore(mode);
      } finally {
        this.#flight = undefined;
      }
    })();
    promise.catch(() => {}); // Waiters may all have gone; the outcome is recorded anyway.
    this.#flight = { mode, promise };
    return this.#flight;
  }

  async #fetchAndStore(mode: Flight["mode"]): Promise<CachedToken> {
    const scopes = this.#requestedScopes();
    try {
      const obtained = await this.#requestToken(scopes, mode === "hard" ? this.#maxAttempts : 1);
      const token = this.#cache(obtained, scopes);
      this.#lastError = undefined;
      this.#softFailures = 0;
      this.#retryNotBefore = 0;
      this.#schedule(token.refreshAt);
      return token;
    } catch (error) {
      if (!this.#closed.signal.aborted) this.#recordFailure(error as Error, mode);
      throw error;
    }
  }

  async #requestToken(scopes: string[], maxAttempts: number): Promise<ObtainedToken> {
    const signal = this.#closed.signal;
    const prepared = await this.#grant.prepare(signal);
    const { as, client, clientAuth, credentials, grantInput, grant } = prepared;
    const dpopAlg = chooseDpopAlg(this.#server, as, this.#auth.dpop);
    if (dpopAlg && !this.#dpop) {
      // Kept in memory only: the private key is never extractable.
      this.#dpop = DpopKey.generate(this.#server, dpopAlg, { persist: false });
    }
    const dpop = dpopAlg ? (await this.#dpop)?.handle : undefined;
    const parameters = new URLSearchParams(prepared.parameters);
    if (scopes.length > 0) parameters.set("scope", scopes.join(" "));
    // enterprise_managed sends resource and audience in its token exchange, not here.
    if (this.#auth.type !== "enterprise_managed") {
      if (this.#auth.resource) parameters.set("resource", this.#auth.resource);
      if (this.#auth.audience) parameters.set("audience", this.#auth.audience);
    }
    return await requestToken(
      {
        server: this.#server,
        as,
        client,
        clientAuth,
        parameters,
        grantType: prepared.grantType,
        settings: { credentials, grantInput, grant },
        dpop,
      },
      {
        fetch: this.#fetch,
        logger: this.#logger,
        allowInsecureRequests: this.#insecure,
        now: this.#now,
        random: this.#random,
        sleep: this.#sleep,
        maxAttempts,
        timeoutMs: this.#timeoutMs,
        maxRetryAfterMs: MAX_RETRY_AFTER_MS,
        signal,
        onAttempt: this.#onAttempt,
      },
    );
  }

  #cache(obtained: ObtainedToken, requested: string[]): CachedToken {
    let lifetimeS = obtained.expiresIn;
    if (lifetimeS === undefined) {
      this.#logger.debug(
        `The token of server "${this.#server}" has no expires_in; assuming ${DEFAULT_LIFETIME_S} s`,
      );
      lifetimeS = DEFAULT_LIFETIME_S;
    }
    if (!(lifetimeS > 0)) {
      throw new AuthError(
        `Cannot get a token for server "${this.#server}": the token endpoint sent expires_in ` +
          `${lifetimeS}`,
        { server: this.#server },
      );
    }
    const fraction = this.#auth.refreshAt > 0 && this.#auth.refreshAt <= 1
      ? this.#auth.refreshAt
      : 0.8;
    const now = this.#now();
    const token: CachedToken = {
      accessToken: obtained.accessToken,
      tokenType: obtained.tokenType,
      expiresAt: now + lifetimeS * 1000,
      refreshAt: now + lifetimeS * 1000 * fraction,
      scopes: obtained.scope?.split(" ").filter(Boolean) ?? requested,
    };
    this.#current = token;
    this.#logger.debug(`Obtained a token for server "${this.#server}"`, {
      fingerprint: fingerprint(token.accessToken),
      expiresAt: new Date(token.expiresAt).toISOString(),
      scopes: token.scopes,
    });
    return token;
  }

  #recordFailure(error: Error, mode: Flight["mode"]): void {
    this.#lastError = error;
    const current = this.#current;
    if (mode === "hard" || !current) return;
    this.#softFailures++;
    const backoff = Math.min(60_000, 1000 * 2 ** (this.#softFailures - 1));
    const retryAfter = error instanceof TokenRequestError ? error.retryAfterMs ?? 0 : 0;
    this.#retryNotBefore = this.#now() + Math.max(backoff, retryAfter);
    this.#logger.warn(
      `Cannot refresh the token of server "${this.#server}"; using the current one until it ` +
        `expires at ${new Date(current.expiresAt).toISOString()}`,
      { error: error.message },
    );
    if (this.#retryNotBefore < current.expiresAt) this.#schedule(this.#retryNotBefore);
  }

  /** Arms the refresh timer for epoch ms `at` (by the injected clock). */
  #schedule(at: number): void {
    if (!this.#background || this.#closed.signal.aborted) return;
    clearTimeout(this.#timer);
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, at - this.#now()));
    const timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#flight) this.#obtain("soft").catch(() => {});
    }, delay);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  #requestedScopes(): string[] {
    return [...new Set([...(this.#auth.scopes ?? []), ...this.#extraScopes])];
  }
}

/** The scopes of a `Bearer error="insufficient_scope", scope="…"` challenge, or none. */
function insufficientScopes(header: string | null): string[] {
  if (!header || !/error\s*=\s*"?insufficient_scope"?/i.test(header)) return [];
  const match = /(?:^|[\s,])scope\s*=\s*(?:"([^"]*)"|([^\s,]+))/i.exec(header);
  return (match?.[1] ?? match?.[2] ?? "").split(" ").filter(Boolean);
}
