/**
 * `toolscript logout <server>`: revokes the stored refresh and access tokens at the
 * authorization server (RFC 7009, via oauth4webapi) when it offers revocation, then deletes
 * the stored credentials whether or not revocation worked.
 */
// @ts-types="@modelcontextprotocol/sdk/client/auth"
import type { OAuthDiscoveryState } from "@modelcontextprotocol/sdk/client/auth.js";
import * as oauth from "oauth4webapi";
import type { RemoteServerConfig } from "../../config/types.ts";
import { type Logger, silentLogger } from "../../log.ts";
import {
  clientAuthFor,
  describeFailure,
  oauthRequestOptions,
  recordingFetch,
} from "../protocol/oauth_http.ts";
import { clientSecretOf } from "./oauth_refresh.ts";
import { metadataString } from "../protocol/oauth_discovery.ts";
import {
  checkDiscoveryUrl,
  discoveryPolicyFor,
  guardDiscoveryFetch,
  UnsafeUrlError,
} from "../protocol/url_policy.ts";
import type { CredentialDocument, TokenStore } from "../store/token_store.ts";

/** Options of {@link logoutOAuth}. */
export interface OAuthLogoutOptions {
  /** Holds the credentials; its lock on the server is held while revoking and deleting. */
  store: TokenStore;
  /** The server's config; without it (no longer configured) nothing is revoked. */
  server?: RemoteServerConfig;
  /** Receives progress lines (never a token); default silent. */
  logger?: Logger;
  /** Default `globalThis.fetch`; used for the revocation requests. */
  fetch?: typeof fetch;
  /** Aborts the lock wait and revocation; the call then rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** How the revocation of one stored token went. */
export interface TokenRevocation {
  /** Which token. */
  token: "refresh_token" | "access_token";
  /** The authorization server accepted the revocation. */
  revoked: boolean;
  /**
   * Why not: status, OAuth error code and the server's redacted, quoted `error_description`
   * (e.g. `HTTP 400, error "unsupported_token_type": "…"`).
   */
  error?: string;
}

/** What {@link logoutOAuth} did. A logout succeeded when `removed` (or nothing was stored). */
export interface OAuthLogoutResult {
  /** Stored credentials existed and were deleted. */
  removed: boolean;
  /** Every stored token was revoked. */
  revoked: boolean;
  /** Each stored token's revocation, refresh token first; empty when none was attempted. */
  revocations: TokenRevocation[];
  /** Why revocation could not be attempted at all (network, client secret), when it failed so. */
  revocationError?: string;
  /** Why revocation was not attempted (no revocation endpoint, no tokens, another URL). */
  revocationSkipped?: string;
}

/**
 * Revokes (refresh token first, then access token) and deletes, in one transaction of the
 * server's credentials (holding its lock).
 * Never throws for a failed revocation: the result says what happened.
 */
export async function logoutOAuth(
  name: string,
  options: OAuthLogoutOptions,
): Promise<OAuthLogoutResult> {
  const { store, signal } = options;
  const logger = options.logger ?? silentLogger();
  return await store.transaction(name, async (tx) => {
    const doc = options.server ? await tx.load(options.server.url) : undefined;
    if (!doc) {
      const removed = await tx.delete();
      const why = options.server
        ? "they were saved for another URL"
        : "the server is not configured";
      return removed
        ? { removed, revoked: false, revocations: [], revocationSkipped: why }
        : { removed, revoked: false, revocations: [] };
    }
    let outcome: RevokeOutcome;
    try {
      outcome = await revoke(doc, options, logger);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      outcome = { revocations: [], error: describeFailure(error) };
    }
    const removed = await tx.delete();
    const revoked = !outcome.error && !outcome.skipped &&
      outcome.revocations.every((r) => r.revoked);
    logger.info(`Removed the stored credentials of "${name}"`, { revoked });
    return {
      removed,
      revoked,
      revocations: outcome.revocations,
      ...(outcome.error ? { revocationError: outcome.error } : {}),
      ...(outcome.skipped ? { revocationSkipped: outcome.skipped } : {}),
    };
  }, signal);
}

interface RevokeOutcome {
  revocations: TokenRevocation[];
  error?: string;
  skipped?: string;
}

/**
 * Revokes the refresh token, then the access token, each on its own: a server that refuses
 * one (e.g. `unsupported_token_type` for a JWT access token) may still revoke the other.
 */
async function revoke(
  doc: CredentialDocument,
  options: OAuthLogoutOptions,
  logger: Logger,
): Promise<RevokeOutcome> {
  const tokens = doc.tokens;
  if (!tokens) return { revocations: [], skipped: "no tokens were stored" };
  const metadata = (doc.discovery as OAuthDiscoveryState | undefined)?.authorizationServerMetadata;
  const endpoint = metadata ? metadataString(metadata, "revocation_endpoint") : undefined;
  if (!metadata || !endpoint || !doc.client) {
    return { revocations: [], skipped: "the authorization server offers no revocation" };
  }
  const urlPolicy = discoveryPolicyFor(options.server!);
  try {
    checkDiscoveryUrl(endpoint, "revocation endpoint", urlPolicy);
  } catch (error) {
    if (!(error instanceof UnsafeUrlError)) throw error;
    return { revocations: [], skipped: error.message };
  }
  const as = metadata as unknown as oauth.AuthorizationServer;
  const client: oauth.Client = { client_id: doc.client.clientId };
  const secret = await clientSecretOf(doc, {
    server: options.server!,
    fetch: options.fetch ?? globalThis.fetch,
    now: Date.now,
    logger,
    signal: options.signal,
  });
  const methods = (metadata as Record<string, unknown>).revocation_endpoint_auth_methods_supported;
  const clientAuth = clientAuthFor(
    {
      clientSecret: secret.client_secret,
      tokenEndpointAuthMethod: doc.client.tokenEndpointAuthMethod,
    },
    Array.isArray(methods) ? methods as string[] : metadata.token_endpoint_auth_methods_supported,
  );
  const record: { status?: number } = {};
  const http = oauthRequestOptions(
    recordingFetch(
      guardDiscoveryFetch(options.fetch ?? globalThis.fetch, urlPolicy),
      options.signal,
      record,
    ),
    options.signal,
  );
  const pairs: [string, TokenRevocation["token"]][] = [];
  if (tokens.refreshToken) pairs.push([tokens.refreshToken, "refresh_token"]);
  pairs.push([tokens.accessToken, "access_token"]);
  const revocations: TokenRevocation[] = [];
  for (const [token, hint] of pairs) {
    record.status = undefined;
    try {
      const response = await oauth.revocationRequest(as, client, clientAuth, token, {
        ...http,
        additionalParameters: { token_type_hint: hint },
      });
      await oauth.processRevocationResponse(response);
      logger.info(`Revoked the ${hint.replace("_", " ")} of "${doc.server}"`);
      revocations.push({ token: hint, revoked: true });
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      const why = describeFailure(error, record.status, (text) => logger.redactor.redactText(text));
      logger.debug("Revocation failed", { server: doc.server, hint, error: why });
      revocations.push({ token: hint, revoked: false, error: why });
    }
  }
  return { revocations };
}
