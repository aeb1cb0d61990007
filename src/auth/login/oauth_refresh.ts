/**
 * Private to src/auth: one refresh-token grant for a stored credential document, through the
 * SDK's `refreshAuthorization`, with the failure sorted into what the caller must do:
 * log in again (`invalid_grant`), retry later (network, 5xx, 429, `temporarily_unavailable`)
 * or give up.
 */
// @ts-types="@modelcontextprotocol/sdk/client/auth"
import {
  discoverAuthorizationServerMetadata,
  type OAuthDiscoveryState,
  refreshAuthorization,
} from "@modelcontextprotocol/sdk/client/auth.js";
// @ts-types="@modelcontextprotocol/sdk/shared/auth"
import type { OAuthClientInformationMixed } from "@modelcontextprotocol/sdk/shared/auth.js";
import type { RemoteServerConfig } from "../../config/types.ts";
import { readSecret } from "../../config/read_secret.ts";
import { AuthError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import {
  classifyTokenFailure,
  describeFailure,
  oauthErrorCode,
  recordingFetch,
  safeCause,
} from "../protocol/oauth_http.ts";
import { toStoredTokens } from "./oauth_provider.ts";
import { discoveryPolicyFor, guardDiscoveryFetch, UnsafeUrlError } from "../protocol/url_policy.ts";
import type { CredentialDocument, StoredTokens } from "../store/token_store.ts";
import type { TokenRequestHook } from "../types.ts";
import type { DpopKey } from "../protocol/dpop.ts";

/** The refresh token was rejected (`invalid_grant`): only a new login helps. */
export class RefreshRejectedError extends Error {
  /**
   * True when the authorization server refused our dynamically registered client itself
   * (`invalid_client`): it forgot the registration, and only a new one helps.
   */
  readonly clientForgotten: boolean;

  constructor(options?: ErrorOptions & { clientForgotten?: boolean }) {
    super(
      options?.clientForgotten
        ? "the authorization server no longer knows the client toolscript registered " +
          "(invalid_client); the next login registers a new one"
        : "the refresh token was rejected (invalid_grant)",
      options,
    );
    this.name = "RefreshRejectedError";
    this.clientForgotten = options?.clientForgotten ?? false;
  }
}

/** Inputs of {@link refreshStoredTokens}. */
export interface RefreshInputs {
  server: RemoteServerConfig;
  fetch: typeof fetch;
  now: () => number;
  logger: Logger;
  signal?: AbortSignal;
  /** Told whether the refresh request got a token (not called when none was sent). */
  onTokenRequest?: TokenRequestHook;
  /** The document's DPoP key: the refresh request carries a proof (RFC 9449 §5). */
  dpop?: DpopKey;
}

/**
 * Exchanges the document's refresh token for a new token set. The old refresh token is kept
 * when the response carries none.
 * @throws {RefreshRejectedError} on `invalid_grant`.
 * @throws {AuthError} otherwise; `temporary` when a later retry may succeed.
 */
export async function refreshStoredTokens(
  doc: CredentialDocument,
  inputs: RefreshInputs,
): Promise<StoredTokens> {
  const name = inputs.server.name;
  const refreshToken = doc.tokens?.refreshToken;
  const client = doc.client;
  const discovery = doc.discovery as OAuthDiscoveryState | undefined;
  const asUrl = discovery?.authorizationServerUrl ?? doc.issuer;
  if (!refreshToken || !client || !asUrl) {
    throw new AuthError(
      `Cannot refresh the token of server "${name}": incomplete stored credentials`,
      {
        server: name,
      },
    );
  }
  const record: { status?: number } = {};
  const guarded = guardDiscoveryFetch(inputs.fetch, discoveryPolicyFor(inputs.server));
  const recording = recordingFetch(guarded, inputs.signal, record);
  const fetchFn = inputs.dpop ? inputs.dpop.tokenFetch(recording) : recording;
  const temporary = (what: string, error: unknown) =>
    error instanceof UnsafeUrlError ? error : new AuthError(
      `Cannot ${what} of server "${name}": ${describeFailure(error, record.status)}`,
      {
        server: name,
        temporary: classifyTokenFailure(error, record.status) === "temporary",
        cause: safeCause(error),
      },
    );
  let metadata = discovery?.authorizationServerMetadata;
  if (!metadata) {
    metadata = await discoverAuthorizationServerMetadata(asUrl, { fetchFn }).catch((error) => {
      throw temporary("read the authorization server metadata", error);
    });
  }
  const clientInformation: OAuthClientInformationMixed = {
    client_id: client.clientId,
    ...(await clientSecretOf(doc, inputs)),
    ...(client.tokenEndpointAuthMethod
      ? { token_endpoint_auth_method: client.tokenEndpointAuthMethod }
      : {}),
  } as OAuthClientInformationMixed;
  inputs.logger.debug("Refreshing access token", {
    server: name,
    tokenEndpoint: metadata?.token_endpoint,
    clientId: client.clientId,
  });
  // The token is issued after the request leaves: its lifetime counts from here, not from the
  // (later, under load much later) receipt of the answer, or we would hold it past its end.
  const sentAt = inputs.now();
  try {
    const tokens = await refreshAuthorization(asUrl, {
      metadata,
      clientInformation,
      refreshToken,
      resource: doc.resource,
      fetchFn,
    });
    const stored = toStoredTokens(tokens, sentAt, inputs.logger);
    if (!stored.scope && doc.tokens?.scope) stored.scope = doc.tokens.scope;
    inputs.onTokenRequest?.(name, "refresh_token", "ok");
    return stored;
  } catch (error) {
    if (inputs.signal?.aborted) throw inputs.signal.reason;
    if (error instanceof UnsafeUrlError) throw error;
    inputs.onTokenRequest?.(name, "refresh_token", "error");
    const kind = classifyTokenFailure(error, record.status);
    if (kind === "invalid_grant") throw new RefreshRejectedError({ cause: safeCause(error) });
    if (oauthErrorCode(error) === "invalid_client" && client.registration === "dynamic") {
      throw new RefreshRejectedError({ cause: safeCause(error), clientForgotten: true });
    }
    throw temporary("refresh the access token", error);
  }
}

/** The client secret: the configured one (read fresh, it may rotate) or the stored one. */
export async function clientSecretOf(
  doc: CredentialDocument,
  inputs: RefreshInputs,
): Promise<{ client_secret?: string }> {
  const auth = inputs.server.auth;
  if (auth?.type === "oauth" && auth.clientSecret && auth.clientId === doc.client?.clientId) {
    const secret = await readSecret(auth.clientSecret, {
      what: `client secret of server "${inputs.server.name}"`,
      logger: inputs.logger,
      signal: inputs.signal,
    });
    return { client_secret: secret };
  }
  return doc.client?.clientSecret ? { client_secret: doc.client.clientSecret } : {};
}
