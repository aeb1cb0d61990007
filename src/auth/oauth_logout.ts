/**
 * `toolscript logout <server>`: revokes the stored refresh and access tokens at the
 * authorization server (RFC 7009, via oauth4webapi) when it offers revocation, then deletes
 * the stored credentials whether or not revocation worked.
 */
// @ts-types="@modelcontextprotocol/sdk/client/auth"
import type { OAuthDiscoveryState } from "@modelcontextprotocol/sdk/client/auth.js";
import * as oauth from "oauth4webapi";
import type { RemoteServerConfig } from "../config/types.ts";
import { type Logger, silentLogger } from "../log.ts";
import {
  clientAuthFor,
  describeFailure,
  oauthRequestOptions,
  recordingFetch,
} from "./_oauth_http.ts";
import { clientSecretOf } from "./_oauth_refresh.ts";
import { metadataString } from "./oauth_discovery.ts";
import {
  checkDiscoveryUrl,
  discoveryPolicyFor,
  guardDiscoveryFetch,
  UnsafeUrlError,
} from "./url_policy.ts";
import type { CredentialDocument, TokenStore } from "./token_store.ts";

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

/** What {@link logoutOAuth} did. */
export interface OAuthLogoutResult {
  /** Stored credentials existed and were deleted. */
  removed: boolean;
  /** Every stored token was revoked. */
  revoked: boolean;
  /** Why revocation failed (status and OAuth error code only). */
  revocationError?: string;
  /** Why revocation was not attempted (no revocation endpoint, no tokens, another URL). */
  revocationSkipped?: string;
}

/**
 * Revokes (refresh token first, then access token) and deletes, under the server's lock.
 * Never throws for a failed revocation: the result says what happened.
 */
export async function logoutOAuth(
  name: string,
  options: OAuthLogoutOptions,
): Promise<OAuthLogoutResult> {
  const { store, signal } = options;
  const logger = options.logger ?? silentLogger();
  return await store.withLock(name, async () => {
    const doc = options.server ? await store.load(name, options.server.url, signal) : undefined;
    if (!doc) {
      const removed = await store.delete(name, signal);
      const why = options.server
        ? "they were saved for another URL"
        : "the server is not configured";
      return removed
        ? { removed, revoked: false, revocationSkipped: why }
        : { removed, revoked: false };
    }
    let outcome: RevokeOutcome;
    try {
      outcome = await revoke(doc, options, logger);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      outcome = { error: describeFailure(error) };
    }
    const removed = await store.delete(name, signal);
    const revoked = !outcome.error && !outcome.skipped;
    logger.info(`Removed the stored credentials of "${name}"`, { revoked });
    return {
      removed,
      revoked,
      ...(outcome.error ? { revocationError: outcome.error } : {}),
      ...(outcome.skipped ? { revocationSkipped: outcome.skipped } : {}),
    };
  }, signal);
}

interface RevokeOutcome {
  error?: string;
  skipped?: string;
}

/** Revokes the refresh token, then the access token; stops at the first failure. */
async function revoke(
  doc: CredentialDocument,
  options: OAuthLogoutOptions,
  logger: Logger,
): Promise<RevokeOutcome> {
  const tokens = doc.tokens;
  if (!tokens) return { skipped: "no tokens were stored" };
  const metadata = (doc.discovery as OAuthDiscoveryState | undefined)?.authorizationServerMetadata;
  const endpoint = metadata ? metadataString(metadata, "revocation_endpoint") : undefined;
  if (!metadata || !endpoint || !doc.client) {
    return { skipped: "the authorization server offers no revocation" };
  }
  const urlPolicy = discoveryPolicyFor(options.server!);
  try {
    checkDiscoveryUrl(endpoint, "revocation endpoint", urlPolicy);
  } catch (error) {
    if (!(error instanceof UnsafeUrlError)) throw error;
    return { skipped: error.message };
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
  const pairs: [string, string][] = [];
  if (tokens.refreshToken) pairs.push([tokens.refreshToken, "refresh_token"]);
  pairs.push([tokens.accessToken, "access_token"]);
  for (const [token, hint] of pairs) {
    try {
      const response = await oauth.revocationRequest(as, client, clientAuth, token, {
        ...http,
        additionalParameters: { token_type_hint: hint },
      });
      await oauth.processRevocationResponse(response);
      logger.info(`Revoked the ${hint.replace("_", " ")} of "${doc.server}"`);
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      logger.debug("Revocation failed", { server: doc.server, hint, status: record.status });
      return { error: describeFailure(error, record.status) };
    }
  }
  return {};
}
