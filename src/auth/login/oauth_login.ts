/**
 * `toolscript auth <server>`: the interactive OAuth 2.1 authorization code flow with PKCE
 * (S256), RFC 8707 resource indicators and RFC 9207 issuer checks, run by the SDK's `auth()`
 * over a {@link StoreOAuthClientProvider}. The authorization response arrives on a loopback
 * callback or as a redirect URL the user pastes.
 */
// @ts-types="@modelcontextprotocol/sdk/client/auth"
import { auth } from "@modelcontextprotocol/sdk/client/auth.js";
import { AuthError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import { describeFailure, recordingFetch, safeCause } from "../protocol/oauth_http.ts";
import { isLoopbackHost } from "../../config/loopback.ts";
import {
  type LoginInputs,
  type LoginSetup,
  noOAuthLoginError,
  prepareLogin,
  runLogin,
  settleClient,
} from "./_oauth_login_setup.ts";
import { readPastedUrls, ResponseInbox } from "./_response_inbox.ts";
import {
  screenAuthorizationResponse,
  validateAuthorizationResponse,
} from "./_authorization_response.ts";
import { authorizationEndpointRefusesClient, refusesClient } from "./_forgotten_client.ts";
import { checkBrowserUrl, UnsafeUrlError } from "../protocol/url_policy.ts";
import {
  type CallbackOutcome,
  DEFAULT_CALLBACK_PORTS,
  type LoopbackCallback,
  startLoopbackCallback,
} from "./loopback_callback.ts";
import { StoreOAuthClientProvider } from "./oauth_provider.ts";
import { type DpopKey, dpopKeyForLogin, withDpopKey } from "../protocol/dpop.ts";
import type { RemoteServerConfig } from "../../config/types.ts";
import type { CredentialDocument, TokenStore, TokenTransaction } from "../store/token_store.ts";

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
 * Runs the flow and saves the credentials (client, tokens, discovery) on success. A
 * transaction of the server's credentials (`store.transaction`, holding its lock) reads the
 * stored document, and another one runs the code exchange and the save, not while the user is in the browser: a gateway
 * refreshing the same server meanwhile goes ahead.
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
  return await runLogin(options, (inputs) => runFlow(options, inputs));
}

async function runFlow(options: OAuthLoginOptions, inputs: LoginInputs): Promise<OAuthLoginResult> {
  const { server, signal } = options;
  const logger = inputs.logger;
  const locked = <T>(fn: (tx: TokenTransaction) => Promise<T>) =>
    inputs.store.transaction(server.name, fn, signal);
  const setup = await locked((tx) => prepareLogin(inputs, tx, { pkce: true }));
  const config = server.auth?.type === "oauth" ? server.auth : undefined;
  const metadata = setup.discovery.authorizationServerMetadata;
  // DPoP: the code exchange carries a proof of a new key, saved with the tokens it binds. Made
  // once for the flow: a registration again after a forgotten client binds to the same key.
  const dpop = await dpopKeyForLogin(server.name, metadata, config?.dpop, logger);
  // Responses are handled here, in the flow's own async context, one at a time.
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
  const stopReading = new AbortController();
  const reading = readPastedUrls(options.readPasted, inbox, stopReading.signal, logger);
  try {
    const flow: Flow = { options, inputs, setup, inbox, redirectUri, locked, dpop };
    const first = await authorizeOnce(flow);
    if (first !== CLIENT_FORGOTTEN) return first;
    // The authorization server forgot the client we registered: register again, once.
    logger.warn(
      `The authorization server of "${server.name}" no longer knows the OAuth client ` +
        `toolscript registered (invalid_client); registering a new one`,
    );
    delete setup.document.client;
    delete setup.document.tokens;
    const second = await authorizeOnce(flow);
    if (second !== CLIENT_FORGOTTEN) return second;
    throw new AuthError(
      `The authorization server of "${server.name}" refused the OAuth client toolscript has ` +
        `just registered (invalid_client)`,
      { server: server.name },
    );
  } finally {
    inbox.close();
    stopReading.abort();
    await reading;
  }
}

/** What one authorization attempt works with. */
interface Flow {
  options: OAuthLoginOptions;
  inputs: LoginInputs;
  setup: LoginSetup;
  inbox: ResponseInbox;
  redirectUri: string;
  /** Runs `fn` in a transaction of the server's credentials (holding its lock). */
  locked: <T>(fn: (tx: TokenTransaction) => Promise<T>) => Promise<T>;
  /** The DPoP key the tokens are bound to, saved with them; undefined: no DPoP. */
  dpop?: DpopKey;
}

/** An attempt found that the authorization server forgot our dynamically registered client. */
const CLIENT_FORGOTTEN: unique symbol = Symbol("client forgotten");

/**
 * One authorization request and the response that ends it. Returns {@link CLIENT_FORGOTTEN}
 * (after dropping the stored registration) when the server refuses the dynamically registered
 * client it was started with: at the authorization endpoint (checked before the URL is shown),
 * in the authorization response, or at the code exchange.
 */
async function authorizeOnce(flow: Flow): Promise<OAuthLoginResult | typeof CLIENT_FORGOTTEN> {
  const { options, inputs, setup, inbox, redirectUri, locked, dpop } = flow;
  const { server, signal } = options;
  const logger = inputs.logger;
  const metadata = setup.discovery.authorizationServerMetadata;
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
  // Only a stored dynamic registration can have been forgotten (and be registered again).
  const reused = setup.document.client?.registration === "dynamic" && !setup.preRegistered &&
    !setup.clientMetadataUrl;
  const forgotten = async (): Promise<typeof CLIENT_FORGOTTEN> => {
    await locked((tx) => provider.within(tx, () => provider.invalidateCredentials("client")));
    return CLIENT_FORGOTTEN;
  };
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
  checkBrowserUrl(authorizationUrl, "authorization URL", {
    server: server.name,
    allowInsecureHttp: server.allowInsecureHttp,
  });
  if (reused && await authorizationEndpointRefusesClient(authorizationUrl, fetchFn, signal)) {
    return await forgotten();
  }
  const exchange = async (url: URL) => {
    const clientId = provider.clientInformation()?.client_id ?? "";
    const code = validateAuthorizationResponse(url, metadata, clientId, expectedState, server.name);
    logger.redactor.addSecret(code);
    let result;
    try {
      result = await auth(provider, { ...authOptions, authorizationCode: code });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (error instanceof UnsafeUrlError) throw error;
      // The SDK dropped a client the token endpoint refused (invalid_client) before failing.
      if (reused && !provider.document.client) return CLIENT_FORGOTTEN;
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
  await options.onAuthorizationUrl(authorizationUrl);
  const expected = { redirectUri, expectedState };
  // Responses that are not this login's are answered and ignored; the flow waits on (until the
  // signal aborts) for the one that is, and ends with it, success or failure.
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
    if (reused && refusesClient(item.url.searchParams.get("error"))) {
      item.reply({ ok: false, message: RETRYING });
      return await forgotten();
    }
    try {
      // The lock again, only for the exchange and the save.
      const outcome = await locked((tx) => provider.within(tx, () => exchange(item.url)));
      if (outcome === CLIENT_FORGOTTEN) {
        item.reply({ ok: false, message: RETRYING });
        return outcome;
      }
      item.reply({ ok: true, message: `toolscript is now authorized for "${server.name}".` });
    } catch (error) {
      item.reply({ ok: false, message: error instanceof Error ? error.message : String(error) });
      throw error;
    }
    break;
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

const RETRYING = "The authorization server no longer knows this client; toolscript registers " +
  "a new one: follow the new link in the terminal.";

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

function resultOf(doc: CredentialDocument): OAuthLoginResult {
  return {
    server: doc.server,
    issuer: doc.issuer,
    registration: doc.client?.registration,
    expiresAt: doc.tokens?.expiresAt,
    scopes: doc.tokens?.scope?.split(" ").filter(Boolean),
  };
}
