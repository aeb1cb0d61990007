/**
 * Finds out how to log in to an MCP server: an unauthenticated probe for the 401 challenge
 * (`WWW-Authenticate: Bearer resource_metadata=…, scope=…`), then RFC 9728 protected resource
 * metadata (the challenge's URL, else path-aware then root well-known), then RFC 8414 /
 * OpenID Connect metadata of its authorization server. The SDK does the fetching; this module
 * adds the checks the SDK leaves out: the metadata's issuer, S256 support, the resource
 * identifier and https.
 */
// @ts-types="@modelcontextprotocol/sdk/client/auth"
import {
  discoverAuthorizationServerMetadata,
  discoverOAuthProtectedResourceMetadata,
  extractWWWAuthenticateParams,
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
import type { RemoteServerConfig } from "../config/types.ts";
import { AuthError } from "../errors.ts";
import { type Logger, silentLogger } from "../log.ts";
import { assertAllowedUrl, describeFailure, displayUrl, recordingFetch } from "./_oauth_http.ts";

/** What an unauthenticated request to the server answered. */
export interface AuthChallenge {
  /** HTTP status of the probe. */
  status: number;
  /** True when the server sent a `Bearer` challenge. */
  bearer: boolean;
  /** RFC 9728 `resource_metadata` from the challenge. */
  resourceMetadataUrl?: URL;
  /** `scope` from the challenge. */
  scope?: string;
  /** `error` from the challenge (`invalid_token`, `insufficient_scope`, …). */
  error?: string;
}

/** Reads the Bearer challenge of a 401/403 response (nothing when there is none). */
export function readChallenge(response: Response): AuthChallenge {
  const header = response.headers.get("www-authenticate") ?? "";
  const bearer = /^\s*bearer\b/i.test(header);
  return {
    status: response.status,
    bearer,
    ...(bearer ? extractWWWAuthenticateParams(response) : {}),
  };
}

/** Options of {@link probeServer} and {@link discoverOAuth}. */
export interface DiscoveryOptions {
  fetch?: typeof fetch;
  signal?: AbortSignal;
  logger?: Logger;
}

/**
 * Sends one unauthenticated request (an MCP `initialize` POST, or the SSE GET) with the
 * server's configured headers, and reads the challenge.
 * @throws {AuthError} (temporary) when the server cannot be reached.
 */
export async function probeServer(
  server: RemoteServerConfig,
  options: DiscoveryOptions = {},
): Promise<AuthChallenge> {
  const fetchFn = options.fetch ?? globalThis.fetch;
  const headers = new Headers(server.headers);
  let init: RequestInit;
  if (server.type === "sse") {
    headers.set("accept", "text/event-stream");
    init = { method: "GET", headers };
  } else {
    headers.set("accept", "application/json, text/event-stream");
    headers.set("content-type", "application/json");
    init = {
      method: "POST",
      headers,
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 0,
        method: "initialize",
        params: {
          protocolVersion: "2025-06-18",
          capabilities: {},
          clientInfo: { name: "toolscript-auth-probe", version: "1" },
        },
      }),
    };
  }
  let response: Response;
  try {
    response = await fetchFn(server.url, { ...init, signal: options.signal });
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw new AuthError(
      `Cannot reach server "${server.name}" at "${displayUrl(server.url)}": ${
        describeFailure(error)
      }`,
      { server: server.name, temporary: true, cause: error },
    );
  }
  await response.body?.cancel();
  const challenge = readChallenge(response);
  options.logger?.debug("Probed server for an OAuth challenge", {
    server: server.name,
    status: challenge.status,
    bearer: challenge.bearer,
    resourceMetadataUrl: challenge.resourceMetadataUrl?.href,
    scope: challenge.scope,
  });
  return challenge;
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
}

/** Options of {@link discoverOAuth}. */
export interface DiscoverOAuthOptions extends DiscoveryOptions {
  /** `resource_metadata` from a 401 challenge; tried instead of the well-known URLs. */
  resourceMetadataUrl?: URL;
  /** Allow plain http:// endpoints that are not loopback. */
  allowInsecureHttp?: boolean;
  /** The server's name, for messages. */
  server: string;
}

/**
 * Discovers the authorization server of the MCP server at `serverUrl`. Without RFC 9728
 * metadata the server's origin is taken as the authorization server (the 2025-03-26 rule).
 *
 * @throws {AuthError} when no authorization server metadata is found, when its `issuer` differs
 *   from the URL it was found at, when it lacks S256 PKCE, when the resource metadata names
 *   another resource, or when an endpoint is plain http:// to a host that is not loopback.
 */
export async function discoverOAuth(
  serverUrl: string,
  options: DiscoverOAuthOptions,
): Promise<OAuthDiscovery> {
  const logger = options.logger ?? silentLogger();
  const record: { status?: number } = {};
  const fetchFn = recordingFetch(options.fetch ?? globalThis.fetch, options.signal, record);
  const server = options.server;
  const urlRules = { server, allowInsecureHttp: options.allowInsecureHttp ?? false };
  if (options.resourceMetadataUrl) {
    assertAllowedUrl(options.resourceMetadataUrl, "resource metadata URL", urlRules);
  }

  let resourceMetadata: OAuthProtectedResourceMetadata | undefined;
  try {
    resourceMetadata = await discoverOAuthProtectedResourceMetadata(
      serverUrl,
      { resourceMetadataUrl: options.resourceMetadataUrl },
      fetchFn,
    );
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    logger.debug("No protected resource metadata", { server, error: describeFailure(error) });
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
  assertAllowedUrl(authorizationServerUrl, "authorization server", urlRules);

  let metadata: AuthorizationServerMetadata | undefined;
  try {
    metadata = await discoverAuthorizationServerMetadata(authorizationServerUrl, { fetchFn });
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw new AuthError(
      `Cannot read the metadata of authorization server "${
        displayUrl(authorizationServerUrl)
      }" for server "${server}": ${describeFailure(error, record.status)}`,
      { server, temporary: true, cause: error },
    );
  }
  if (!metadata) {
    throw new AuthError(
      `Server "${server}" offers no OAuth login: no authorization server metadata at "${
        displayUrl(authorizationServerUrl)
      }"`,
      { server },
    );
  }
  checkMetadata(metadata, authorizationServerUrl, urlRules);
  logger.info(`Discovered the authorization server of "${server}"`, {
    issuer: metadata.issuer,
    resourceMetadata: resourceMetadata !== undefined,
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
  };
}

function checkMetadata(
  metadata: AuthorizationServerMetadata,
  authorizationServerUrl: string,
  urlRules: { server: string; allowInsecureHttp: boolean },
): void {
  const server = urlRules.server;
  if (!issuersMatch(metadata.issuer, authorizationServerUrl)) {
    throw new AuthError(
      `Authorization server metadata found at "${displayUrl(authorizationServerUrl)}" names ` +
        `issuer "${displayUrl(metadata.issuer)}"; refusing it for server "${server}"`,
      { server },
    );
  }
  const methods = metadata.code_challenge_methods_supported;
  if (methods && !methods.includes("S256")) {
    throw new AuthError(
      `Authorization server "${displayUrl(metadata.issuer)}" of server "${server}" does not ` +
        `support PKCE with S256; refusing to log in`,
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
  for (const [what, url] of endpoints) if (url) assertAllowedUrl(url, what, urlRules);
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
