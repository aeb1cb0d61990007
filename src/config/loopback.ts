/**
 * Which hosts count as this machine. Shared by the config checks (plain `http://` is allowed
 * to loopback only), the OAuth modules (metadata and token endpoints, redirect URIs) and the
 * gateway's Host and Origin checks.
 */

/**
 * True for loopback hosts as `URL.hostname` spells them: `localhost`, 127.0.0.0/8 and `[::1]`,
 * in any letter case. Other names that may resolve to loopback (`foo.localhost`, `0.0.0.0`)
 * are not trusted.
 *
 * @example
 * ```ts
 * import { isLoopbackHost } from "./loopback.ts";
 * isLoopbackHost(new URL("http://127.0.0.1:8080/mcp").hostname); // true
 * isLoopbackHost(new URL("http://example.com/").hostname); // false
 * ```
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === "localhost" || host === "[::1]" || /^127(\.\d{1,3}){3}$/.test(host);
}
