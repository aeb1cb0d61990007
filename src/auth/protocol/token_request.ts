/**
 * Private to src/auth: one machine token request (client_credentials, RFC 6749 §4.4, or an
 * extension grant such as jwt-bearer) through oauth4webapi, optionally with a DPoP proof,
 * retried on 429, 5xx, timeouts and network errors by the one backoff policy
 * (`retry_policy.ts`: exponential, jitter, `Retry-After`), and turned into an
 * {@link AuthError} that says what to check.
 */
import * as oauth from "oauth4webapi";
import { AuthError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import { retryDelayMs } from "./retry_policy.ts";
import type { TokenRequestOutcome } from "../types.ts";

/** A token as the endpoint returned it (already registered with the redactor). */
export interface ObtainedToken {
  accessToken: string;
  /** Seconds, as sent; undefined when the response had none. */
  expiresIn?: number;
  /** Granted scopes, when the response says. */
  scope?: string;
  /** `bearer` or `dpop`, lower-cased as oauth4webapi returns it. */
  tokenType: string;
}

/** Which config settings to name when the server rejects something. */
export interface SettingNames {
  /** e.g. `"clientId" and "clientSecretFile"` or `"clientId" and "privateKeyFile"`. */
  credentials: string;
  /** The grant's own input, for `invalid_grant`, e.g. `"assertionFile"`; undefined: none. */
  grantInput?: string;
  /** The grant's name in messages; default `client_credentials`. */
  grant?: string;
}

/** One token request, ready to send. */
export interface TokenRequest {
  server: string;
  as: oauth.AuthorizationServer;
  client: oauth.Client;
  clientAuth: oauth.ClientAuth;
  parameters: URLSearchParams;
  settings: SettingNames;
  /** An extension grant type (e.g. jwt-bearer); undefined: client_credentials. */
  grantType?: string;
  /** Sender-constrains the token (RFC 9449): proofs on the request, nonces retried once. */
  dpop?: oauth.DPoPHandle;
}

/** How requests are sent and retried. */
export interface TokenRequestOptions {
  fetch: typeof fetch;
  logger: Logger;
  allowInsecureRequests: boolean;
  now: () => number;
  random: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Attempts in total, at least 1. */
  maxAttempts: number;
  /** Per-attempt timeout. */
  timeoutMs: number;
  /** A `Retry-After` longer than this ends the retries at once. */
  maxRetryAfterMs: number;
  signal: AbortSignal;
  /** Told how each attempt ended (not called for an attempt cut short by `signal`). */
  onAttempt?: (outcome: TokenRequestOutcome) => void;
}

/** A failure, and how long the server asked us to wait before trying again. */
export class TokenRequestError extends AuthError {
  /** Milliseconds from `Retry-After`, when the server sent one. */
  readonly retryAfterMs?: number;
  constructor(
    message: string,
    options: ErrorOptions & { server: string; temporary: boolean; retryAfterMs?: number },
  ) {
    super(message, options);
    this.name = "TokenRequestError";
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * Sends the request, retrying temporary failures.
 * @throws {TokenRequestError} (an AuthError) when no token was obtained; `temporary` tells
 *   whether a later try may succeed.
 * @throws the signal's reason when it aborts.
 */
export async function requestToken(
  request: TokenRequest,
  options: TokenRequestOptions,
): Promise<ObtainedToken> {
  const { logger, signal } = options;
  for (let attempt = 1;; attempt++) {
    signal.throwIfAborted();
    logger.debug(`Requesting a token for server "${request.server}"`, {
      tokenUrl: request.as.token_endpoint,
      attempt,
      scope: request.parameters.get("scope") ?? undefined,
    });
    const failure = await attemptOnce(request, options);
    options.onAttempt?.(failure instanceof TokenRequestError ? "error" : "ok");
    if (!(failure instanceof TokenRequestError)) return failure;
    if (!failure.temporary || attempt >= options.maxAttempts) throw failure;
    const retryAfterMs = failure.retryAfterMs;
    if (retryAfterMs !== undefined && retryAfterMs > options.maxRetryAfterMs) throw failure;
    const delay = retryDelayMs(attempt, { random: options.random, retryAfterMs });
    logger.debug(`Retrying the token request of server "${request.server}"`, {
      reason: failure.message,
      delayMs: delay,
    });
    await options.sleep(delay, signal);
  }
}

async function attemptOnce(
  request: TokenRequest,
  options: TokenRequestOptions,
): Promise<ObtainedToken | TokenRequestError> {
  const { server } = request;
  const signal = AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]);
  for (let nonceRetry = false;; nonceRetry = true) {
    try {
      return await sendAndProcess(request, options, signal);
    } catch (error) {
      if (options.signal.aborted) throw options.signal.reason;
      // The DPoP handle remembered the nonce the server sent: one retry uses it.
      if (request.dpop && oauth.isDPoPNonceError(error)) {
        if (!nonceRetry) continue;
        return new TokenRequestError(
          `Cannot get a token for server "${server}": the authorization server asked for a ` +
            "new DPoP nonce again after a retry with the one it sent",
          { server, temporary: false },
        );
      }
      if (error instanceof TokenRequestError) return error;
      return classify(error, request, options);
    }
  }
}

async function sendAndProcess(
  request: TokenRequest,
  options: TokenRequestOptions,
  signal: AbortSignal,
): Promise<ObtainedToken> {
  const { as, client, clientAuth, grantType } = request;
  const requestOptions = {
    signal,
    DPoP: request.dpop,
    [oauth.customFetch]: options.fetch,
    [oauth.allowInsecureRequests]: options.allowInsecureRequests,
  };
  // Each attempt sends its own copy: oauth4webapi adds grant_type to the parameters.
  const parameters = new URLSearchParams(request.parameters);
  const response = grantType
    ? await oauth.genericTokenEndpointRequest(
      as,
      client,
      clientAuth,
      grantType,
      parameters,
      requestOptions,
    )
    : await oauth.clientCredentialsGrantRequest(as, client, clientAuth, parameters, requestOptions);
  if (response.status === 429 || response.status >= 500) {
    const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), options.now());
    await response.body?.cancel();
    throw temporary(request.server, `the token endpoint answered ${response.status}`, retryAfterMs);
  }
  const result = grantType
    ? await oauth.processGenericTokenEndpointResponse(as, client, response)
    : await oauth.processClientCredentialsResponse(as, client, response);
  options.logger.redactor.addSecret(result.access_token);
  return {
    accessToken: result.access_token,
    expiresIn: result.expires_in,
    scope: result.scope,
    tokenType: result.token_type,
  };
}

function classify(
  error: unknown,
  request: TokenRequest,
  options: TokenRequestOptions,
): TokenRequestError {
  const { server, settings } = request;
  if (error instanceof oauth.ResponseBodyError) {
    return rejected(server, error.status, error.error, settings, options);
  }
  if (error instanceof oauth.WWWAuthenticateChallengeError) {
    const code = error.cause.find((c) => typeof c.parameters.error === "string")?.parameters.error;
    return rejected(server, error.status, code ?? "invalid_client", settings, options);
  }
  if (error instanceof DOMException && error.name === "TimeoutError") {
    return temporary(server, `the token endpoint did not answer within ${options.timeoutMs} ms`);
  }
  if (error instanceof TypeError && !(error instanceof oauth.OperationProcessingError)) {
    // fetch() rejects with a TypeError when the connection fails.
    return temporary(server, "cannot reach the token endpoint", undefined, error);
  }
  if (error instanceof oauth.OperationProcessingError) {
    return new TokenRequestError(
      `Cannot get a token for server "${server}": invalid token endpoint response (${
        JSON.stringify(options.logger.redactor.redactText(error.message))
      })`,
      { server, temporary: false },
    );
  }
  return new TokenRequestError(
    `Cannot get a token for server "${server}": ${(error as Error)?.name ?? "unknown error"}`,
    { server, temporary: false },
  );
}

function rejected(
  server: string,
  status: number,
  code: string,
  settings: SettingNames,
  options: TokenRequestOptions,
): TokenRequestError {
  if (status === 429 || status >= 500) {
    return temporary(server, `the token endpoint answered ${status} (${code})`);
  }
  const quoted = JSON.stringify(options.logger.redactor.redactText(code).slice(0, 100));
  const hint = HINTS[code]?.(settings) ?? "";
  return new TokenRequestError(
    `Cannot get a token for server "${server}": the authorization server refused the request ` +
      `(${status} ${quoted})${hint}`,
    { server, temporary: false },
  );
}

const HINTS: Record<string, (settings: SettingNames) => string> = {
  invalid_client: (s) => `; check ${s.credentials}`,
  unauthorized_client: (s) =>
    `; the client may not use the ${s.grant ?? "client_credentials"} grant; check ${s.credentials}${
      s.grantInput ? ` and ${s.grantInput}` : ""
    }`,
  invalid_grant: (s) => s.grantInput ? `; check ${s.grantInput}` : "",
  // RFC 9449 §5, §8: a server that requires DPoP refuses requests without a (usable) proof.
  invalid_dpop_proof: () => `; the authorization server requires DPoP: check "dpop"`,
  use_dpop_nonce: () => `; the authorization server requires DPoP: remove "dpop": false`,
  invalid_scope: () => `; check "scopes"`,
  invalid_target: () => `; check "resource"`,
  unsupported_grant_type: (s) =>
    `; the server does not offer the ${s.grant ?? "client_credentials"} grant`,
};

function temporary(
  server: string,
  reason: string,
  retryAfterMs?: number,
  cause?: unknown,
): TokenRequestError {
  return new TokenRequestError(
    `Cannot get a token for server "${server}": ${reason}; this is probably temporary, ` +
      "try again later",
    { server, temporary: true, retryAfterMs, cause },
  );
}

/** Parses `Retry-After` (seconds or an HTTP date) into milliseconds from `now`. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
