/**
 * Private to src/auth: which authorization responses a login looks at. A response that does
 * not carry this login's `state`, is malformed, or (pasted) was not sent to this login's
 * redirect URI is ignored, so a local process that probes the loopback callback, or a stray
 * paste, can neither abort a pending login nor finish it with its own code.
 */
import { timingSafeEqual } from "node:crypto";
import { displayUrl } from "../config/display_url.ts";

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
