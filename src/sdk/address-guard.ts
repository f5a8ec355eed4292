/**
 * Which URLs `iota.http` may fetch (API.md §9): http(s) to public hosts only. Pure, so the
 * whole table of spellings is tested without sending a byte.
 *
 * IP literals are judged by their address in every spelling (the WHATWG URL parser already
 * turns decimal, hex, octal and short IPv4 forms into dotted quads; ipaddr.js classifies
 * the result, including IPv4 embedded in IPv6). Host names are judged by name: loopback
 * and internal names are refused. A Worker cannot see which address a public name resolves
 * to; Cloudflare's egress does not reach private networks, which covers the rest.
 */
import ipaddr from "ipaddr.js";

export type UrlVerdict = { ok: true; url: URL } | { ok: false; reason: string };

/** Names that are never public, whatever DNS says. */
const INTERNAL_NAMES = ["localhost", "metadata", "metadata.google.internal", "instance-data"];
const INTERNAL_SUFFIXES = [".localhost", ".local", ".internal", ".home.arpa", ".localdomain", ".lan", ".intranet", ".corp"];

export function checkOutboundUrl(raw: string, allowedHosts: readonly string[] | null = null): UrlVerdict {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: `not a valid URL: ${JSON.stringify(raw.slice(0, 200))}` };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return { ok: false, reason: `only http and https URLs may be fetched, not ${url.protocol}` };
  if (url.username || url.password) return { ok: false, reason: "URLs with credentials are refused" };
  const host = url.hostname.toLowerCase().replace(/\.+$/, "");
  if (host === "") return { ok: false, reason: "the URL has no host" };

  const literal = host.startsWith("[") ? host.slice(1, -1) : host;
  if (ipaddr.isValid(literal)) {
    const problem = addressProblem(ipaddr.parse(literal));
    if (problem) return { ok: false, reason: `${host} is ${problem}` };
  } else {
    if (INTERNAL_NAMES.includes(host) || INTERNAL_SUFFIXES.some((suffix) => host.endsWith(suffix))) {
      return { ok: false, reason: `${host} is not a public host` };
    }
    if (!host.includes(".")) return { ok: false, reason: `${host} is not a public host name (no domain)` };
  }
  if (allowedHosts && !allowedHosts.some((pattern) => hostMatches(host, pattern))) {
    return { ok: false, reason: `${host} is not in this tenant's list of allowed hosts` };
  }
  return { ok: true, url };
}

/** Why an address may not be reached, or null for a public unicast address. */
export function addressProblem(address: ipaddr.IPv4 | ipaddr.IPv6): string | null {
  if (address.kind() === "ipv6") {
    const v6 = address as ipaddr.IPv6;
    // IPv4 carried inside IPv6 (mapped, NAT64, 6to4, Teredo…) is judged as the IPv4 it carries.
    if (v6.isIPv4MappedAddress()) return addressProblem(v6.toIPv4Address());
    const range = v6.range();
    const [, p1 = 0, p2 = 0, , , , p6 = 0, p7 = 0] = v6.parts;
    if (range === "rfc6052" || range === "rfc6145") return addressProblem(ipv4(p6, p7));
    if (range === "6to4") return addressProblem(ipv4(p1, p2));
    return range === "unicast" ? null : `a ${describe(range)} address`;
  }
  const range = (address as ipaddr.IPv4).range();
  return range === "unicast" ? null : `a ${describe(range)} address`;
}

/** The IPv4 address in two 16-bit IPv6 groups. */
function ipv4(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 255, low >> 8, low & 255]);
}

function describe(range: string): string {
  const names: Record<string, string> = {
    loopback: "loopback",
    private: "private",
    linkLocal: "link-local (cloud metadata lives here)",
    carrierGradeNat: "carrier-grade NAT",
    unspecified: "unspecified",
    multicast: "multicast",
    broadcast: "broadcast",
    reserved: "reserved",
    uniqueLocal: "unique-local (private)",
    teredo: "Teredo tunnel",
  };
  return names[range] ?? `non-public (${range})`;
}

/** `example.com` matches itself; `*.example.com` matches its subdomains, not itself. */
export function hostMatches(host: string, pattern: string): boolean {
  const p = pattern.toLowerCase().replace(/\.+$/, "");
  return p.startsWith("*.") ? host.endsWith(p.slice(1)) : host === p;
}
