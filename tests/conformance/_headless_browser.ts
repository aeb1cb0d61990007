/**
 * The browser of the conformance client: opens an authorization URL with `fetch` and follows
 * the redirects by hand, as a browser would, until a page answers without one. The suite's
 * authorization servers approve at once and redirect to the redirect URI, which is our
 * loopback callback; nothing here reads or changes the parameters it carries.
 */

/** Options of {@link openHeadless}. */
export interface HeadlessOptions {
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /** Longest redirect chain followed; default 10. */
  maxRedirects?: number;
}

/** What the "browser" ended on. */
export interface HeadlessResult {
  /** The last URL requested (the loopback callback, normally). */
  url: URL;
  status: number;
}

/** Requests `url` and follows redirects; resolves with the final page's URL and status. */
export async function openHeadless(
  url: URL,
  options: HeadlessOptions = {},
): Promise<HeadlessResult> {
  const fetchFn = options.fetch ?? globalThis.fetch;
  const maxRedirects = options.maxRedirects ?? 10;
  let current = url;
  for (let hop = 0;; hop++) {
    const response = await fetchFn(current, { redirect: "manual", signal: options.signal });
    const location = response.headers.get("location");
    await response.body?.cancel();
    const redirected = response.status >= 300 && response.status < 400 && location !== null;
    if (!redirected) return { url: current, status: response.status };
    if (hop >= maxRedirects) {
      throw new Error(`More than ${maxRedirects} redirects from ${url.origin}`);
    }
    current = new URL(location, current);
  }
}
