/**
 * The MCP SDK's `OAuthClientProvider` over toolscript's {@link TokenStore}, so the SDK's
 * `auth()` can run the authorization code flow while every value lands in one credential
 * document per server.
 */
// @ts-types="@modelcontextprotocol/sdk/client/auth"
import type {
  OAuthClientProvider,
  OAuthDiscoveryState,
} from "@modelcontextprotocol/sdk/client/auth.js";
// @ts-types="@modelcontextprotocol/sdk/shared/auth"
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from "@modelcontextprotocol/sdk/shared/auth.js";
import * as oauth from "oauth4webapi";
import { type Logger, silentLogger } from "../../log.ts";
import type {
  CredentialDocument,
  StoredClient,
  StoredTokens,
  TokenStore,
  TokenTransaction,
} from "../store/token_store.ts";

/** A client registered out of band (`--client-id` / config `clientId`). */
export interface PreRegisteredClient {
  /** The `client_id` the authorization server issued for toolscript. */
  clientId: string;
  /** Secret of a confidential client; secret. */
  clientSecret?: string;
}

/** Options of {@link StoreOAuthClientProvider}. */
export interface StoreOAuthClientProviderOptions {
  /** Receives the document on `saveTokens` and `invalidateCredentials`; nothing else writes. */
  store: TokenStore;
  /** The document to start from (loaded in a transaction of the server), or a fresh one. */
  document: CredentialDocument;
  /** The loopback (or configured) redirect URI of this login. */
  redirectUrl?: string;
  /** A pre-registered client; wins over anything stored. */
  preRegistered?: PreRegisteredClient;
  /** Client ID metadata document URL; set only when the authorization server supports it. */
  clientMetadataUrl?: string;
  /** `scope` for dynamic registration. */
  scope?: string;
  /** Grant types for dynamic registration; default authorization code + refresh token. */
  grantTypes?: string[];
  /**
   * Checked discovery results the SDK should use instead of discovering itself (the SDK's
   * `OAuthDiscoveryState` from `@modelcontextprotocol/sdk/client/auth.js`).
   */
  // deno-doc-ignore private-type-ref -- an MCP SDK type; import it from the SDK
  discovery?: OAuthDiscoveryState;
  /** A new login: stored tokens are not offered to the SDK (no silent refresh). */
  freshLogin?: boolean;
  /** Receives the authorization URL the SDK built. */
  onRedirect?: (url: URL) => void | Promise<void>;
  /** Epoch ms clock; default `Date.now`. */
  now?: () => number;
  /** Receives progress lines; its redactor learns every secret seen. Default silent. */
  logger?: Logger;
}

const SECRET_REGISTRATION_FIELDS = ["client_secret", "registration_access_token"];

/**
 * Implements the SDK's `OAuthClientProvider` on a working copy of a credential document.
 * `saveTokens` persists the whole document (client, discovery, tokens) in one atomic save;
 * `invalidateCredentials` persists at once, so a client the authorization server rejected is
 * never reused. The PKCE verifier and `state` stay in memory. Every secret it sees is
 * registered with the logger's redactor.
 *
 * Not safe for two flows at once. Writes go through the transaction of
 * {@link StoreOAuthClientProvider.within} when the caller holds one (the code exchange and its
 * save), else each runs in a transaction of its own.
 * Pass it as `authProvider` to the SDK's `auth()` or its HTTP client transports; the other
 * methods are the SDK's `OAuthClientProvider` contract.
 */
// deno-doc-ignore private-type-ref -- implements the MCP SDK's OAuthClientProvider
export class StoreOAuthClientProvider implements OAuthClientProvider {
  readonly #options: StoreOAuthClientProviderOptions;
  readonly #logger: Logger;
  #doc: CredentialDocument;
  #codeVerifier: string | undefined;
  #state: string | undefined;
  #discovery: OAuthDiscoveryState | undefined;
  #tx: TokenTransaction | undefined;
  /** The authorization URL of the last redirect, for the caller to show. */
  authorizationUrl: URL | undefined;

  /** Works on a copy of `options.document`; nothing is read or written until the SDK asks. */
  constructor(options: StoreOAuthClientProviderOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger();
    this.#doc = structuredClone(options.document);
    this.#discovery = options.discovery;
    this.#logger.redactor.addSecret(options.preRegistered?.clientSecret);
  }

  /**
   * Runs `fn` (an SDK `auth()` call) with this provider's writes going through `tx`, whose
   * transaction the caller holds.
   */
  async within<T>(tx: TokenTransaction, fn: () => Promise<T>): Promise<T> {
    const outer = this.#tx;
    this.#tx = tx;
    try {
      return await fn();
    } finally {
      this.#tx = outer;
    }
  }

  /** The working document: what was loaded plus everything saved since. */
  get document(): CredentialDocument {
    return structuredClone(this.#doc);
  }

  /** The `state` sent with the last authorization request. */
  get expectedState(): string | undefined {
    return this.#state;
  }

  get redirectUrl(): string | undefined {
    return this.#options.redirectUrl;
  }

  get clientMetadataUrl(): string | undefined {
    return this.#options.clientMetadataUrl;
  }

  /**
   * Metadata for dynamic registration: a public (`none`) native client named `toolscript`,
   * registered for this login's redirect URI.
   */
  // deno-doc-ignore private-type-ref -- an MCP SDK type
  get clientMetadata(): OAuthClientMetadata {
    const grantTypes = this.#options.grantTypes ?? ["authorization_code", "refresh_token"];
    const metadata: OAuthClientMetadata & { application_type: string } = {
      client_name: "toolscript",
      software_id: "toolscript",
      redirect_uris: this.redirectUrl ? [this.redirectUrl] : [],
      grant_types: grantTypes,
      response_types: grantTypes.includes("authorization_code") ? ["code"] : [],
      token_endpoint_auth_method: "none",
      application_type: "native",
      ...(this.#options.scope ? { scope: this.#options.scope } : {}),
    };
    return metadata;
  }

  state(): string {
    this.#state = oauth.generateRandomState();
    this.#logger.redactor.addSecret(this.#state);
    return this.#state;
  }

  /** The pre-registered client if any, else the stored one; undefined means register. */
  // deno-doc-ignore private-type-ref -- an MCP SDK type
  clientInformation(): OAuthClientInformationMixed | undefined {
    const pre = this.#options.preRegistered;
    const stored = this.#doc.client;
    const issuer = this.#doc.issuer;
    if (pre) {
      const bound = stored?.clientId === pre.clientId && issuer ? { issuer } : {};
      return {
        client_id: pre.clientId,
        ...(pre.clientSecret ? { client_secret: pre.clientSecret } : {}),
        ...bound,
      };
    }
    if (!stored) return undefined;
    return {
      client_id: stored.clientId,
      ...(stored.clientSecret ? { client_secret: stored.clientSecret } : {}),
      ...(stored.redirectUris ? { redirect_uris: stored.redirectUris } : {}),
      ...(stored.tokenEndpointAuthMethod
        ? { token_endpoint_auth_method: stored.tokenEndpointAuthMethod }
        : {}),
      ...(issuer ? { issuer } : {}),
    } as OAuthClientInformationMixed;
  }

  saveClientInformation(info: OAuthClientInformationMixed): void {
    this.#logger.redactor.addSecret(info.client_secret);
    const previous = this.#doc.client;
    const registration: StoredClient["registration"] =
      info.client_id === this.#options.preRegistered?.clientId
        ? "pre-registered"
        : info.client_id === this.#options.clientMetadataUrl
        ? "metadata-document"
        : "dynamic";
    const full = info as Record<string, unknown>;
    const raw = registration === "dynamic"
      ? Object.fromEntries(
        Object.entries(full).filter(([k]) =>
          !SECRET_REGISTRATION_FIELDS.includes(k) && k !== "issuer"
        ),
      )
      : undefined;
    const expiresAt = typeof full.client_secret_expires_at === "number" &&
        full.client_secret_expires_at > 0
      ? full.client_secret_expires_at * 1000
      : undefined;
    this.#doc.client = {
      clientId: info.client_id,
      ...(info.client_secret ? { clientSecret: info.client_secret } : {}),
      ...(expiresAt ? { clientSecretExpiresAt: expiresAt } : {}),
      registration,
      ...(Array.isArray(full.redirect_uris)
        ? { redirectUris: full.redirect_uris as string[] }
        : {}),
      ...(typeof full.token_endpoint_auth_method === "string"
        ? { tokenEndpointAuthMethod: full.token_endpoint_auth_method }
        : {}),
      ...(raw ? { raw } : {}),
    };
    if (typeof full.issuer === "string") this.#doc.issuer = full.issuer;
    if (previous && previous.clientId !== info.client_id) delete this.#doc.tokens;
    this.#logger.info(`Using a ${registration} OAuth client for "${this.#doc.server}"`, {
      clientId: info.client_id,
    });
  }

  /** The stored token set, or undefined on a fresh login (so the SDK never refreshes it). */
  // deno-doc-ignore private-type-ref -- an MCP SDK type
  tokens(): OAuthTokens | undefined {
    const tokens = this.#doc.tokens;
    if (this.#options.freshLogin || !tokens) return undefined;
    return {
      access_token: tokens.accessToken,
      token_type: tokens.tokenType ?? "Bearer",
      ...(tokens.refreshToken ? { refresh_token: tokens.refreshToken } : {}),
      ...(tokens.expiresAt !== undefined
        ? { expires_in: Math.max(0, Math.floor((tokens.expiresAt - this.#now()) / 1000)) }
        : {}),
      ...(tokens.scope ? { scope: tokens.scope } : {}),
      ...(tokens.idToken ? { id_token: tokens.idToken } : {}),
      ...(this.#doc.issuer ? { issuer: this.#doc.issuer } : {}),
    };
  }

  async saveTokens(tokens: OAuthTokens): Promise<void> {
    this.#doc.tokens = toStoredTokens(tokens, this.#now(), this.#logger);
    if (tokens.issuer) this.#doc.issuer = tokens.issuer;
    if (this.#discovery) this.#doc.discovery = { ...this.#discovery };
    const resource = this.#discovery?.resourceMetadata?.resource;
    if (resource) this.#doc.resource = resource;
    delete this.#doc.tokensDropped;
    const doc = this.#doc;
    this.#doc = await this.#write(async (tx) => {
      await tx.save(doc);
      return (await tx.load(doc.serverUrl)) ?? doc;
    });
  }

  async redirectToAuthorization(authorizationUrl: URL): Promise<void> {
    this.authorizationUrl = authorizationUrl;
    await this.#options.onRedirect?.(authorizationUrl);
  }

  saveCodeVerifier(codeVerifier: string): void {
    this.#logger.redactor.addSecret(codeVerifier);
    this.#codeVerifier = codeVerifier;
  }

  codeVerifier(): string {
    if (!this.#codeVerifier) throw new Error("No PKCE code verifier: no authorization in progress");
    return this.#codeVerifier;
  }

  async invalidateCredentials(
    scope: "all" | "client" | "tokens" | "verifier" | "discovery",
  ): Promise<void> {
    this.#logger.debug("Invalidating OAuth credentials", { server: this.#doc.server, scope });
    const before = JSON.stringify(this.#doc);
    if (scope === "all" || scope === "verifier") {
      this.#codeVerifier = undefined;
      this.#state = undefined;
    }
    // A new login never offered the stored tokens, so a failed exchange says nothing of them.
    if ((scope === "all" || scope === "tokens") && !this.#options.freshLogin) {
      delete this.#doc.tokens;
    }
    // A pre-registered client is configuration, not stored state: nothing to forget.
    if ((scope === "all" || scope === "client") && !this.#options.preRegistered) {
      delete this.#doc.client;
      delete this.#doc.tokens;
    }
    if (scope === "all" || scope === "discovery") delete this.#doc.discovery;
    if (JSON.stringify(this.#doc) === before || scope === "verifier") return;
    const doc = this.#doc;
    await this.#write(async (tx) => {
      if (doc.client || doc.tokens) await tx.save(doc);
      else await tx.delete();
    });
  }

  /** Runs `op` in the caller's transaction, or in one of its own. */
  async #write<T>(op: (tx: TokenTransaction) => Promise<T>): Promise<T> {
    if (this.#tx) return await op(this.#tx);
    return await this.#options.store.transaction(this.#doc.server, op);
  }

  /** Kept in memory; persisted with the tokens by `saveTokens`. */
  // deno-doc-ignore private-type-ref -- an MCP SDK type
  saveDiscoveryState(state: OAuthDiscoveryState): void {
    this.#discovery = state;
  }

  discoveryState(): OAuthDiscoveryState | undefined {
    return this.#discovery ?? (this.#doc.discovery as OAuthDiscoveryState | undefined);
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }
}

/** Converts a token response to the stored form, with an absolute `expiresAt`. */
export function toStoredTokens(tokens: OAuthTokens, now: number, logger?: Logger): StoredTokens {
  for (const secret of [tokens.access_token, tokens.refresh_token, tokens.id_token]) {
    logger?.redactor.addSecret(secret);
  }
  return {
    accessToken: tokens.access_token,
    tokenType: tokens.token_type || "Bearer",
    ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
    ...(typeof tokens.expires_in === "number" && Number.isFinite(tokens.expires_in)
      ? { expiresAt: now + tokens.expires_in * 1000, obtainedAt: now }
      : {}),
    ...(tokens.scope ? { scope: tokens.scope } : {}),
    ...(tokens.id_token ? { idToken: tokens.id_token } : {}),
  };
}
