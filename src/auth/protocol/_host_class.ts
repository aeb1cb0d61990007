/**
 * Private to src/auth: which kind of network a URL's host names, from the host alone (no DNS):
 * IP literals by their range, `localhost`-style names as loopback, every other name as public.
 * Used by the discovery URL policy (`url_policy.ts`).
 */

/** The kind of address a host is; `public` for every DNS name that is not `localhost`-style. */
export type HostClass =
  | "public"
  | "loopback"
  | "private"
  | "link-local"
  | "unspecified"
  | "multicast"
  | "reserved";

/** Names that resolve to this machine on common systems (RFC 6761 `.localhost`, /etc/hosts). */
const LOOPBACK_NAMES = new Set([
  "localhost",
  "localhost.localdomain",
  "ip6-localhost",
  "ip6-loopback",
]);

/**
 * The class of `hostname` as `URL.hostname` spells it (IPv4 canonical dotted quad, IPv6 in
 * brackets). IPv4-mapped, IPv4-compatible and NAT64 IPv6 addresses take their IPv4's class.
 *
 * @example
 * ```ts
 * import { hostClass } from "./_host_class.ts";
 * hostClass(new URL("http://0x7f.1/").hostname); // "loopback"
 * hostClass("[fe80::1]"); // "link-local"
 * hostClass("mcp.example.com"); // "public"
 * ```
 */
export function hostClass(hostname: string): HostClass {
  const host = hostname.toLowerCase().replace(/\.+$/, "");
  if (host.startsWith("[") && host.endsWith("]")) {
    const groups = parseIpv6(host.slice(1, -1));
    return groups ? ipv6Class(groups) : "reserved";
  }
  const v4 = parseIpv4(host);
  if (v4) return ipv4Class(v4);
  if (LOOPBACK_NAMES.has(host) || host.endsWith(".localhost")) return "loopback";
  return "public";
}

function parseIpv4(host: string): number[] | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!match) return undefined;
  const octets = match.slice(1).map(Number);
  return octets.every((o) => o <= 255) ? octets : undefined;
}

function ipv4Class([a, b]: number[]): HostClass {
  if (a === 0) return "unspecified"; // 0.0.0.0/8, "this network"
  if (a === 127) return "loopback";
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return "private";
  if (a === 100 && b >= 64 && b <= 127) return "private"; // 100.64/10, carrier-grade NAT
  if (a === 169 && b === 254) return "link-local";
  if (a >= 224 && a <= 239) return "multicast";
  if (a >= 240) return "reserved"; // 240/4 and the broadcast address
  return "public";
}

/**
 * Eight 16-bit groups, or undefined when `text` is not IPv6 as `URL` serialises it (hex groups,
 * one `::` at most, no dotted quad).
 */
function parseIpv6(text: string): number[] | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const words = (part: string) => part === "" ? [] : part.split(":");
  const head = words(halves[0]);
  const rest = halves.length === 2 ? words(halves[1]) : [];
  const all = [...head, ...rest];
  if (!all.every((w) => /^[0-9a-f]{1,4}$/.test(w))) return undefined;
  if (halves.length === 1 ? all.length !== 8 : all.length > 7) return undefined;
  const zeros = new Array(8 - all.length).fill(0);
  return [...head.map(hex), ...zeros, ...rest.map(hex)];
}

function hex(word: string): number {
  return Number.parseInt(word, 16);
}

function ipv6Class(g: number[]): HostClass {
  const embeddedV4 = () => ipv4Class([g[6] >> 8, g[6] & 0xff, g[7] >> 8, g[7] & 0xff]);
  const leadingZeros = (n: number) => g.slice(0, n).every((w) => w === 0);
  if (g.every((w) => w === 0)) return "unspecified";
  if (leadingZeros(7) && g[7] === 1) return "loopback";
  if (leadingZeros(5) && g[5] === 0xffff) return embeddedV4(); // ::ffff:a.b.c.d
  if (leadingZeros(6)) return embeddedV4(); // ::a.b.c.d (deprecated IPv4-compatible)
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((w) => w === 0)) {
    return embeddedV4(); // 64:ff9b::/96, NAT64
  }
  if ((g[0] & 0xffc0) === 0xfe80) return "link-local";
  if ((g[0] & 0xfe00) === 0xfc00 || (g[0] & 0xffc0) === 0xfec0) return "private"; // ULA, site-local
  if ((g[0] & 0xff00) === 0xff00) return "multicast";
  return "public";
}
