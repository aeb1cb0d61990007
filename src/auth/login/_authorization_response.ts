/**
 * Private to src/auth: which authorization responses a login looks at. A response that does
 * not carry this login's `state`, is malformed, or (pasted) was not sent to this login's
 * redirect URI is ignored, so a local process that probes the loopback callback, or a stray
 * paste, can neither abort a pending login nor finish it with its own code. The one that is
 * this login's is then checked (`iss`, `state`) for its code.
 */
import { timingSafeEqual } from "node:crypto";
import * as oauth from "oauth4webapi";
import { displayUrl } from "../../config/display_url.ts";
import { AuthError } from "../../errors.ts";
import { sanitizeAuthorizationError } from "./loopback_callback.ts";

/** Where a response came from. */
export type ResponseSource = "callback" | "pasted";

/** What a response must match. */
export interface ResponseExpectations {
  /** The redirect URI sent in the authorization request. */
  redirectUri: string;
  /** The `state` sent in the authorization request. */
  expectedState: string;
}

/** Parameters an authorization response carries at most once (RFC 6749 §3.1). */
const SINGLE_PARAMETERS = ["state", "code", "error", "error_description", "iss"];

/**
 * Why `url` is not this login's authorization response, or undefined when it is one the flow
 * should handle (its code exchanged, or its `error` reported). The loopback listener already
 * checked the path of a callback and that it has a `code` or `error`; a pasted URL must also
 * match the redirect URI's scheme, host, port and path.
 */
export function screenAuthorizationResponse(
  url: URL,
  source: ResponseSource,
  expected: ResponseExpectations,
): string | undefined {
  if (source === "pasted") {
    const want = new URL(expected.redirectUri);
    const same = url.protocol === want.protocol && url.hostname === want.hostname &&
      url.port === want.port && url.pathname === want.pathname;
    if (!same) return `it was not sent to this login's redirect URI "${displayUrl(want)}"`;
  }
  const params = url.searchParams;
  if (SINGLE_PARAMETERS.some((name) => params.getAll(name).length > 1)) {
    return "it is malformed (a parameter is repeated)";
  }
  if (!params.has("code") && !params.has("error")) return "it has no code or error";
  const state = params.get("state");
  if (state === null) return "it has no state";
  if (!sameText(state, expected.expectedState)) return "its state is not this login's";
  return undefined;
}

/** Constant-time comparison of two strings. */
function sameText(a: string, b: string): boolean {
  const [x, y] = [new TextEncoder().encode(a), new TextEncoder().encode(b)];
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The code of this login's authorization response, after oauth4webapi's RFC 9207 `iss` and
 * `state` checks.
 * @throws {AuthError} when the server refused the login (its `error`, sanitized) or the
 *   response fails a check (the reason in words, never the response itself).
 */
export function validateAuthorizationResponse(
  url: URL,
  metadata: { issuer: string } & Record<string, unknown>,
  clientId: string,
  expectedState: string,
  server: string,
): string {
  const client = { client_id: clientId };
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
