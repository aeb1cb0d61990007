/**
 * The seam between transports and credentials. Every kind of credential (OAuth, client
 * credentials, private_key_jwt, static headers) is a {@link CredentialProvider}; the gateway's
 * HTTP transports call it for headers and hand it 401/403 responses.
 */

/** What `status` shows about a server's credentials. Never contains a secret. */
export interface CredentialStatus {
  /** `oauth`, `client_credentials`, `bearer`, … or `none`. */
  authType: string;
  /**
   * `ok`: usable (or no token needed yet); `needs-auth`: the user must run `toolscript auth`;
   * `expired`: the token is past its expiry and has not been renewed; `refresh-failed`: the
   * token still works but the last refresh failed; `error`: credentials cannot be read or
   * used (see `lastError`).
   */
  state: "ok" | "needs-auth" | "expired" | "refresh-failed" | "error";
  /** Absolute expiry of the current access token, epoch ms; undefined when unknown or none. */
  expiresAt?: number;
  /** Scopes granted (or, before a token exists, requested); undefined when none are known. */
  scopes?: string[];
  /** e.g. `pre-registered`, `metadata-document`, `dynamic` for OAuth clients. */
  registration?: string;
  /** The last refresh or token error, redacted. */
  lastError?: string;
  /** True when the current tokens are DPoP-bound (RFC 9449): useless without the stored key. */
  dpop?: boolean;
}

/** Sends a request with a DPoP proof for a DPoP-bound access token (see `dpop.ts`). */
export interface DpopSender {
  /** One request with `Authorization: DPoP <accessToken>` and a fresh proof. */
  send(
    fetch: typeof globalThis.fetch,
    input: RequestInfo | URL,
    init: RequestInit & { headers: Record<string, string> },
    accessToken: string,
  ): Promise<Response>;
}

/** Supplies credentials for one server and recovers from authentication failures. */
export interface CredentialProvider {
  /**
   * Headers to attach to the next request (e.g. `Authorization`). Obtains or refreshes a
   * token when needed.
   * @throws {NotAuthenticatedError} when the user must log in.
   * @throws {AuthError} when credentials cannot be obtained (with `temporary` set when a retry may help).
   */
  headers(signal?: AbortSignal): Promise<Record<string, string>>;
  /**
   * Called with a 401 or 403 response from the server. Returns true when new credentials were
   * obtained and one retry is worthwhile; false when retrying cannot help. `sent` is what
   * {@link CredentialProvider.headers} gave the refused request, when known: with concurrent
   * requests, the token refused is not always the one handed out last.
   */
  recover(
    response: Response,
    signal?: AbortSignal,
    sent?: Record<string, string>,
  ): Promise<boolean>;
  /** Current state, for `status` and `/health`. */
  status(): Promise<CredentialStatus>;
  /**
   * Forgets what was cached from the credential store, so the next use reads it again (new
   * credentials written by another process).
   */
  invalidate?(): void;
  /** Stops background work (refresh timers, requests under way). */
  close?(): Promise<void>;
  /**
   * For an `Authorization: DPoP …` header from {@link CredentialProvider.headers}: what signs
   * the request's proof. Providers without DPoP-bound tokens leave it out.
   */
  dpop?(signal?: AbortSignal): Promise<DpopSender | undefined>;
}

/** The grant a token request used, as `/metrics` labels it. */
export type TokenGrant =
  | "refresh_token"
  | "client_credentials"
  | "private_key_jwt"
  | "jwt_bearer"
  | "enterprise_managed";

/** How a token request ended: a token obtained (`ok`) or not (`error`). */
export type TokenRequestOutcome = "ok" | "error";

/**
 * Called once per request sent to a token endpoint (each retry counts), with the server's
 * config name; never a token or secret. The gateway supplies it to count requests for
 * `/metrics`; it must not throw.
 */
export type TokenRequestHook = (
  server: string,
  grant: TokenGrant,
  outcome: TokenRequestOutcome,
) => void;
