/**
 * `toolscript auth <server>`: the interactive OAuth 2.1 authorization code flow with PKCE
 * (S256), RFC 8707 resource indicators and RFC 9207 issuer checks, run by the SDK's `auth()`
 * over a {@link StoreOAuthClientProvider}. The authorization response arrives on a loopback
 * callback or as a redirect URL the user pastes.
 */
// @ts-types="@modelcontextprotocol/sdk/client/auth"
import { auth } from "@modelcontextprotocol/sdk/client/auth.js";
import * as oauth from "oauth4webapi";
import { AuthError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { describeFailure, recordingFetch, safeCause } from "./_oauth_http.ts";
import { isLoopbackHost } from "../config/loopback.ts";
import {
  type LoginInputs,
  noOAuthLoginError,
  prepareLogin,
  runLoginLocked,
  settleClient,
} from "./_oauth_login_setup.ts";
import { readPastedUrls, ResponseInbox } from "./_response_inbox.ts";
import { screenAuthorizationResponse } from "./_authorization_response.ts";
import { checkBrowserUrl, UnsafeUrlError } from "./url_policy.ts";
import {
  type CallbackOutcome,
  DEFAULT_CALLBACK_PORTS,
  type LoopbackCallback,
  sanitizeAuthorizationError,
  startLoopbackCallback,
} from "./loopback_callback.ts";
import { StoreOAuthClientProvider } from "./oauth_provider.ts";
import { dpopKeyForLogin, withDpopKey } from "./dpop.ts";
import type { RemoteServerConfig } from "../config/types.ts";
import type { CredentialDocument, TokenStore } from "./token_store.ts";

/** Options of {@link loginWithOAuth}. */
export interface OAuthLoginOptions {
  /** The server to log in to (its `auth` block may be absent: implicit OAuth). */
  server: RemoteServerConfig;
  /** Where the credentials are saved. */
  store: TokenStore;
  /** Receives each step at info, details at debug (redacted). */
  logger?: Logger;
  /** Used for every request; default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Epoch ms clock; default `Date.now`. */
  now?: () => number;
  /** Aborts the whole flow (SIGINT, the `--timeout`); the flow rejects with its reason. */
  signal?: AbortSignal;
  /** `--client-id`: a pre-registered client; overrides config `clientId`. */
  clientId?: string;
  /** `--client-secret`: its secret; overrides the configured one. */
  clientSecret?: string;
  /** `--scope`: overrides config `scopes` and the server's hints. */
  scopes?: string[];
  /** `--callback-port`; overrides config `callbackPort`. A busy pinned port is an error. */
  callbackPort?: number;
  /** Ports tried first when none is pinned; default 33418-33427. */
  callbackPorts?: readonly number[];
  /** Config path for `--config` in fix commands. */
  configPath?: string;
  /** Shows the authorization URL to the user (print it, open a browser). */
  onAuthorizationUrl: (url: URL) => void | Promise<void>;
  /**
   * Lines the user types or pastes, read until `signal` aborts; a line holding the full
   * redirect URL completes the flow like the loopback callback would.
   */
  readPasted?: (signal: AbortSignal) => AsyncIterable<string>;
}

/** What a finished login stored (no secrets). */
export interface OAuthLoginResult {
  /** The server's name. */
  server: string;
  /** The authorization server that issued the tokens. */
  issuer?: string;
  /** How the client was obtained: `pre-registered`, `metadata-document` or `dynamic`. */
  registration?: string;
  /** Absolute expiry of the access token, epoch ms. */
  expiresAt?: number;
  /** Scopes granted. */
  scopes?: string[];
}

/**
 * Runs the whole flow under `store.withLock(server)`, so a concurrent login or refresh of
 * the same server waits, and saves the credentials (client, tokens, discovery) on success.
 *
 * Authorization responses without this login's `state`, malformed ones, and pasted URLs not
 * sent to its redirect URI are answered with an error and ignored: the flow keeps waiting.
 *
 * @throws {AuthError} when discovery, registration or the token exchange fails, or this
 *   login's authorization response is refused (an error from the server, a wrong `iss`).
 * @throws {UnsafeUrlError} when discovery leads to a URL the discovery URL policy refuses.
 * @throws the signal's reason when `signal` aborts first (e.g. the timeout).
 */
export async function loginWithOAuth(options: OAuthLoginOptions): Promise<OAuthLoginResult> {
  return await runLoginLocked(options, (inputs) => runFlow(options, inputs));
}

async function runFlow(options: OAuthLoginOptions, inputs: LoginInputs): Promise<OAuthLoginResult> {
  const { server, signal } = options;
  const logger = inputs.logger;
  const setup = await prepareLogin(inputs, { pkce: true });
  const config = server.auth?.type === "oauth" ? server.auth : undefined;
  const metadata = setup.discovery.authorizationServerMetadata;
  // DPoP: the code exchange carries a proof of a new key, saved with the tokens it binds.
  const dpop = await dpopKeyForLogin(server.name, metadata, config?.dpop, logger);
  // Responses are handled here, in the flow's own async context, which holds the lock.
  const inbox = new ResponseInbox();
  await using listener = openListener(
    options,
    config?.redirectUri,
    setup.document,
    (url) => inbox.submit(url, "callback"),
  );
  const redirectUri = listener?.redirectUri ?? config!.redirectUri!;
  const registration = settleClient(setup, inputs, {
    redirectUri,
    grantType: "authorization_code",
  });
  logger.info(`Logging in to "${server.name}"`, {
    authorizationServer: new URL(metadata.issuer).host,
    registration,
    redirectUri,
    scope: setup.scope,
  });
  const provider = new StoreOAuthClientProvider({
    store: options.store,
    document: withDpopKey(setup.document, dpop),
    redirectUrl: redirectUri,
    preRegistered: setup.preRegistered,
    clientMetadataUrl: setup.clientMetadataUrl,
    scope: setup.scope,
    discovery: setup.discovery,
    freshLogin: true,
    now: options.now,
    logger,
  });
  const record: { status?: number } = {};
  const recording = recordingFetch(inputs.fetch, signal, record);
  const fetchFn = dpop ? dpop.tokenFetch(recording) : recording;
  const authOptions = { serverUrl: server.url, scope: setup.scope, fetchFn };
  try {
    const first = await auth(provider, authOptions);
    if (first === "AUTHORIZED") return resultOf(provider.document);
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (error instanceof UnsafeUrlError) throw error;
    throw noOAuthLoginError(setup, server, record.status) ?? new AuthError(
      `Cannot start the OAuth login of server "${server.name}": ${
        // Registration refusals explain themselves ("Requested scopes are not valid: …").
        describeFailure(error, record.status, (text) => logger.redactor.redactText(text))}`,
      { server: server.name, cause: safeCause(error) },
    );
  }
  const authorizationUrl = provider.authorizationUrl!;
  const expectedState = provider.expectedState!;
  const exchange = async (url: URL) => {
    const code = validateResponse(url, metadata, provider, expectedState, server.name);
    logger.redactor.addSecret(code);
    let result;
    try {
      result = await auth(provider, { ...authOptions, authorizationCode: code });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (error instanceof UnsafeUrlError) throw error;
      throw noOAuthLoginError(setup, server, record.status) ?? new AuthError(
        `Cannot exchange the authorization code of server "${server.name}": ${
          describeFailure(error, record.status)
        }`,
        { server: server.name, cause: safeCause(error) },
      );
    }
    if (result !== "AUTHORIZED") {
      throw new AuthError(`The authorization server of "${server.name}" asked to log in again`);
    }
  };
  checkBrowserUrl(authorizationUrl, "authorization URL", {
    server: server.name,
    allowInsecureHttp: server.allowInsecureHttp,
  });
  await options.onAuthorizationUrl(authorizationUrl);
  const stopReading = new AbortController();
  const reading = readPastedUrls(options.readPasted, inbox, stopReading.signal, logger);
  const expected = { redirectUri, expectedState };
  try {
    // Responses that are not this login's are answered and ignored; the flow waits on (until
    // the signal aborts) for the one that is, and ends with it, success or failure.
    for (;;) {
      const item = await inbox.next(signal);
      const ignored = screenAuthorizationResponse(item.url, item.source, expected);
      if (ignored) {
        logger.warn(`Ignored an authorization response for "${server.name}": ${ignored}`, {
          source: item.source,
        });
        item.reply({ ok: false, message: `Ignored: ${ignored}. The login is still waiting.` });
        continue;
      }
      try {
        await exchange(item.url);
        item.reply({ ok: true, message: `toolscript is now authorized for "${server.name}".` });
      } catch (error) {
        item.reply({ ok: false, message: error instanceof Error ? error.message : String(error) });
        throw error;
      }
      break;
    }
  } finally {
    inbox.close();
    stopReading.abort();
    await reading;
  }
  const stored = provider.document;
  const result = resultOf(stored);
  logger.info(`Obtained tokens for "${server.name}"`, {
    expiresAt: result.expiresAt ? new Date(result.expiresAt).toISOString() : undefined,
    scopes: result.scopes,
    refreshToken: stored.tokens?.refreshToken !== undefined,
  });
  return result;
}

/** Starts the loopback listener unless the configured redirect URI is not on this machine. */
function openListener(
  options: OAuthLoginOptions,
  configuredRedirect: string | undefined,
  doc: CredentialDocument,
  onCallback: (url: URL) => Promise<CallbackOutcome>,
): LoopbackCallback | undefined {
  const common = { onCallback, server: options.server.name, logger: options.logger };
  if (configuredRedirect) {
    const url = new URL(configuredRedirect);
    if (url.protocol !== "http:" || !isLoopbackHost(url.hostname)) return undefined;
    return startLoopbackCallback({
      ...common,
      port: options.callbackPort ?? Number(url.port || 80),
      path: url.pathname,
      redirectHost: url.hostname,
    });
  }
  const pinned = options.callbackPort ??
    (options.server.auth?.type === "oauth" ? options.server.auth.callbackPort : undefined);
  // A stored registration's port first, so the client can be reused.
  const storedPorts = (doc.client?.redirectUris ?? [])
    .map((uri) => URL.canParse(uri) ? Number(new URL(uri).port) : 0)
    .filter((port) => port > 0);
  return startLoopbackCallback({
    ...common,
    port: pinned,
    preferredPorts: [
      ...new Set([...storedPorts, ...(options.callbackPorts ?? DEFAULT_CALLBACK_PORTS)]),
    ],
  });
}

/** RFC 9207 `iss` and `state` checks (oauth4webapi), then the code. */
function validateResponse(
  url: URL,
  metadata: { issuer: string } & Record<string, unknown>,
  provider: StoreOAuthClientProvider,
  expectedState: string,
  server: string,
): string {
  const client = { client_id: provider.clientInformation()?.client_id ?? "" };
  let params: URLSearchParams;
  try {
    params = oauth.validateAuthResponse(
      metadata as unknown as oauth.AuthorizationServer,
      client,
      url.searchParams,
      expectedState,
    );
  } catch (error) {
    if (error instanceof oauth.AuthorizationResponseError) {
      throw new AuthError(
        `The authorization server refused the login of server "${server}": ${
          sanitizeAuthorizationError(error.error, error.error_description)
        }`,
        { server },
      );
    }
    throw new AuthError(
      `Refusing the authorization response for server "${server}": ${refusal(error)}`,
      { server },
    );
  }
  const code = params.get("code");
  if (!code) throw new AuthError(`The authorization response for server "${server}" has no code`);
  return code;
}

function refusal(error: unknown): string {
  const message = error instanceof Error ? error.message : "";
  if (/"iss"/.test(message)) {
    return /missing/.test(message)
      ? "it lacks the issuer (iss) the authorization server promised"
      : "it comes from a different issuer (iss mismatch)";
  }
  if (/"state"/.test(message)) return "its state does not match this login (state mismatch)";
  return "it is malformed";
}

function resultOf(doc: CredentialDocument): OAuthLoginResult {
  return {
    server: doc.server,
    issuer: doc.issuer,
    registration: doc.client?.registration,
    expiresAt: doc.tokens?.expiresAt,
    scopes: doc.tokens?.scope?.split(" ").filter(Boolean),
  };
}
