/**
 * Wraps `fetch` so that every request to an upstream carries its credentials, and a 401 or a
 * 403 `insufficient_scope` triggers one recovery (refresh, new token, wider scope) and a retry.
 */
import type { CredentialProvider } from "../types.ts";
import { abortableDelay } from "../../abort.ts";
import { retryDelayMs } from "../protocol/retry_policy.ts";

/** Options of {@link createAuthFetch}. */
export interface AuthFetchOptions {
  /** The credentials of this server; none means requests go out as they are. */
  credentials?: CredentialProvider;
  /** Static headers configured for the server (`headers` in config). */
  headers?: Record<string, string>;
  /** The underlying fetch; default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** How many recover-and-retry rounds a request may take; default 2. */
  maxRetries?: number;
  /**
   * Waits between retries; default none before the first, then the token backoff policy
   * (0.5 s doubling, jittered). Tests pass a no-op.
   */
  backoff?: (attempt: number, signal?: AbortSignal) => Promise<void>;
  /**
   * Sees every response before it is returned (e.g. to remember the last status), so a caller
   * needs no second fetch wrapper.
   */
  onResponse?: (response: Response) => void;
}

/**
 * Returns a fetch that adds configured headers and credentials and recovers from 401/403.
 * Headers in `init` win over `options.headers`; credential headers win over both. A streamed
 * request body is buffered so a retry can resend it. When recovery cannot help or retries
 * are used up, the last response is returned as is.
 *
 * @throws whatever `credentials.headers()` or `recover()` throws, e.g. `NotAuthenticatedError`
 *   when the user must log in.
 * @example Send a configured header with every request
 * ```ts
 * import { createAuthFetch } from "./auth_fetch.ts";
 * const authFetch = createAuthFetch({ headers: { "X-Team": "core" } });
 * // await authFetch("https://search.example/mcp", { method: "POST", body: "{}" });
 * ```
 */
export function createAuthFetch(options: AuthFetchOptions): typeof fetch {
  const baseFetch = options.fetch ?? globalThis.fetch;
  const maxRetries = options.maxRetries ?? 2;
  const backoff = options.backoff ?? defaultBackoff;
  const onResponse = options.onResponse;
  const staticHeaders = Object.entries(options.headers ?? {});
  if (!options.credentials) {
    // No credentials: nothing to recover, nothing to buffer; one call per request.
    return async function plainFetch(input: RequestInfo | URL, init?: RequestInit) {
      if (staticHeaders.length > 0) {
        init = { ...init, headers: mergeHeaders(init?.headers, staticHeaders) };
      }
      const response = await baseFetch(input, init);
      onResponse?.(response);
      return response;
    };
  }
  const credentials = options.credentials;
  return async function authFetch(input: RequestInfo | URL, init?: RequestInit) {
    const signal = init?.signal ?? undefined;
    // A body stream can be sent once; buffer it so a retry can resend it.
    const body = init?.body instanceof ReadableStream
      ? await new Response(init.body).arrayBuffer()
      : init?.body;
    for (let attempt = 0;; attempt++) {
      const sent = await credentials.headers(signal);
      const headers = mergeHeaders(init?.headers, staticHeaders, sent);
      // A DPoP-bound token goes out with a proof of this very request (RFC 9449 §7).
      const dpopToken = /^DPoP (.+)$/.exec(headers.authorization ?? "")?.[1];
      const dpop = dpopToken ? await credentials.dpop?.(signal) : undefined;
      const response = dpop && dpopToken
        ? await dpop.send(baseFetch, input, { ...init, headers, body }, dpopToken)
        : await baseFetch(input, { ...init, headers, body });
      onResponse?.(response);
      if (!needsRecovery(response) || attempt >= maxRetries) return response;
      // The provider reads a copy; a tee'd body cancels only once both branches are cancelled.
      const copy = response.clone();
      const retry = await credentials.recover(copy, signal, sent);
      if (!retry) {
        copy.body?.cancel().catch(() => {});
        return response;
      }
      await Promise.all(
        [copy.body?.cancel(), response.body?.cancel()].map((p) => p?.catch(() => {})),
      );
      await backoff(attempt, signal);
    }
  };
}

/**
 * `base` with `fallback` added where `base` has no such header and `override` set over both, as
 * one plain record with lower-case names: `fetch` copies a record once, where a `Headers`
 * object built here would be built, iterated and copied again on every request.
 */
function mergeHeaders(
  base: HeadersInit | undefined,
  fallback: [string, string][],
  override?: Record<string, string>,
): Record<string, string> {
  // No prototype: a header named `__proto__` is a header like any other.
  const merged: Record<string, string> = Object.create(null);
  if (base instanceof Headers || Array.isArray(base)) {
    new Headers(base).forEach((value, name) => merged[name] = value);
  } else if (base) {
    const record = base as Record<string, string>;
    for (const name of Object.keys(record)) merged[name.toLowerCase()] = record[name];
  }
  for (const [name, value] of fallback) {
    const key = name.toLowerCase();
    if (!(key in merged)) merged[key] = value;
  }
  if (override) {
    for (const name of Object.keys(override)) merged[name.toLowerCase()] = override[name];
  }
  return merged;
}

function needsRecovery(response: Response): boolean {
  if (response.status === 401) return true;
  if (response.status !== 403) return false;
  return /insufficient_scope/i.test(response.headers.get("www-authenticate") ?? "");
}

/** The first retry goes at once (a fresh token); later ones wait by the one backoff policy. */
function defaultBackoff(attempt: number, signal?: AbortSignal): Promise<void> {
  if (attempt === 0) return Promise.resolve();
  return abortableDelay(retryDelayMs(attempt), signal);
}
