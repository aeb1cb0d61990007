/**
 * Which URLs an OAuth login may use, decided in one place: {@link checkDiscoveryUrl} for every
 * URL that a server's discovery leads toolscript to request (so a hostile server cannot point
 * it at this machine or the local network: SSRF), {@link guardDiscoveryFetch} to apply it to
 * every request and redirect, and {@link checkBrowserUrl} for URLs handed to a browser.
 */
import { isLoopbackHost } from "../../config/loopback.ts";
import type { RemoteServerConfig } from "../../config/types.ts";
import { displayUrl } from "../../config/display_url.ts";
import { AuthError } from "../../errors.ts";
import { type HostClass, hostClass } from "./_host_class.ts";

/**
 * A URL from a server or its authorization server that toolscript refuses to request or
 * open. Carries the facts: the server, what the URL is (`kind`) and the URL without query.
 */
export class UnsafeUrlError extends AuthError {
  /** What the URL is, e.g. `token endpoint` or `resource metadata URL`. */
  readonly kind: string;
  /** The refused URL without userinfo, query or fragment. */
  readonly url: string;
  /** Code `auth_failed`; `server` is required. */
  constructor(
    server: string,
    kind: string,
    url: string | URL,
    reason: string,
    options?: ErrorOptions & { fix?: string },
  ) {
    const shown = displayUrl(url);
    super(`Refusing the ${kind} "${shown}" of server "${server}": ${reason}`, {
      ...options,
      server,
    });
    this.name = "UnsafeUrlError";
    this.kind = kind;
    this.url = shown;
  }
}

/** The server whose discovery is checked. */
export interface DiscoveryUrlPolicy {
  /** The server's name, for messages. */
  server: string;
  /** The server's configured URL; its host decides what its discovery may reach. */
  serverUrl: string;
  /** The server's `allowInsecureHttp`: plain http:// to hosts that are not loopback. */
  allowInsecureHttp: boolean;
}

/** The policy of a configured server. */
export function discoveryPolicyFor(server: RemoteServerConfig): DiscoveryUrlPolicy {
  return {
    server: server.name,
    serverUrl: server.url,
    allowInsecureHttp: server.allowInsecureHttp,
  };
}

const CLASS_NAMES: Record<Exclude<HostClass, "public">, string> = {
  loopback: "a loopback address (this machine)",
  private: "a private network address",
  "link-local": "a link-local address",
  unspecified: "an unspecified address",
  multicast: "a multicast address",
  reserved: "a reserved address",
};

/**
 * Decides whether `url` may be used for the discovery and login of `policy.server`, and
 * returns it parsed.
 *
 * - The scheme is https://, or http:// to a loopback host, or any http:// when the server
 *   has `allowInsecureHttp` (so an https server's discovery cannot drop to http without it).
 * - The host may be the server's own host. Otherwise a server on this machine (a loopback
 *   host) may lead to loopback or public hosts, and any other server to public hosts only:
 *   not to loopback (`localhost`-style names included), private (10/8, 172.16/12,
 *   192.168/16, 100.64/10, fc00::/7), link-local (169.254/16, fe80::/10), unspecified,
 *   multicast or reserved addresses. Hosts are judged as written: a DNS name is public
 *   whatever it resolves to.
 *
 * @throws {UnsafeUrlError} naming the server, `kind` and the URL (without query).
 * @example
 * ```ts
 * import { checkDiscoveryUrl } from "./url_policy.ts";
 * const policy = { server: "x", serverUrl: "https://mcp.example/mcp", allowInsecureHttp: false };
 * checkDiscoveryUrl("https://auth.example/token", "token endpoint", policy); // ok
 * // checkDiscoveryUrl("https://169.254.169.254/", "token endpoint", policy) throws
 * ```
 */
export function checkDiscoveryUrl(
  url: string | URL,
  kind: string,
  policy: DiscoveryUrlPolicy,
): URL {
  const { server } = policy;
  if (!URL.canParse(url)) throw new UnsafeUrlError(server, kind, url, "it is not a URL");
  const target = new URL(url);
  if (target.protocol === "http:") {
    if (!policy.allowInsecureHttp && !isLoopbackHost(target.hostname)) {
      throw new UnsafeUrlError(
        server,
        kind,
        target,
        `expected https:// (or loopback http://); set "allowInsecureHttp": true on the server ` +
          "to allow plain http",
      );
    }
  } else if (target.protocol !== "https:") {
    throw new UnsafeUrlError(server, kind, target, "expected an https:// URL");
  }
  const serverHost = URL.canParse(policy.serverUrl)
    ? new URL(policy.serverUrl).hostname
    : undefined;
  if (serverHost !== undefined && target.hostname === serverHost) return target;
  const targetClass = hostClass(target.hostname);
  if (targetClass === "public") return target;
  const serverClass = serverHost === undefined ? "public" : hostClass(serverHost);
  if (targetClass === "loopback" && serverClass === "loopback") return target;
  const allowed = serverClass === "loopback" ? "loopback and public hosts" : "public hosts";
  const where = serverClass === "loopback" ? "on this machine" : "not on this machine";
  throw new UnsafeUrlError(
    server,
    kind,
    target,
    `it is ${CLASS_NAMES[targetClass]}; the discovery of a server ${where} may lead only to ` +
      `its own host and ${allowed}`,
  );
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Redirects followed per request, as browsers and `fetch` allow. */
const MAX_REDIRECTS = 20;

/**
 * Wraps `base` so every request URL passes {@link checkDiscoveryUrl} (kind `request URL`),
 * and redirects are followed here, each target checked first (kind `redirect target`), so a
 * checked URL cannot redirect to a refused one. A request made with `redirect: "manual"`
 * (oauth4webapi's) gets the redirect response itself. A redirect that would resend a
 * streamed body is not followed: its response is returned.
 * @throws {UnsafeUrlError} for a refused request URL or redirect target.
 */
export function guardDiscoveryFetch(base: typeof fetch, policy: DiscoveryUrlPolicy): typeof fetch {
  return async (input: RequestInfo | URL, init?: RequestInit) => {
    if (input instanceof Request) {
      checkDiscoveryUrl(input.url, "request URL", policy);
      if (init?.redirect === "manual" || input.redirect === "manual") return base(input, init);
      // A Request's body can be sent once: let it through unredirected.
      return base(new Request(input, { ...init, redirect: "manual" }));
    }
    let url = checkDiscoveryUrl(input, "request URL", policy);
    let options: RequestInit = { ...init };
    for (let hop = 0;; hop++) {
      const response = await base(url, { ...options, redirect: "manual" });
      const location = REDIRECT_STATUSES.has(response.status)
        ? response.headers.get("location")
        : null;
      if (location === null || init?.redirect === "manual" || init?.redirect === "error") {
        return response;
      }
      const method = (options.method ?? "GET").toUpperCase();
      const toGet = response.status === 303 && method !== "GET" && method !== "HEAD" ||
        (response.status === 301 || response.status === 302) && method === "POST";
      if (!toGet && options.body instanceof ReadableStream) return response;
      await response.body?.cancel().catch(() => {});
      if (hop >= MAX_REDIRECTS || !URL.canParse(location, url)) {
        throw new AuthError(
          `Cannot follow the redirects of "${displayUrl(url)}" for server "${policy.server}": ${
            hop >= MAX_REDIRECTS ? "too many redirects" : "invalid Location"
          }`,
          { server: policy.server },
        );
      }
      url = checkDiscoveryUrl(new URL(location, url), "redirect target", policy);
      if (toGet) {
        const headers = new Headers(options.headers);
        for (const name of ["content-type", "content-length"]) headers.delete(name);
        options = { ...options, method: "GET", body: undefined, headers };
      }
    }
  };
}

/**
 * Decides whether `url`, sent by an authorization server (a device flow's
 * `verification_uri`, an authorization URL), may be printed for the user and given to the
 * browser opener: https://, or http:// to a loopback host (or any host with
 * `allowInsecureHttp`); never `file:`, `javascript:`, custom schemes or the like.
 * Returns the URL as `URL` serialises it (control characters percent-encoded).
 * @throws {UnsafeUrlError} naming the server, `kind` and the URL (without query).
 */
export function checkBrowserUrl(
  url: string | URL,
  kind: string,
  options: { server: string; allowInsecureHttp: boolean },
): string {
  if (!URL.canParse(url)) throw new UnsafeUrlError(options.server, kind, url, "it is not a URL");
  const parsed = new URL(url);
  const http = parsed.protocol === "http:" &&
    (options.allowInsecureHttp || isLoopbackHost(parsed.hostname));
  if (parsed.protocol !== "https:" && !http) {
    throw new UnsafeUrlError(
      options.server,
      kind,
      parsed,
      "toolscript opens only https:// (or loopback http://) URLs",
    );
  }
  return parsed.href;
}
