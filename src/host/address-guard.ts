/**
 * Which URLs `iota.http` may fetch (API.md §9): http(s) to public hosts only. Pure, so the
 * whole table of spellings is tested without sending a byte.
 *
 * IP literals are judged by their address in every spelling (the WHATWG URL parser already
 * turns decimal, hex, octal and short IPv4 forms into dotted quads, and every IPv6 spelling
 * into one compressed form; ipaddr.js classifies the result). Host names are judged by name:
 * loopback and internal names are refused. A Worker cannot see which address a public name
 * resolves to; Cloudflare's egress does not reach private networks, which covers the rest.
 *
 * IPv6, range by range (see addressProblem):
 * - IPv4 carried in IPv6 where the IPv4 address is what a packet reaches is judged as that
 *   IPv4 address: IPv4-mapped `::ffff:0:0/96`, IPv4-translated `::ffff:0:0:0/96`, the
 *   well-known NAT64 prefix `64:ff9b::/96` and 6to4 `2002::/16` (`[::ffff:8.8.8.8]` passes,
 *   `[64:ff9b::10.0.0.1]` and `[2002:7f00:1::]` do not).
 * - Everything outside global unicast `2000::/3` is refused, so no other spelling of IPv4
 *   inside IPv6 gets through: the deprecated IPv4-compatible `::a.b.c.d` (`[::127.0.0.1]`,
 *   `[::7f00:1]`), whatever it carries, the rest of `::/8`, local-use NAT64 `64:ff9b:1::/48`
 *   (a private network's translator), unique-local, link-local, site-local, multicast,
 *   discard.
 * - Inside `2000::/3`, the special-purpose ranges are refused whole: Teredo `2001::/32`
 *   (its client address is obfuscated and its server is a relay), documentation,
 *   benchmarking, ORCHID, AS112, AMT and the other IANA reservations.
 */
import ipaddr from "ipaddr.js";

export type UrlVerdict = { ok: true; url: URL } | { ok: false; reason: string };

/** Names that are never public, whatever DNS says. */
const INTERNAL_NAMES = ["localhost", "metadata", "metadata.google.internal", "instance-data"];
// Names only private resolvers answer: mDNS, RFC 8375, cloud and cluster-internal DNS (Kubernetes services).
const INTERNAL_SUFFIXES = [".localhost", ".local", ".internal", ".home.arpa", ".localdomain", ".lan", ".intranet", ".corp", ".svc", ".cluster.local"];

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
  if (address.kind() === "ipv4") {
    const range = (address as ipaddr.IPv4).range();
    return range === "unicast" ? null : `a ${describe(range)} address`;
  }
  const v6 = address as ipaddr.IPv6;
  const carried = carriedIPv4(v6);
  if (carried) {
    const problem = addressProblem(carried);
    return problem && `${problem} (${carried.toString()}, inside IPv6)`;
  }
  const range = v6.range();
  if (range === "unicast" && !isGlobalUnicast(v6)) return isIPv4Compatible(v6) ? "a deprecated IPv4-compatible address" : "not a global unicast address";
  return range === "unicast" ? null : `a ${describe(range)} address`;
}

/**
 * The IPv4 address an IPv6 address stands for, where packets to it reach that IPv4 address:
 * mapped (`::ffff:a.b.c.d`), translated (`::ffff:0:a.b.c.d`), well-known NAT64
 * (`64:ff9b::a.b.c.d`) and 6to4 (`2002:aabb:ccdd::/48`). Null for any other address.
 */
function carriedIPv4(v6: ipaddr.IPv6): ipaddr.IPv4 | null {
  const [p0, p1, p2, p3, p4, p5, p6, p7] = v6.parts as [number, number, number, number, number, number, number, number];
  const zeros = (...parts: number[]) => parts.every((part) => part === 0);
  if (zeros(p0, p1, p2, p3, p4) && p5 === 0xffff) return ipv4(p6, p7);
  if (zeros(p0, p1, p2, p3, p5) && p4 === 0xffff) return ipv4(p6, p7);
  if (p0 === 0x64 && p1 === 0xff9b && zeros(p2, p3, p4, p5)) return ipv4(p6, p7);
  if (p0 === 0x2002) return ipv4(p1, p2);
  return null;
}

/** `2000::/3`, the only IPv6 space handed out for the public internet. */
function isGlobalUnicast(v6: ipaddr.IPv6): boolean {
  return (v6.parts[0]! & 0xe000) === 0x2000;
}

/** `::a.b.c.d` (RFC 4291 §2.5.5.1, deprecated), other than `::` and `::1`. */
function isIPv4Compatible(v6: ipaddr.IPv6): boolean {
  return v6.parts.slice(0, 6).every((part) => part === 0);
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
    rfc6052: "local-use NAT64",
    deprecatedSiteLocal: "site-local (deprecated, private)",
    discard: "discard-only",
    benchmarking: "benchmarking",
  };
  return names[range] ?? `non-public (${range})`;
}

/** `example.com` matches itself; `*.example.com` matches its subdomains, not itself. */
export function hostMatches(host: string, pattern: string): boolean {
  const p = pattern.toLowerCase().replace(/\.+$/, "");
  return p.startsWith("*.") ? host.endsWith(p.slice(1)) : host === p;
}
