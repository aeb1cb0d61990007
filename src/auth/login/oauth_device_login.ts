/**
 * `toolscript auth <server> --device`: the RFC 8628 device authorization grant, for machines
 * without a browser. The user opens a URL anywhere and enters a code; we poll the token
 * endpoint. Requests and response checks are oauth4webapi's; registration is the SDK's.
 */
// @ts-types="@modelcontextprotocol/sdk/client/auth"
import { registerClient } from "@modelcontextprotocol/sdk/client/auth.js";
import * as oauth from "oauth4webapi";
import { AuthError } from "../../errors.ts";
import {
  clientAuthFor,
  describeFailure,
  oauthRequestOptions,
  recordingFetch,
  safeCause,
} from "../protocol/oauth_http.ts";
import { displayUrl } from "../../config/display_url.ts";
import {
  type LoginInputs,
  noOAuthLoginError,
  prepareLogin,
  runLogin,
  settleClient,
} from "./_oauth_login_setup.ts";
import { abortableDelay } from "../../abort.ts";
import { metadataString } from "../protocol/oauth_discovery.ts";
import type { OAuthLoginOptions, OAuthLoginResult } from "./oauth_login.ts";
import { StoreOAuthClientProvider } from "./oauth_provider.ts";
import { dpopKeyForLogin, withDpopKey } from "../protocol/dpop.ts";
import { checkBrowserUrl, UnsafeUrlError } from "../protocol/url_policy.ts";
import { stripControlChars } from "../../log.ts";

const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

/**
 * What the user needs to approve a device login. The URIs passed the browser URL check
 * (https, or loopback http) and are in `URL`'s serialisation; `userCode` has no control
 * characters.
 */
export interface DeviceCodePrompt {
  /** Where the user enters `userCode` (RFC 8628 `verification_uri`). */
  verificationUri: string;
  /** The URI with the code filled in, when the server offers one. */
  verificationUriComplete?: string;
  /** The code the user types at `verificationUri`. */
  userCode: string;
  /** Seconds from now until the code expires and the login fails. */
  expiresInSeconds: number;
}

/** Options of {@link loginWithDeviceCode}. */
export interface DeviceLoginOptions extends
  Omit<
    OAuthLoginOptions,
    "onAuthorizationUrl" | "readPasted" | "callbackPort" | "callbackPorts"
  > {
  /** Shows the verification URI and user code. */
  onUserCode: (prompt: DeviceCodePrompt) => void | Promise<void>;
}

/**
 * Runs the device flow and saves the credentials. A transaction of the server's credentials
 * (holding its lock) reads the stored document, another one saves the tokens; none is open
 * while the user approves the code.
 * @throws {AuthError} when the server offers no device flow, the user denies, or the code expires.
 * @throws {UnsafeUrlError} when `verification_uri` or `verification_uri_complete` is not an
 *   https (or loopback http) URL; `onUserCode` is then never called.
 * @throws the signal's reason when `signal` aborts first.
 */
export async function loginWithDeviceCode(options: DeviceLoginOptions): Promise<OAuthLoginResult> {
  return await runLogin(options, (inputs) => runDeviceFlow(options, inputs));
}

async function runDeviceFlow(
  options: DeviceLoginOptions,
  inputs: LoginInputs,
): Promise<OAuthLoginResult> {
  const { server, signal } = options;
  const logger = inputs.logger;
  const name = server.name;
  const setup = await inputs.store.transaction(
    name,
    (tx) => prepareLogin(inputs, tx, { pkce: false }),
    signal,
  );
  const metadata = setup.discovery.authorizationServerMetadata;
  if (!metadataString(metadata, "device_authorization_endpoint")) {
    throw new AuthError(
      `Authorization server "${displayUrl(metadata.issuer)}" of server "${name}" does not offer ` +
        `the device flow; run without --device`,
      { server: name },
    );
  }
  const registration = settleClient(setup, inputs, { grantType: DEVICE_GRANT });
  // DPoP: the device code exchange carries a proof of a new key, saved with the tokens.
  const dpopSetting = server.auth?.type === "oauth" ? server.auth.dpop : undefined;
  const dpop = await dpopKeyForLogin(name, metadata, dpopSetting, logger);
  const provider = new StoreOAuthClientProvider({
    store: options.store,
    document: withDpopKey(setup.document, dpop),
    preRegistered: setup.preRegistered,
    clientMetadataUrl: setup.clientMetadataUrl,
    scope: setup.scope,
    grantTypes: [DEVICE_GRANT, "refresh_token"],
    discovery: setup.discovery,
    freshLogin: true,
    now: options.now,
    logger,
  });
  const record: { status?: number } = {};
  const fetchFn = recordingFetch(inputs.fetch, signal, record);
  const asUrl = setup.discovery.authorizationServerUrl;
  const fail = (what: string, error: unknown): never => {
    if (signal?.aborted) throw signal.reason;
    if (error instanceof UnsafeUrlError) throw error;
    throw noOAuthLoginError(setup, server, record.status) ?? new AuthError(
      `Cannot ${what} for server "${name}": ${describeFailure(error, record.status)}`,
      { server: name, cause: safeCause(error) },
    );
  };
  logger.info(`Logging in to "${name}" with the device flow`, {
    authorizationServer: new URL(metadata.issuer).host,
    registration,
    scope: setup.scope,
  });
  let info = provider.clientInformation();
  if (!info && setup.clientMetadataUrl) info = { client_id: setup.clientMetadataUrl };
  if (!info) {
    info = await registerClient(asUrl, {
      metadata,
      clientMetadata: provider.clientMetadata,
      scope: setup.scope,
      fetchFn,
    }).catch((error) => fail("register an OAuth client", error));
  }
  provider.saveClientInformation({ ...info, issuer: asUrl });
  const stored = provider.document.client!;
  const as = metadata as unknown as oauth.AuthorizationServer;
  const client: oauth.Client = { client_id: stored.clientId };
  const clientAuth = clientAuthFor(stored, metadata.token_endpoint_auth_methods_supported);
  const http = oauthRequestOptions(fetchFn, signal);
  const resource = setup.discovery.resourceMetadata?.resource;
  const extra: Record<string, string> = resource ? { resource } : {};

  const device = await oauth.deviceAuthorizationRequest(as, client, clientAuth, {
    ...extra,
    ...(setup.scope ? { scope: setup.scope } : {}),
  }, http).then((response) => oauth.processDeviceAuthorizationResponse(as, client, response))
    .catch((error) => fail("start the device login", error));
  logger.redactor.addSecret(device.device_code);
  // Both URIs go to the terminal and the browser opener: https (or loopback http) only.
  const browserRules = { server: name, allowInsecureHttp: server.allowInsecureHttp };
  const verificationUri = checkBrowserUrl(
    device.verification_uri,
    "verification_uri",
    browserRules,
  );
  const verificationUriComplete = device.verification_uri_complete === undefined
    ? undefined
    : checkBrowserUrl(device.verification_uri_complete, "verification_uri_complete", browserRules);
  await options.onUserCode({
    verificationUri,
    ...(verificationUriComplete ? { verificationUriComplete } : {}),
    userCode: stripControlChars(device.user_code).replace(/\s+/g, " ").trim(),
    expiresInSeconds: device.expires_in,
  });

  let intervalMs = (device.interval ?? 5) * 1000;
  const now = options.now ?? Date.now;
  const deadline = now() + device.expires_in * 1000;
  let nonceRetried = false;
  for (;;) {
    await abortableDelay(intervalMs, signal);
    if (now() > deadline) {
      throw new AuthError(`The device code of server "${name}" expired before it was approved`, {
        server: name,
      });
    }
    let tokens: oauth.TokenEndpointResponse;
    try {
      const response = await oauth.deviceCodeGrantRequest(
        as,
        client,
        clientAuth,
        device.device_code,
        {
          ...http,
          DPoP: dpop?.handle,
          additionalParameters: extra,
        },
      );
      tokens = await oauth.processDeviceCodeResponse(as, client, response);
    } catch (error) {
      if (error instanceof oauth.ResponseBodyError && error.error === "authorization_pending") {
        continue;
      }
      // The handle remembered the nonce the server sent: the next poll uses it, once.
      if (dpop && oauth.isDPoPNonceError(error) && !nonceRetried) {
        nonceRetried = true;
        continue;
      }
      if (error instanceof oauth.ResponseBodyError && error.error === "slow_down") {
        intervalMs += 5000;
        continue;
      }
      return fail("complete the device login", error);
    }
    await provider.saveTokens({
      access_token: tokens.access_token,
      token_type: tokens.token_type,
      ...(tokens.refresh_token ? { refresh_token: tokens.refresh_token } : {}),
      ...(tokens.expires_in !== undefined ? { expires_in: tokens.expires_in } : {}),
      ...(tokens.scope ? { scope: tokens.scope } : {}),
      issuer: asUrl,
    });
    const doc = provider.document;
    logger.info(`Obtained tokens for "${name}"`, {
      expiresAt: doc.tokens?.expiresAt ? new Date(doc.tokens.expiresAt).toISOString() : undefined,
      scopes: doc.tokens?.scope,
    });
    return {
      server: name,
      issuer: doc.issuer,
      registration: doc.client?.registration,
      expiresAt: doc.tokens?.expiresAt,
      scopes: doc.tokens?.scope?.split(" ").filter(Boolean),
    };
  }
}
