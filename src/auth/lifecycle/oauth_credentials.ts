/**
 * The gateway side of OAuth: a {@link CredentialProvider} that sends the access token stored by
 * `toolscript auth`, refreshes it before it expires and when the server answers 401, and
 * tells the user the exact command to run when only a new login helps.
 */
import type { RemoteServerConfig } from "../../config/types.ts";
import { AuthError, NotAuthenticatedError, UnreadableTokenFileError } from "../../errors.ts";
import { fingerprint, type Logger, silentLogger } from "../../log.ts";
import { raceAbort } from "../../abort.ts";
import { type TokenDemand, TokenLifecycle, type TokenSet } from "./token_lifecycle.ts";
import { RefreshRejectedError, refreshStoredTokens } from "../login/oauth_refresh.ts";
import { readChallenge } from "../protocol/oauth_discovery.ts";
import type {
  CredentialDocument,
  StoredTokens,
  TokenStore,
  TokenTransaction,
} from "../store/token_store.ts";
import type {
  CredentialProvider,
  CredentialStatus,
  DpopSender,
  TokenRequestHook,
} from "../types.ts";
import { DpopKey, isDpopBound } from "../protocol/dpop.ts";

/** Options of {@link OAuthCredentialProvider}. */
export interface OAuthCredentialProviderOptions {
  /** Where `toolscript auth` saved the credentials. */
  store: TokenStore;
  /** Receives refresh and failure lines (redacted); silent by default. */
  logger?: Logger;
  /** Used for token requests; default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Epoch ms clock; default `Date.now`. */
  now?: () => number;
  /** The gateway caller these credentials belong to (`--caller` in fix commands). */
  caller?: string;
  /**
   * For a remote server without an `auth` block: without stored credentials requests go out
   * bare (`headers()` returns `{}`) and a 401 is not recovered (`recover()` returns false).
   * With stored credentials (from `toolscript auth`), it behaves as for `{"type":"oauth"}`.
   */
  implicit?: boolean;
  /**
   * Refresh once this fraction of the access token's lifetime has passed (as `refreshAt` of
   * the machine grants); default 0.8. Long-lived tokens refresh no earlier than
   * `refreshSkewMs` before expiry.
   */
  refreshAt?: number;
  /** Longest margin before expiry at which a refresh starts; default 60 000 ms. */
  refreshSkewMs?: number;
  /** Longest wait for another process holding the server's lock; default 30 000 ms. */
  lockTimeoutMs?: number;
  /** Longest refresh request; default 30 000 ms. */
  requestTimeoutMs?: number;
  /**
   * Told of every refresh request sent to the token endpoint, for the gateway's metrics.
   * Internal: not part of the library API yet.
   * @ignore
   */
  onTokenRequest?: TokenRequestHook;
}

/**
 * Supplies `Authorization: Bearer <token>` for one OAuth server from the {@link TokenStore}.
 *
 * Re-reads the stored document whenever `store.version()` changes, so a login in another
 * process is picked up. When to refresh, single flight in-process and keeping a valid token
 * while a refresh fails are the shared {@link TokenLifecycle}'s; this class is the grant: it
 * refreshes in a `store.transaction(server)`, re-reading after taking the lock and skipping the
 * refresh when another process already did it. Only `invalid_grant` clears the stored tokens.
 *
 * @throws {NotAuthenticatedError} (from `headers`/`recover`) with the `toolscript auth` command
 *   (and `--scope` for a 403 `insufficient_scope`) when only a new login helps.
 * @throws {AuthError} with `temporary: true` when the authorization server is unreachable,
 *   answers 5xx or 429, or is `temporarily_unavailable`; the tokens are kept.
 */
export class OAuthCredentialProvider implements CredentialProvider {
  /** The server whose credentials this provides. */
  readonly server: RemoteServerConfig;
  readonly #options: OAuthCredentialProviderOptions;
  readonly #logger: Logger;
  readonly #now: () => number;
  /** When to refresh, one refresh at a time, what failed: the shared token lifecycle. */
  readonly #lifecycle: TokenLifecycle;
  #doc: CredentialDocument | undefined;
  #version: string | undefined;
  #loaded = false;
  /** The access token obtained by the last refresh that `recover()` asked for. */
  #recoveredWith: string | undefined;
  #lastSent: string | undefined;
  /** When the store's version was last looked at (monotonic ms). */
  #checkedAt = -Infinity;
  /** A look at the store under way, shared by concurrent requests. */
  #reading: Promise<CredentialDocument | undefined> | undefined;
  /** The stored DPoP key, imported once per stored key (its nonce memory lives here). */
  #dpop: { jwk: string; key: Promise<DpopKey> } | undefined;

  /** Reads nothing yet: the store is read on first use. */
  constructor(server: RemoteServerConfig, options: OAuthCredentialProviderOptions) {
    this.server = server;
    this.#options = options;
    this.#logger = options.logger ?? silentLogger();
    this.#now = options.now ?? Date.now;
    this.#lifecycle = new TokenLifecycle({ obtain: (demand) => this.#refreshLocked(demand) }, {
      server: server.name,
      logger: this.#logger,
      now: this.#now,
      refreshAt: options.refreshAt ?? DEFAULT_REFRESH_AT,
      maxMarginMs: options.refreshSkewMs ?? DEFAULT_REFRESH_SKEW_MS,
    });
  }

  /** See {@link CredentialProvider.headers}. */
  async headers(signal?: AbortSignal): Promise<Record<string, string>> {
    const doc = await this.#current(signal);
    if (!doc?.tokens) {
      if (this.#options.implicit && !doc?.tokensDropped) return {};
      throw this.#notAuthenticated(doc?.tokensDropped?.reason ?? "no stored credentials");
    }
    // Without a refresh token there is nothing to renew: the token serves until it expires.
    const renewable = doc.tokens.refreshToken !== undefined ||
      this.#lifecycle.isExpired(tokenSetOf(doc));
    const token = renewable ? await this.#lifecycle.token(signal) : tokenSetOf(doc)!;
    this.#lastSent = token.accessToken;
    const scheme = isDpopBound(token.tokenType) ? "DPoP" : "Bearer";
    return { Authorization: `${scheme} ${token.accessToken}` };
  }

  /** See {@link CredentialProvider.dpop}: the stored key, when there is one. */
  async dpop(signal?: AbortSignal): Promise<DpopSender | undefined> {
    return await this.#dpopKey(await this.#current(signal));
  }

  #dpopKey(doc: CredentialDocument | undefined): Promise<DpopKey> | undefined {
    const stored = doc?.dpopKey;
    if (!stored) return undefined;
    const jwk = JSON.stringify(stored);
    if (this.#dpop?.jwk !== jwk) {
      this.#dpop = { jwk, key: DpopKey.fromStored(this.server.name, stored) };
    }
    return this.#dpop.key;
  }

  /** See {@link CredentialProvider.recover}. */
  async recover(
    response: Response,
    signal?: AbortSignal,
    sentHeaders?: Record<string, string>,
  ): Promise<boolean> {
    const challenge = readChallenge(response);
    // Only the headers matter. Not awaited: cancelling one branch of a cloned body settles
    // only once the caller releases the other branch.
    response.body?.cancel().catch(() => {});
    if (response.status === 403) {
      if (challenge.error !== "insufficient_scope") return false;
      const doc = await this.#current(signal);
      const granted = doc?.tokens?.scope?.split(" ") ?? this.#configuredScopes();
      const required = challenge.scope?.split(/\s+/).filter(Boolean) ?? [];
      const scopes = [...new Set([...granted, ...required])].filter(Boolean);
      throw this.#notAuthenticated(
        `the server requires scope "${required.join(" ")}"`,
        scopes.length ? scopes : undefined,
      );
    }
    if (response.status !== 401) return false;
    const doc = await this.#current(signal, true);
    if (!doc?.tokens) {
      if (this.#options.implicit) return false;
      throw this.#notAuthenticated("the server requires authentication");
    }
    // The token the refused request carried; the last one handed out when the caller cannot say
    // (with concurrent requests, a newer one than that request had).
    const sent = bearerOf(sentHeaders) ?? this.#lastSent ?? doc.tokens.accessToken;
    if (sent === this.#recoveredWith && !this.#worthRenewing(sent)) {
      throw this.#notAuthenticated("the server rejected a freshly refreshed access token");
    }
    this.#logger.info(`Server "${this.server.name}" rejected the access token; refreshing`, {
      tokenFingerprint: fingerprint(sent),
      error: challenge.error,
    });
    const fresh = await this.#lifecycle.renew(sent, signal);
    this.#recoveredWith = fresh.accessToken;
    return true;
  }

  /** See {@link CredentialProvider.status}. Never refreshes. */
  async status(): Promise<CredentialStatus> {
    let doc: CredentialDocument | undefined;
    try {
      doc = await this.#current(undefined, true);
    } catch (error) {
      return { authType: "oauth", state: "error", lastError: (error as Error).message };
    }
    if (!doc?.tokens && this.#options.implicit && !doc?.client) {
      return { authType: "none", state: "ok" };
    }
    const failure = this.#lifecycle.lastError;
    const lastError = failure instanceof NotAuthenticatedError ? failure.reason : failure?.message;
    const base = {
      authType: "oauth",
      ...(doc?.client ? { registration: doc.client.registration } : {}),
      ...(lastError ? { lastError } : {}),
    };
    const tokens = doc?.tokens;
    if (!tokens) {
      const reason = lastError ?? doc?.tokensDropped?.reason;
      return { ...base, state: "needs-auth", ...(reason ? { lastError: reason } : {}) };
    }
    return {
      ...base,
      state: this.#lifecycle.state(tokens.refreshToken !== undefined),
      ...(tokens.expiresAt !== undefined ? { expiresAt: tokens.expiresAt } : {}),
      ...(tokens.scope ? { scopes: tokens.scope.split(" ").filter(Boolean) } : {}),
      ...(isDpopBound(tokens.tokenType) ? { dpop: true } : {}),
    };
  }

  /** See {@link CredentialProvider.invalidate}. */
  invalidate(): void {
    this.#checkedAt = -Infinity;
  }

  /** See {@link CredentialProvider.close}: aborts a refresh under way. */
  close(): Promise<void> {
    this.#lifecycle.close();
    return Promise.resolve();
  }

  /**
   * The stored document from memory; the store's version is looked at again only when `fresh`
   * is asked for (a 401, `status`), after {@link invalidate}, or once per
   * {@link STORE_RECHECK_MS} — not on every request, which cost a stat, a read and a hash.
   */
  async #current(signal?: AbortSignal, fresh = false): Promise<CredentialDocument | undefined> {
    const now = performance.now();
    if (this.#loaded && !fresh && now - this.#checkedAt < STORE_RECHECK_MS) return this.#doc;
    // Concurrent requests share one look at the store, and none uses the old document meanwhile.
    // A local read, shared: no one caller's signal may abort it for the others.
    this.#reading ??= this.#read(now).finally(() => this.#reading = undefined);
    return await raceAbort(this.#reading, signal);
  }

  async #read(checkedAt: number): Promise<CredentialDocument | undefined> {
    const name = this.server.name;
    let version: string | undefined;
    try {
      version = await this.#options.store.version(name);
    } catch (error) {
      // A shared store briefly unreachable (Redis): the token set in memory stays usable
      // until it needs a refresh, which needs the store.
      if (!this.#loaded || !(error instanceof AuthError && error.temporary)) throw error;
      this.#checkedAt = checkedAt;
      return this.#doc;
    }
    if (!this.#loaded || version !== this.#version) {
      const doc = await this.#options.store.load(name, this.server.url).catch((error) => {
        // A corrupt file is a missing login: `toolscript auth` replaces it.
        if (error instanceof UnreadableTokenFileError) {
          throw this.#notAuthenticated(error.message, undefined, error);
        }
        throw error;
      });
      this.#adopt(doc, version);
    }
    this.#checkedAt = checkedAt;
    return this.#doc;
  }

  #adopt(doc: CredentialDocument | undefined, version: string | undefined): void {
    this.#doc = doc;
    this.#version = version;
    this.#loaded = true;
    this.#lifecycle.adopt(tokenSetOf(doc));
    const redactor = this.#logger.redactor;
    for (
      const secret of [
        doc?.tokens?.accessToken,
        doc?.tokens?.refreshToken,
        doc?.client?.clientSecret,
        doc?.dpopKey?.jwk.d,
      ]
    ) {
      redactor.addSecret(secret);
    }
  }

  /**
   * The grant: under the server's lock, adopt what another process already refreshed, else
   * exchange the refresh token and save the result.
   */
  async #refreshLocked(demand: TokenDemand): Promise<TokenSet> {
    const stale = demand.current?.accessToken;
    const why = demand.need;
    const { store } = this.#options;
    const name = this.server.name;
    using lockWait = timeoutSignal(this.#options.lockTimeoutMs ?? 30_000);
    try {
      return await store.transaction(name, async (tx) => {
        const doc = await tx.load(this.server.url);
        this.#adopt(doc, await store.version(name));
        if (!doc?.tokens) throw this.#notAuthenticated("no stored credentials");
        const stored = tokenSetOf(doc)!;
        if (doc.tokens.accessToken !== stale && !this.#lifecycle.isDue(stored)) {
          this.#logger.debug("Another process already refreshed the token", { server: name });
          return stored;
        }
        if (!doc.tokens.refreshToken) {
          throw this.#notAuthenticated(
            why === "rejected"
              ? "the access token was rejected and there is no refresh token"
              : "the access token expired and there is no refresh token",
          );
        }
        return tokenSetOf(await this.#refreshNow(doc, tx))!;
      }, AbortSignal.any([lockWait.signal, demand.signal]));
    } catch (error) {
      if (lockWait.signal.aborted && error === lockWait.signal.reason) {
        throw new AuthError(
          `Cannot refresh the token of server "${name}": another toolscript process holds its lock`,
          { server: name, temporary: true },
        );
      }
      throw error;
    }
  }

  async #refreshNow(doc: CredentialDocument, tx: TokenTransaction): Promise<CredentialDocument> {
    const name = this.server.name;
    let tokens: StoredTokens;
    using requestTimeout = timeoutSignal(this.#options.requestTimeoutMs ?? 30_000);
    try {
      tokens = await refreshStoredTokens(doc, {
        server: this.server,
        fetch: this.#options.fetch ?? globalThis.fetch,
        now: this.#now,
        logger: this.#logger,
        signal: requestTimeout.signal,
        onTokenRequest: this.#options.onTokenRequest,
        dpop: await this.#dpopKey(doc),
      });
    } catch (error) {
      if (error instanceof RefreshRejectedError) {
        const { tokens: _dropped, ...rest } = doc;
        if (error.clientForgotten) delete rest.client;
        rest.tokensDropped = { reason: error.message, at: this.#now() };
        await tx.save(rest);
        this.#adopt(rest, await this.#options.store.version(name));
        this.#logger.warn(`Server "${name}" needs a new login: ${error.message}`);
        throw this.#notAuthenticated(error.message, undefined, error);
      }
      throw error;
    }
    const next = { ...doc, tokens };
    await tx.save(next);
    this.#adopt(next, await this.#options.store.version(name));
    this.#logger.info(`Refreshed the access token of "${name}"`, {
      expiresAt: tokens.expiresAt ? new Date(tokens.expiresAt).toISOString() : undefined,
      tokenFingerprint: fingerprint(tokens.accessToken),
    });
    return next;
  }

  /**
   * Whether a 401 on `sent`, the token the last recovery obtained, leaves something to try: a
   * newer token is held (another process renewed it), or `sent` {@link mayHaveEnded}.
   */
  #worthRenewing(sent: string): boolean {
    const token = this.#lifecycle.current;
    if (!token) return false;
    return token.accessToken !== sent || this.#mayHaveEnded(token);
  }

  /**
   * Whether the server may rightly find `token` expired: it is past its expiry less
   * {@link EXPIRY_RESOLUTION_MS}, as `expires_in` counts whole seconds and the server's expiry
   * too (a "2 s" token may end 1 s after issue). The margin is capped at half the lifetime, so a
   * server that refuses every token costs at most one more refresh per half lifetime, never a
   * storm.
   */
  #mayHaveEnded(token: TokenSet): boolean {
    if (token.expiresAt === undefined) return false;
    const lifetimeMs = token.obtainedAt !== undefined && token.obtainedAt < token.expiresAt
      ? token.expiresAt - token.obtainedAt
      : Infinity;
    const marginMs = Math.min(EXPIRY_RESOLUTION_MS, lifetimeMs / 2);
    return this.#now() >= token.expiresAt - marginMs;
  }

  #configuredScopes(): string[] {
    return this.server.auth?.type === "oauth" ? this.server.auth.scopes ?? [] : [];
  }

  #notAuthenticated(reason: string, scopes?: string[], cause?: unknown): NotAuthenticatedError {
    // Whoever acts on this logs in next; the next request must look at the store again.
    this.#checkedAt = -Infinity;
    return new NotAuthenticatedError(this.server.name, {
      reason,
      scopes,
      caller: this.#options.caller,
      ...(cause ? { cause } : {}),
    });
  }
}

const DEFAULT_REFRESH_AT = 0.8;
/**
 * How stale the in-memory credentials may be before a request looks at the store again; a
 * login or refresh by another process reaches a running gateway sooner through its credential
 * watch, which calls {@link OAuthCredentialProvider.invalidate} (via the upstream's reconnect).
 */
const STORE_RECHECK_MS = 1000;
const DEFAULT_REFRESH_SKEW_MS = 60_000;
/** How early a token may end at the server: `expires_in` and `exp` count whole seconds. */
const EXPIRY_RESOLUTION_MS = 1000;

/** The lifecycle's view of a document's tokens; `obtainedAt` defaults to the save time. */
function tokenSetOf(doc: CredentialDocument | undefined): TokenSet | undefined {
  const tokens = doc?.tokens;
  if (!tokens) return undefined;
  const obtainedAt = tokens.obtainedAt ?? doc.updatedAt;
  return {
    accessToken: tokens.accessToken,
    ...(tokens.expiresAt !== undefined ? { expiresAt: tokens.expiresAt } : {}),
    ...(obtainedAt ? { obtainedAt } : {}),
    ...(tokens.scope ? { scopes: tokens.scope.split(" ").filter(Boolean) } : {}),
    ...(tokens.tokenType ? { tokenType: tokens.tokenType } : {}),
  };
}

/** The access token in `headers` (`Bearer` or `DPoP`, as {@link OAuthCredentialProvider.headers} sets it). */
function bearerOf(headers: Record<string, string> | undefined): string | undefined {
  return /^(?:Bearer|DPoP) (.+)$/.exec(headers?.Authorization ?? "")?.[1];
}

/** An AbortSignal that aborts after `ms`; disposing it clears the timer. */
function timeoutSignal(ms: number): Disposable & { signal: AbortSignal } {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException("Timed out", "TimeoutError")),
    ms,
  );
  return { signal: controller.signal, [Symbol.dispose]: () => clearTimeout(timer) };
}
