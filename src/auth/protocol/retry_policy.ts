/**
 * Private to src/auth: the one backoff policy for token requests, between the attempts of one
 * request and between failed refreshes of a still-valid token alike.
 */

const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 10_000;

/**
 * How long to wait after the `failures`-th failure in a row (1-based): 0.5 s doubling up to
 * 10 s, with jitter (half to all of it), and never less than the server's `Retry-After`.
 */
export function retryDelayMs(
  failures: number,
  options: { random?: () => number; retryAfterMs?: number } = {},
): number {
  const backoff = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.max(0, failures - 1));
  const jitter = 0.5 + (options.random ?? Math.random)() / 2;
  return Math.max(options.retryAfterMs ?? 0, Math.round(backoff * jitter));
}
