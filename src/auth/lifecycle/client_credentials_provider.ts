/**
 * Machine credentials: the OAuth client_credentials grant, with the client authenticated by a
 * secret (`client_credentials`) or by a signed JWT (`private_key_jwt`, RFC 7523), and the
 * extension grants that only change how the token request looks (`jwt_bearer`,
 * `enterprise_managed`: a {@link MachineGrant}); optionally DPoP-bound (RFC 9449).
 *
 * Why not the SDK's `client/auth-extensions.js` `ClientCredentialsProvider` /
 * `PrivateKeyJwtProvider`: they are `OAuthClientProvider`s for the SDK's `auth()` flow, which
 * finds the authorization server through RFC 9728 metadata of the MCP server (we are given
 * `tokenUrl`), takes the secret or key once as a string (our `*File` secrets rotate), keeps
 * tokens without an absolute expiry, and has no single-flight, proactive refresh or backoff.
 * This provider therefore calls oauth4webapi's request/process pair directly, leaves timing to
 * the shared {@link TokenLifecycle}, and plugs into our own {@link CredentialProvider} seam.
 */
import { isLoopbackHost } from "../../config/loopback.ts";
import type {
  ClientCredentialsAuthConfig,
  EnterpriseManagedAuthConfig,
  JwtBearerAuthConfig,
  PrivateKeyJwtAuthConfig,
} from "../../config/types.ts";
import { AuthError } from "../../errors.ts";
import { fingerprint, type Logger } from "../../log.ts";
import { abortableDelay } from "../../abort.ts";
import { ClientAuthentication } from "../protocol/client_authentication.ts";
import type { MachineGrant } from "./_machine_grant.ts";
import { chooseDpopAlg, DpopKey, isDpopBound } from "../protocol/dpop.ts";
import { readChallenge } from "../protocol/mcp_probe.ts";
import { type ObtainedToken, requestToken } from "../protocol/token_request.ts";
import { type TokenDemand, TokenLifecycle, type TokenSet } from "./token_lifecycle.ts";
import type {
  CredentialProvider,
  CredentialStatus,
  DpopSender,
  TokenRequestHook,
  TokenRequestOutcome,
} from "../types.ts";

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

/** The auth types whose tokens this provider obtains (each a grant under one lifecycle). */
export type MachineAuthConfig =
  | ClientCredentialsAuthConfig
  | PrivateKeyJwtAuthConfig
  | JwtBearerAuthConfig
  | EnterpriseManagedAuthConfig;

const DEFAULT_LIFETIME_S = 3600;
const MAX_RETRY_AFTER_MS = 60_000;

/**
 * Obtains, caches and refreshes a client_credentials token for one server.
 *
 * The {@link TokenLifecycle} decides when: concurrent callers share one token request, the token
 * is refreshed at `refreshAt` of its lifetime, by a timer and by the first `headers()` call past
 * that point, and while a refresh fails the current token is used until it expires. This class
 * is the grant: how a token is obtained. `*File` secrets and the private key file are read
 * again for every token request, so rotated secrets are picked up without a restart. Call
 * `close()` (or `await using`) to stop the timer.
 *
 * @throws {AuthError} from `headers()` when no token can be obtained; `temporary` is true for
 *   network errors, timeouts, 429 and 5xx. `ConfigError` when a secret or key file cannot
 *   be read or used.
 * @example
 * ```ts
 * import { ClientCredentialsProvider } from "./client_credentials_provider.ts";
 * import { Logger } from "../../log.ts";
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
  readonly #onAttempt?: (outcome: TokenRequestOutcome) => void;
  readonly #lifecycle: TokenLifecycle;
  #extraScopes: string[] = [];
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
    this.#lifecycle = new TokenLifecycle({ obtain: (demand) => this.#obtain(demand) }, {
      server: serverName,
      logger: this.#logger,
      now: this.#now,
      random: this.#random,
      refreshAt: auth.refreshAt,
      background: options.backgroundRefresh ?? true,
    });
  }

  /**
   * `Authorization: Bearer <token>` (`DPoP <token>` for a DPoP-bound one), obtaining or
   * refreshing the token when due.
   */
  async headers(signal?: AbortSignal): Promise<Record<string, string>> {
    const token = await this.#lifecycle.token(signal);
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
      await this.#lifecycle.renew(undefined, signal);
      return true;
    }
    if (response.status !== 403) return false;
    const challenge = readChallenge(response);
    const challenged = challenge.error === "insufficient_scope"
      ? challenge.scope?.split(" ").filter(Boolean) ?? []
      : [];
    const requested = this.#requestedScopes();
    const missing = challenged.filter((s) => !requested.includes(s));
    if (missing.length === 0) return false;
    const granted = (this.#lifecycle.current?.scopes ?? []).filter((s) => !requested.includes(s));
    const previous = this.#extraScopes;
    this.#extraScopes = [...new Set([...previous, ...granted, ...missing])];
    this.#logger.debug(`Requesting wider scopes for server "${this.#server}"`, {
      scopes: this.#requestedScopes(),
    });
    try {
      await this.#lifecycle.renew(undefined, signal, true);
    } catch (error) {
      if (error instanceof AuthError && !error.temporary) this.#extraScopes = previous;
      throw error;
    }
    return true;
  }

  /** The state of the cached token; never the token itself. */
  status(): Promise<CredentialStatus> {
    const current = this.#lifecycle.current;
    const error = this.#lifecycle.lastError;
    const scopes = current?.scopes ?? this.#requestedScopes();
    return Promise.resolve({
      authType: this.#auth.type,
      state: this.#lifecycle.state(true),
      expiresAt: current?.expiresAt,
      scopes: scopes.length > 0 ? scopes : undefined,
      lastError: error ? this.#logger.redactor.redactText(error.message) : undefined,
      ...(current && isDpopBound(current.tokenType) ? { dpop: true } : {}),
    });
  }

  /** Stops the refresh timer and aborts a token request under way. Idempotent. */
  close(): Promise<void> {
    this.#lifecycle.close();
    return Promise.resolve();
  }

  /** Same as {@link ClientCredentialsProvider.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * The token source: one token request of the grant (retried within itself only when a caller
   * waits for it), with a DPoP proof when the server's `dpop` setting and its metadata ask for one.
   */
  async #obtain(demand: TokenDemand): Promise<TokenSet> {
    const scopes = this.#requestedScopes();
    const prepared = await this.#grant.prepare(demand.signal);
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
    const obtained = await requestToken(
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
        maxAttempts: demand.urgent ? this.#maxAttempts : 1,
        timeoutMs: this.#timeoutMs,
        maxRetryAfterMs: MAX_RETRY_AFTER_MS,
        signal: demand.signal,
        onAttempt: this.#onAttempt,
      },
    );
    return this.#tokenSet(obtained, scopes);
  }

  #tokenSet(obtained: ObtainedToken, requested: string[]): TokenSet {
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
    const now = this.#now();
    const token: TokenSet = {
      accessToken: obtained.accessToken,
      tokenType: obtained.tokenType,
      obtainedAt: now,
      expiresAt: now + lifetimeS * 1000,
      scopes: obtained.scope?.split(" ").filter(Boolean) ?? requested,
    };
    this.#logger.debug(`Obtained a token for server "${this.#server}"`, {
      fingerprint: fingerprint(token.accessToken),
      expiresAt: new Date(token.expiresAt!).toISOString(),
      scopes: token.scopes,
    });
    return token;
  }

  #requestedScopes(): string[] {
    return [...new Set([...(this.#auth.scopes ?? []), ...this.#extraScopes])];
  }
}
