/**
 * Private to src/auth: the small HTTP rules every OAuth module shares (which URLs may be used
 * is `url_policy.ts`'s): a fetch bound to an AbortSignal (the SDK's OAuth functions take none), and
 * how a failed OAuth request is classified without ever quoting its body.
 */
// @ts-types="@modelcontextprotocol/sdk/server/auth/errors"
import { OAuthError } from "@modelcontextprotocol/sdk/server/auth/errors.js";
import * as oauth from "oauth4webapi";
import { clientSecretBasic } from "./client_authentication.ts";

/** The last response a {@link recordingFetch} saw. */
export interface FetchRecord {
  status?: number;
}

/**
 * Wraps `base` so every request carries `signal` and the last response status is recorded
 * (the SDK's OAuth errors drop the status, which tells a 429 from a 400).
 */
export function recordingFetch(
  base: typeof fetch,
  signal: AbortSignal | undefined,
  record: FetchRecord = {},
): typeof fetch {
  return async (input: RequestInfo | URL, init?: RequestInit) => {
    const signals = [signal, init?.signal].filter((s): s is AbortSignal =>
      s instanceof AbortSignal
    );
    const response = await base(input, {
      ...init,
      signal: signals.length > 1 ? AbortSignal.any(signals) : signals[0],
    });
    record.status = response.status;
    return response;
  };
}

/** How a failed token request should be treated. */
export type TokenFailureKind = "invalid_grant" | "temporary" | "rejected";

/** Classifies an error thrown by a token request (SDK or network), never reading its body. */
export function classifyTokenFailure(error: unknown, status?: number): TokenFailureKind {
  const code = oauthErrorCode(error);
  if (code === "invalid_grant") return "invalid_grant";
  if (code === "temporarily_unavailable" || code === "server_error") return "temporary";
  if (status !== undefined && (status === 429 || status >= 500)) return "temporary";
  if (!(error instanceof OAuthError)) return "temporary"; // network failure, bad JSON, ...
  return "rejected";
}

/** The OAuth `error` code of an SDK or oauth4webapi error, when it carries one. */
export function oauthErrorCode(error: unknown): string | undefined {
  if (error instanceof OAuthError) return error.errorCode;
  if (error && typeof error === "object" && "error" in error) {
    const code = (error as { error: unknown }).error;
    if (typeof code === "string" && /^[\x20-\x7e]{1,64}$/.test(code)) return code;
  }
  return undefined;
}

/**
 * The `error_description` of an SDK or oauth4webapi error, made printable (ASCII, at most 200
 * characters) but not yet redacted: pass it through the logger's redactor before showing it.
 */
export function oauthErrorDescription(error: unknown): string | undefined {
  let text: unknown;
  if (error instanceof OAuthError) text = error.message;
  else if (error && typeof error === "object" && "error_description" in error) {
    text = (error as { error_description: unknown }).error_description;
  }
  if (typeof text !== "string") return undefined;
  const clean = text.replace(/[^\x20-\x7e]/g, "").slice(0, 200).trim();
  return clean || undefined;
}

/**
 * A short, secret-free description of a failed OAuth request: status and error code, and with
 * `describe` the authorization server's `error_description` passed through it (a redactor),
 * quoted. Token endpoints' descriptions are left out: they may echo what was sent.
 */
export function describeFailure(
  error: unknown,
  status?: number,
  describe?: (description: string) => string,
): string {
  const code = oauthErrorCode(error);
  const description = describe && oauthErrorDescription(error);
  const reason = description ? `: ${JSON.stringify(describe(description))}` : "";
  if (code) return (status ? `HTTP ${status}, error "${code}"` : `error "${code}"`) + reason;
  if (status && status >= 400) return `HTTP ${status}`;
  if (error instanceof TypeError) return "network error";
  if (error instanceof DOMException && error.name === "TimeoutError") return "timed out";
  return "unexpected response";
}

/**
 * What of a failed OAuth request's error may be kept as an error's `cause`: network failures
 * and aborts (a `TypeError` or `DOMException`, which carry no response) as they are; nothing
 * of the SDK's or oauth4webapi's errors, whose message or `cause` may hold the raw response
 * body of a token or registration endpoint. Describe those with {@link describeFailure}.
 */
export function safeCause(error: unknown): Error | undefined {
  if (error instanceof DOMException) return error;
  if (error instanceof TypeError && !(error instanceof OAuthError) && error.cause === undefined) {
    return error;
  }
  return undefined;
}

/**
 * oauth4webapi client authentication for a stored client: none for a public client, else the
 * secret by the method the client registered with (or basic, as RFC 6749 requires servers to
 * accept), by POST only when the server lists that alone. Basic credentials are encoded as the
 * SDK does (see {@link clientSecretBasic}), which servers that only base64-decode accept too.
 */
export function clientAuthFor(
  client: { clientSecret?: string; tokenEndpointAuthMethod?: string },
  supportedMethods: string[] | undefined,
): oauth.ClientAuth {
  if (!client.clientSecret) return oauth.None();
  const method = client.tokenEndpointAuthMethod;
  if (method === "client_secret_post") return oauth.ClientSecretPost(client.clientSecret);
  if (method === "client_secret_basic" || !supportedMethods?.length) {
    return clientSecretBasic(client.clientSecret);
  }
  return supportedMethods.includes("client_secret_basic")
    ? clientSecretBasic(client.clientSecret)
    : oauth.ClientSecretPost(client.clientSecret);
}

/**
 * oauth4webapi request options: our fetch and signal. Endpoints were checked against the
 * https rules during discovery, so plain http (loopback, or allowed by config) is let through.
 */
export function oauthRequestOptions(
  fetchFn: typeof fetch,
  signal?: AbortSignal,
): {
  signal?: AbortSignal;
  [oauth.customFetch]: typeof fetch;
  [oauth.allowInsecureRequests]: boolean;
} {
  return {
    ...(signal ? { signal } : {}),
    [oauth.customFetch]: fetchFn,
    [oauth.allowInsecureRequests]: true,
  };
}
