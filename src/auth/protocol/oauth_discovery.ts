/**
 * Finds out how to log in to an MCP server: an unauthenticated probe for the 401 challenge
 * (`WWW-Authenticate: Bearer resource_metadata=…, scope=…`; in `mcp_probe.ts`, re-exported
 * here), then RFC 9728 protected resource
 * metadata (the challenge's URL, else path-aware then root well-known), then RFC 8414 /
 * OpenID Connect metadata of its authorization server. The SDK does the fetching; this module
 * adds the checks the SDK leaves out: the metadata's issuer, S256 support, the resource
 * identifier, and every URL against the discovery URL policy (`url_policy.ts`: https, and no
 * way from a remote server to this machine or a local network).
 */
// @ts-types="@modelcontextprotocol/sdk/client/auth"
import {
  discoverAuthorizationServerMetadata,
  discoverOAuthProtectedResourceMetadata,
} from "@modelcontextprotocol/sdk/client/auth.js";
// @ts-types="@modelcontextprotocol/sdk/shared/auth"
import type {
  AuthorizationServerMetadata,
  OAuthProtectedResourceMetadata,
} from "@modelcontextprotocol/sdk/shared/auth.js";
// @ts-types="@modelcontextprotocol/sdk/shared/auth-utils"
import {
  checkResourceAllowed,
  resourceUrlFromServerUrl,
} from "@modelcontextprotocol/sdk/shared/auth-utils.js";
import { AuthError } from "../../errors.ts";
import { type Logger, silentLogger } from "../../log.ts";
import { describeFailure, recordingFetch } from "./oauth_http.ts";
import {
  checkDiscoveryUrl,
  type DiscoveryUrlPolicy,
  guardDiscoveryFetch,
  UnsafeUrlError,
} from "./url_policy.ts";
import { displayUrl } from "../../config/display_url.ts";

export { type AuthChallenge, type ProbeOptions, probeServer, readChallenge } from "./mcp_probe.ts";

/** Options of {@link discoverOAuth} besides the server's name and URL rules. */
export interface DiscoveryOptions {
  fetch?: typeof fetch;
  signal?: AbortSignal;
  logger?: Logger;
}

/** The result of {@link discoverOAuth}. Shaped like the SDK's `OAuthDiscoveryState`. */
export interface OAuthDiscovery {
  /** The authorization server URL discovery used (also the SDK's binding key). */
  authorizationServerUrl: string;
  /** Authorization server metadata, issuer checked. */
  authorizationServerMetadata: AuthorizationServerMetadata;
  /** RFC 9728 metadata, when the server publishes it. */
  resourceMetadata?: OAuthProtectedResourceMetadata;
  /** Where the resource metadata came from, when a challenge named it. */
  resourceMetadataUrl?: string;
  /**
   * Set when the server publishes no metadata at all and its origin's default endpoints
   * (`/authorize`, `/token`, `/register`, the 2025-03-26 rule) are assumed: the metadata URLs
   * that were tried, without query. Not part of the SDK's state; leave it out when storing.
   */
  defaultEndpoints?: { metadataUrls: string[] };
}

/** Options of {@link discoverOAuth}. */
export interface DiscoverOAuthOptions extends DiscoveryOptions {
  /** `resource_metadata` from a 401 challenge; tried instead of the well-known URLs. */
  resourceMetadataUrl?: URL;
  /** Allow plain http:// endpoints that are not loopback. */
  allowInsecureHttp?: boolean;
  /** The server's name, for messages. */
  server: string;
  /**
   * Refuse an authorization server whose metadata does not advertise PKCE with S256 (as MCP
   * requires of the authorization code flow); default true. The device flow has no PKCE.
   */
  requirePkce?: boolean;
}

/**
 * Discovers the authorization server of the MCP server at `serverUrl`. Without RFC 9728
 * metadata the server's origin is taken as the authorization server (the 2025-03-26 rule);
 * when that origin publishes no RFC 8414 / OpenID metadata either (every well-known URL
 * answers 4xx), its default endpoints `/authorize`, `/token` and `/register` are used, with
 * the origin as issuer.
 *
 * @throws {AuthError} when RFC 9728 metadata names an authorization server that publishes no
 *   metadata, when the metadata cannot be read (temporary), when its `issuer` differs
 *   from the URL it was found at, when it does not advertise S256 PKCE (`requirePkce`), when the resource metadata names
 *   another resource, or when an endpoint is plain http:// to a host that is not loopback.
 */
export async function discoverOAuth(
  serverUrl: string,
  options: DiscoverOAuthOptions,
): Promise<OAuthDiscovery> {
  const logger = options.logger ?? silentLogger();
  const record: { status?: number } = {};
  const tried: string[] = [];
  const server = options.server;
  const urlRules: DiscoveryUrlPolicy = {
    server,
    serverUrl,
    allowInsecureHttp: options.allowInsecureHttp ?? false,
  };
  const fetchFn = recordingFetch(
    guardDiscoveryFetch(listingFetch(options.fetch ?? globalThis.fetch, tried), urlRules),
    options.signal,
    record,
  );
  if (options.resourceMetadataUrl) {
    checkDiscoveryUrl(
      options.resourceMetadataUrl,
      "resource metadata URL (resource_metadata of its 401 challenge)",
      urlRules,
    );
  }

  let resourceMetadata: OAuthProtectedResourceMetadata | undefined;
  /** True when the server answered that it has none (4xx), not when it failed or was down. */
  let noResourceMetadata = false;
  try {
    resourceMetadata = await discoverOAuthProtectedResourceMetadata(
      serverUrl,
      { resourceMetadataUrl: options.resourceMetadataUrl },
      fetchFn,
    );
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (error instanceof UnsafeUrlError) throw error;
    noResourceMetadata = record.status !== undefined && record.status >= 400 &&
      record.status < 500;
    logger.debug("No protected resource metadata", {
      server,
      error: describeFailure(error, record.status),
    });
  }
  if (resourceMetadata) {
    const expected = resourceUrlFromServerUrl(serverUrl);
    if (
      !checkResourceAllowed({
        requestedResource: expected,
        configuredResource: resourceMetadata.resource,
      })
    ) {
      throw new AuthError(
        `Protected resource metadata of server "${server}" names resource "${
          displayUrl(resourceMetadata.resource)
        }", not "${displayUrl(expected)}"`,
        { server },
      );
    }
  }
  const authorizationServerUrl = resourceMetadata?.authorization_servers?.[0] ??
    new URL("/", serverUrl).href;
  checkDiscoveryUrl(
    authorizationServerUrl,
    "authorization server (authorization_servers of its protected resource metadata)",
    urlRules,
  );

  let metadata: AuthorizationServerMetadata | undefined;
  try {
    metadata = await discoverAuthorizationServerMetadata(authorizationServerUrl, { fetchFn });
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (error instanceof UnsafeUrlError) throw error;
    throw new AuthError(
      `Cannot read the metadata of authorization server "${
        displayUrl(authorizationServerUrl)
      }" for server "${server}": ${describeFailure(error, record.status)}`,
      { server, temporary: true, cause: error },
    );
  }
  // 2025-03-26 servers may publish no metadata at all: their origin serves the default
  // endpoints. Not when RFC 9728 metadata names an authorization server without metadata, nor
  // when reading it failed (5xx, network): that is no sign of a server without metadata.
  const fallback = !metadata && noResourceMetadata;
  if (fallback) metadata = defaultEndpointsMetadata(serverUrl);
  if (!metadata) {
    throw new AuthError(
      `Server "${server}" offers no OAuth login: no authorization server metadata at "${
        displayUrl(authorizationServerUrl)
      }"`,
      { server },
    );
  }
  // The fallback's issuer is the origin it was derived from, so the issuer check holds.
  checkMetadata(metadata, authorizationServerUrl, urlRules, options.requirePkce ?? true);
  logger.info(`Discovered the authorization server of "${server}"`, {
    issuer: metadata.issuer,
    resourceMetadata: resourceMetadata !== undefined,
    ...(fallback ? { metadata: "none: using /authorize, /token, /register (2025-03-26)" } : {}),
    registration: metadata.registration_endpoint ? "dynamic available" : "no dynamic",
  });
  logger.debug("Authorization server metadata", {
    server,
    authorizationEndpoint: metadata.authorization_endpoint,
    tokenEndpoint: metadata.token_endpoint,
    registrationEndpoint: metadata.registration_endpoint,
    revocationEndpoint: metadataString(metadata, "revocation_endpoint"),
    scopesSupported: resourceMetadata?.scopes_supported ?? metadata.scopes_supported,
  });
  return {
    authorizationServerUrl,
    authorizationServerMetadata: metadata,
    resourceMetadata,
    resourceMetadataUrl: options.resourceMetadataUrl?.href,
    ...(fallback ? { defaultEndpoints: { metadataUrls: [...new Set(tried)] } } : {}),
  };
}

/** Wraps `base` so the URL of every request (shown without query) is appended to `urls`. */
function listingFetch(base: typeof fetch, urls: string[]): typeof fetch {
  return (input: RequestInfo | URL, init?: RequestInit) => {
    urls.push(displayUrl(input instanceof Request ? input.url : input));
    return base(input, init);
  };
}

/**
 * What the 2025-03-26 revision of MCP and the SDK's `auth()` assume when a server publishes no
 * metadata: the server's origin is the issuer and serves `/authorize`, `/token` and
 * `/register`; PKCE with S256 is assumed.
 */
function defaultEndpointsMetadata(serverUrl: string): AuthorizationServerMetadata {
  const origin = new URL(serverUrl).origin;
  return {
    issuer: origin,
    authorization_endpoint: `${origin}/authorize`,
    token_endpoint: `${origin}/token`,
    registration_endpoint: `${origin}/register`,
    response_types_supported: ["code"],
    code_challenge_methods_supported: ["S256"],
  };
}

function checkMetadata(
  metadata: AuthorizationServerMetadata,
  authorizationServerUrl: string,
  urlRules: DiscoveryUrlPolicy,
  requirePkce: boolean,
): void {
  const server = urlRules.server;
  if (!issuersMatch(metadata.issuer, authorizationServerUrl)) {
    throw new AuthError(
      `Authorization server metadata found at "${displayUrl(authorizationServerUrl)}" names ` +
        `issuer "${displayUrl(metadata.issuer)}"; refusing it for server "${server}"`,
      { server },
    );
  }
  // MCP: clients MUST refuse when the metadata does not advertise PKCE support (S256).
  const methods = metadata.code_challenge_methods_supported;
  if (requirePkce && (!Array.isArray(methods) || !methods.includes("S256"))) {
    const why = Array.isArray(methods)
      ? "does not support PKCE with S256"
      : "does not advertise PKCE support (no code_challenge_methods_supported)";
    throw new AuthError(
      `Authorization server "${displayUrl(metadata.issuer)}" of server "${server}" ${why}; ` +
        `refusing to log in`,
      { server },
    );
  }
  const endpoints: [string, string | undefined][] = [
    ["authorization endpoint", metadata.authorization_endpoint],
    ["token endpoint", metadata.token_endpoint],
    ["registration endpoint", metadata.registration_endpoint],
    ["revocation endpoint", metadataString(metadata, "revocation_endpoint")],
    ["device authorization endpoint", metadataString(metadata, "device_authorization_endpoint")],
  ];
  for (const [what, url] of endpoints) if (url) checkDiscoveryUrl(url, what, urlRules);
}

/**
 * A string field of authorization server metadata that the SDK's types do not name
 * (`revocation_endpoint` of OIDC metadata, `device_authorization_endpoint`).
 */
export function metadataString(
  metadata: AuthorizationServerMetadata | Record<string, unknown>,
  field: string,
): string | undefined {
  const value = (metadata as Record<string, unknown>)[field];
  return typeof value === "string" ? value : undefined;
}

/** Compares issuer identifiers, tolerating one trailing `/` (as the SDK does). */
export function issuersMatch(a: string, b: string): boolean {
  let [x, y] = [a, b];
  try {
    [x, y] = [new URL(a).href, new URL(b).href];
  } catch {
    // compared as written
  }
  const strip = (s: string) => s.endsWith("/") ? s.slice(0, -1) : s;
  return strip(x) === strip(y);
}
