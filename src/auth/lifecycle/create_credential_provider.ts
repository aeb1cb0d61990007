/**
 * Picks the credentials for a server, in the contract's precedence: a token from the
 * environment (`TOOLSCRIPT_TOKEN_<SERVER>`, `MCP_AUTH_TOKEN` for the ad-hoc server), then the
 * configured `auth` block, then none.
 */
import type { ServerConfig } from "../../config/types.ts";
import type { Logger } from "../../log.ts";
import { NotAuthenticatedError } from "../../errors.ts";
import type { TokenStore } from "../store/token_store.ts";
import type {
  CredentialProvider,
  CredentialStatus,
  DpopSender,
  TokenRequestHook,
} from "../types.ts";
import { StaticCredentialProvider, TokenOverrideProvider } from "./static_credentials.ts";
import { ClientCredentialsProvider } from "./client_credentials_provider.ts";
import { OAuthCredentialProvider } from "./oauth_credentials.ts";
import { JwtBearerGrant } from "./jwt_bearer_grant.ts";
import { IdJagGrant } from "./id_jag_grant.ts";

/** What credential providers may need from the program. */
export interface CredentialProviderOptions {
  /** Receives warnings and debug lines; every secret a provider meets goes to its redactor. */
  logger: Logger;
  /** Where OAuth token sets are read (and refreshed ones written); unused by other auth types. */
  store: TokenStore;
  /** Default `globalThis.fetch`; used for token, discovery and revocation requests. */
  fetch?: typeof fetch;
  /** Epoch ms; decides token expiry and refresh points. Default `Date.now`. */
  now?: () => number;
  /**
   * Told of every token-endpoint request (refreshes and machine grants), for the gateway's
   * metrics. Internal: not part of the library API yet.
   * @ignore
   */
  onTokenRequest?: TokenRequestHook;
}

/**
 * Returns the provider for `server`, or undefined for a stdio server (which gets its
 * credentials through `env`). A remote server without an `auth` block still gets an OAuth
 * provider that uses tokens stored by `toolscript auth`, and sends none when there are none.
 * Nothing is read or requested until the provider's `headers()` is called.
 *
 * @example Headers for a server with a static bearer token
 * ```ts
 * import { createCredentialProvider } from "./create_credential_provider.ts";
 * import { FileTokenStore } from "../store/file_token_store.ts";
 * import { Logger } from "../../log.ts";
 * const provider = createCredentialProvider({
 *   name: "docs", type: "http", url: "https://docs.example/mcp", headers: {},
 *   enabled: true, allowUnauthenticated: false, allowInsecureHttp: false, timeoutMs: 30_000,
 *   auth: { type: "bearer", token: { env: "DOCS_TOKEN", envValue: "t0k3n" } },
 * }, { logger: new Logger(), store: new FileTokenStore({ dir: await Deno.makeTempDir() }) });
 * await provider?.headers(); // { Authorization: "Bearer t0k3n" }
 * ```
 */
export function createCredentialProvider(
  server: ServerConfig,
  options: CredentialProviderOptions,
): CredentialProvider | undefined {
  // Exhaustive: every auth type has a provider; a new type fails to compile here.
  if (server.type === "stdio") return undefined;
  if (server.tokenOverride) return new TokenOverrideProvider(server.tokenOverride);
  const auth = server.auth;
  const oauthOptions = {
    store: options.store,
    logger: options.logger,
    fetch: options.fetch,
    now: options.now,
    onTokenRequest: options.onTokenRequest,
  };
  // What every machine grant needs; the provider that runs a grant also reports its requests.
  const grantOptions = {
    logger: options.logger,
    fetch: options.fetch,
    now: options.now,
    allowInsecureHttp: server.allowInsecureHttp,
  };
  const machineOptions = { ...grantOptions, onTokenRequest: options.onTokenRequest };
  // No auth block: a server that answers 401 with OAuth metadata is treated as OAuth, so
  // credentials stored by `toolscript auth` are used when there are any.
  if (!auth) return new OAuthCredentialProvider(server, { ...oauthOptions, implicit: true });
  let provider: CredentialProvider;
  switch (auth.type) {
    case "bearer":
    case "api_key":
    case "basic":
      provider = new StaticCredentialProvider(server.name, auth, options);
      break;
    case "oauth":
      provider = new OAuthCredentialProvider(server, oauthOptions);
      break;
    case "client_credentials":
    case "private_key_jwt":
      provider = new ClientCredentialsProvider(server.name, auth, machineOptions);
      break;
    case "jwt_bearer":
      provider = new ClientCredentialsProvider(server.name, auth, {
        ...machineOptions,
        grant: new JwtBearerGrant(server.name, auth, grantOptions),
      });
      break;
    case "enterprise_managed":
      provider = new ClientCredentialsProvider(server.name, auth, {
        ...machineOptions,
        grant: new IdJagGrant(server.name, auth, { ...grantOptions, serverUrl: server.url }),
      });
      break;
  }
  return server.allowUnauthenticated ? new OptionalCredentialProvider(provider) : provider;
}

/** For `allowUnauthenticated` servers: a missing credential means no credential, not failure. */
class OptionalCredentialProvider implements CredentialProvider {
  constructor(readonly inner: CredentialProvider) {}
  async headers(signal?: AbortSignal): Promise<Record<string, string>> {
    try {
      return await this.inner.headers(signal);
    } catch (error) {
      if (error instanceof NotAuthenticatedError) return {};
      throw error;
    }
  }
  recover(
    response: Response,
    signal?: AbortSignal,
    sent?: Record<string, string>,
  ): Promise<boolean> {
    return this.inner.recover(response, signal, sent);
  }
  status(): Promise<CredentialStatus> {
    return this.inner.status();
  }
  async dpop(signal?: AbortSignal): Promise<DpopSender | undefined> {
    return await this.inner.dpop?.(signal);
  }
  async close(): Promise<void> {
    await this.inner.close?.();
  }
}

/**
 * Returns `credentialsFor(server)`, creating each server's provider once, so the gateway, its
 * reconnects and `status` share one token cache per server.
 */
export function credentialProviderCache(
  options: CredentialProviderOptions,
): (server: ServerConfig) => CredentialProvider | undefined {
  const providers = new Map<string, CredentialProvider | undefined>();
  return (server) => {
    if (!providers.has(server.name)) {
      providers.set(server.name, createCredentialProvider(server, options));
    }
    return providers.get(server.name);
  };
}
