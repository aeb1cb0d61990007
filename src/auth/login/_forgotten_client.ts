/**
 * Private to src/auth: telling that an authorization server no longer knows a client toolscript
 * registered dynamically (an in-memory AS restarted, a registration expired). Such a server
 * refuses the client with `invalid_client` (or `unauthorized_client`) at the token endpoint,
 * and at the authorization endpoint either shows an error page (it cannot trust a redirect URI
 * of a client it does not know) or redirects back with the error.
 */
import { raceAbort } from "../../abort.ts";

/** OAuth `error` codes that mean "this client is not (or no longer) known here". */
const CLIENT_REFUSALS = new Set(["invalid_client", "unauthorized_client"]);

/** True when `code` is an OAuth error refusing the client itself. */
export function refusesClient(code: string | null | undefined): boolean {
  return code !== null && code !== undefined && CLIENT_REFUSALS.has(code);
}

/** How much of an error page is looked at for the error code. */
const PAGE_BYTES = 8192;

/**
 * Asks the authorization endpoint for `authorizationUrl` the way a browser would, without
 * following redirects, and tells whether it refuses the client: a redirect carrying
 * `error=invalid_client` (or `unauthorized_client`), or an error page (4xx) naming one of them.
 * Anything else, a network failure included, is "not refused": the login goes on and the user's
 * browser shows what the server says.
 */
export async function authorizationEndpointRefusesClient(
  authorizationUrl: URL,
  fetchFn: typeof fetch,
  signal?: AbortSignal,
): Promise<boolean> {
  let response: Response;
  try {
    response = await fetchFn(authorizationUrl, { redirect: "manual", signal });
  } catch {
    signal?.throwIfAborted();
    return false;
  }
  const location = response.headers.get("location");
  if (response.status >= 300 && response.status < 400) {
    await response.body?.cancel().catch(() => {});
    if (!location || !URL.canParse(location, authorizationUrl)) return false;
    return refusesClient(new URL(location, authorizationUrl).searchParams.get("error"));
  }
  if (response.status < 400 || response.status >= 500) {
    await response.body?.cancel().catch(() => {});
    return false;
  }
  const page = await raceAbort(readHead(response), signal).catch(() => "");
  return /\b(invalid_client|unauthorized_client)\b/.test(page);
}

/** The first {@link PAGE_BYTES} of a body as text; the rest is cancelled. */
async function readHead(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < PAGE_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return new TextDecoder().decode(bytes.subarray(0, PAGE_BYTES));
}
