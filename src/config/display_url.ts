/**
 * The one way a URL is shown in messages and placeholders: without userinfo, query or
 * fragment, where credentials and tokens hide.
 */

/**
 * `url` without userinfo, query or fragment; `invalid` when it does not parse.
 *
 * @example
 * ```ts
 * import { displayUrl } from "./display_url.ts";
 * displayUrl("https://u:pw@as.example/token?code=x#y"); // "https://as.example/token"
 * ```
 */
export function displayUrl(url: string | URL, invalid = "<invalid URL>"): string {
  if (!URL.canParse(url)) return invalid;
  const parsed = new URL(url);
  parsed.username =
    parsed.password =
    parsed.search =
    parsed.hash =
      "";
  return parsed.href;
}
