/**
 * Private to src/auth: learns how to talk to a configured token endpoint. Tries RFC 8414
 * metadata (then OpenID discovery) at the token URL's origin, and accepts a document only when
 * its `token_endpoint` is the configured URL; from it come the issuer (the audience of
 * `private_key_jwt` assertions) and the client authentication methods the server accepts.
 */
import type * as oauth from "oauth4webapi";
import { ConfigError } from "../../errors.ts";
import type { Logger } from "../../log.ts";

/** How client secrets are sent. */
export type SecretAuthMethod = "client_secret_basic" | "client_secret_post";

/** What we know about a token endpoint. */
export interface TokenEndpoint {
  /**
   * For oauth4webapi. Without metadata, `issuer` is the token URL itself, so assertions are
   * addressed to the token endpoint (RFC 7523 §3 allows either).
   */
  as: oauth.AuthorizationServer;
  /** `client_secret_basic` unless the server lists only `client_secret_post`. */
  secretMethod: SecretAuthMethod;
  /** True when metadata was found and matched. */
  discovered: boolean;
}

/** Options of {@link discoverTokenEndpoint}. */
export interface DiscoverOptions {
  fetch: typeof fetch;
  logger: Logger;
  server: string;
  signal?: AbortSignal;
}

/** A discovery result and whether it may be kept for later token requests. */
export interface Discovery {
  endpoint: TokenEndpoint;
  /** False when the metadata could not be fetched (network, 5xx): try again next time. */
  final: boolean;
}

const WELL_KNOWN = [
  "/.well-known/oauth-authorization-server",
  "/.well-known/openid-configuration",
];

/** Finds metadata for `tokenUrl`; never fails: without usable metadata it returns defaults. */
export async function discoverTokenEndpoint(
  tokenUrl: string,
  options: DiscoverOptions,
): Promise<Discovery> {
  const { logger, server, signal } = options;
  const origin = new URL(tokenUrl).origin;
  let final = true;
  for (const path of WELL_KNOWN) {
    const url = origin + path;
    let response: Response;
    try {
      response = await options.fetch(url, {
        headers: { accept: "application/json" },
        redirect: "manual",
        signal,
      });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      logger.debug(`Cannot fetch authorization server metadata for server "${server}"`, {
        url,
        error: (error as Error).name,
      });
      final = false;
      continue;
    }
    if (!response.ok) {
      await response.body?.cancel();
      if (response.status >= 500 || response.status === 429) final = false;
      continue;
    }
    const metadata = await response.json().catch(() => undefined);
    const endpoint = fromMetadata(metadata, tokenUrl);
    if (endpoint) {
      logger.debug(`Using authorization server metadata for server "${server}"`, {
        url,
        issuer: endpoint.as.issuer,
        secretMethod: endpoint.secretMethod,
      });
      return { endpoint, final: true };
    }
    logger.debug(`Ignoring metadata that does not describe the token URL of server "${server}"`, {
      url,
    });
  }
  return { endpoint: defaultEndpoint(tokenUrl), final };
}

/** Options of {@link KnownTokenEndpoint}. */
export interface KnownTokenEndpointOptions {
  fetch: typeof fetch;
  logger: Logger;
  /** True when `tokenUrl` may be plain `http:` (loopback or `allowInsecureHttp`). */
  insecure: boolean;
}

/**
 * One server's configured token endpoint, discovered on first use and kept once discovery is
 * final; metadata that could not be fetched (network, 5xx) is looked for again next time.
 */
export class KnownTokenEndpoint {
  readonly #server: string;
  readonly #tokenUrl: string;
  readonly #options: KnownTokenEndpointOptions;
  #endpoint?: TokenEndpoint;

  constructor(server: string, tokenUrl: string, options: KnownTokenEndpointOptions) {
    this.#server = server;
    this.#tokenUrl = tokenUrl;
    this.#options = options;
  }

  /**
   * The endpoint to send the next token request to.
   * @throws {ConfigError} when the token URL is plain http without permission.
   */
  async get(signal?: AbortSignal): Promise<TokenEndpoint> {
    if (this.#endpoint) return this.#endpoint;
    const tokenUrl = this.#tokenUrl;
    if (new URL(tokenUrl).protocol !== "https:" && !this.#options.insecure) {
      throw new ConfigError(
        `Refusing "tokenUrl" of server "${this.#server}": use https, or set ` +
          `"allowInsecureHttp": true on this server`,
      );
    }
    const found = await discoverTokenEndpoint(tokenUrl, {
      fetch: this.#options.fetch,
      logger: this.#options.logger,
      server: this.#server,
      signal,
    });
    if (found.final) this.#endpoint = found.endpoint;
    return found.final ? found.endpoint : defaultEndpoint(tokenUrl);
  }
}

/** The endpoint as configured, when there is no metadata: basic auth, audience = token URL. */
export function defaultEndpoint(tokenUrl: string): TokenEndpoint {
  return {
    as: { issuer: tokenUrl, token_endpoint: tokenUrl },
    secretMethod: "client_secret_basic",
    discovered: false,
  };
}

function fromMetadata(metadata: unknown, tokenUrl: string): TokenEndpoint | undefined {
  if (metadata === null || typeof metadata !== "object") return undefined;
  const { issuer, token_endpoint: tokenEndpoint, token_endpoint_auth_methods_supported: methods } =
    metadata as Record<string, unknown>;
  if (typeof issuer !== "string" || typeof tokenEndpoint !== "string") return undefined;
  if (!sameUrl(tokenEndpoint, tokenUrl)) return undefined;
  const list = Array.isArray(methods) ? methods : [];
  const secretMethod: SecretAuthMethod =
    list.includes("client_secret_post") && !list.includes("client_secret_basic")
      ? "client_secret_post"
      : "client_secret_basic";
  // DPoP (RFC 9449): the machine grants bind their tokens when the server offers it.
  const dpopAlgs = (metadata as Record<string, unknown>).dpop_signing_alg_values_supported;
  const as: oauth.AuthorizationServer = {
    issuer,
    token_endpoint: tokenUrl,
    ...(Array.isArray(dpopAlgs) ? { dpop_signing_alg_values_supported: dpopAlgs.map(String) } : {}),
  };
  return { as, secretMethod, discovered: true };
}

function sameUrl(a: string, b: string): boolean {
  try {
    return new URL(a).href === new URL(b).href;
  } catch {
    return false;
  }
}
