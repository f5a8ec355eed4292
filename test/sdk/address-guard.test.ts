import { describe, expect, it } from "vitest";
import { checkOutboundUrl, hostMatches } from "../../src/sdk/address-guard";

/** Every spelling here must be refused before any connection (API.md §9). */
const REFUSED = [
  // loopback, every spelling
  "http://127.0.0.1/",
  "http://127.1/",
  "http://127.0.1/",
  "http://2130706433/",
  "http://0x7f000001/",
  "http://0x7f.0x0.0x0.0x1/",
  "http://0x7f.1/",
  "http://0177.0.0.1/",
  "http://017700000001/",
  "http://127.000.000.001/",
  "http://127.255.255.254/",
  "http://127.0.0.1.:8080/",
  "http://%31%32%37.0.0.1/",
  "http://[::1]/",
  "http://[0:0:0:0:0:0:0:1]/",
  "http://[::ffff:127.0.0.1]/",
  "http://[::ffff:7f00:1]/",
  "http://[0:0:0:0:0:ffff:127.0.0.1]/",
  "http://[64:ff9b::127.0.0.1]/",
  "http://[2002:7f00:1::]/",
  // IPv4-compatible (deprecated ::a.b.c.d): refused whatever it carries
  "http://[::127.0.0.1]/",
  "http://[::7f00:1]/",
  "http://[0:0:0:0:0:0:127.0.0.1]/",
  "http://[0000:0000:0000:0000:0000:0000:7f00:0001]/",
  "http://[::127.1.2.3]/",
  "http://[::10.0.0.1]/",
  "http://[::169.254.169.254]/",
  "http://[::8.8.8.8]/",
  "http://[::0.0.0.2]/",
  // IPv4-mapped and IPv4-translated, every spelling of the mapped part
  "http://[::ffff:7f00:0001]/",
  "http://[0:0:0:0:0:FFFF:7F00:1]/",
  "http://[::ffff:0:127.0.0.1]/",
  "http://[::ffff:0:a9fe:a9fe]/",
  "http://[::ffff:10.1.2.3]/",
  "http://[::ffff:172.16.0.1]/",
  "http://[::ffff:100.64.0.1]/",
  "http://[::ffff:0.0.0.0]/",
  // NAT64: the well-known prefix judged by the IPv4 it carries; local-use NAT64 refused whole
  "http://[64:ff9b::10.0.0.1]/",
  "http://[64:ff9b::a9fe:a9fe]/",
  "http://[64:ff9b::192.168.0.1]/",
  "http://[64:ff9b::]/",
  "http://[64:ff9b:1::8.8.8.8]/",
  "http://[64:ff9b:1::7f00:1]/",
  // 6to4: judged by the IPv4 in its second and third groups
  "http://[2002:a00:1::1]/",
  "http://[2002:c0a8:101::]/",
  "http://[2002:a9fe:a9fe::1]/",
  "http://[2002:7f00:1:ffff:ffff:ffff:ffff:ffff]/",
  "http://[2002::]/",
  // Teredo, refused whole (an obfuscated client address behind a relay)
  "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
  "http://[2001::80ff:fffe]/",
  "http://[2001:0:a00:1::1]/",
  // the rest of ::/8 and other space outside 2000::/3
  "http://[::2]/",
  "http://[::1:0:0:1]/",
  "http://[::ffff:ffff:7f00:1]/",
  "http://[100::1]/",
  "http://[fec0::1]/",
  "http://[4000::1]/",
  "http://[e000::1]/",
  "http://localhost/",
  "http://LOCALHOST/",
  "http://localhost./",
  "http://localhost:8787/",
  "http://api.localhost/",
  "http://a.b.localhost./",
  // unspecified
  "http://0.0.0.0/",
  "http://0/",
  "http://[::]/",
  // private (RFC 1918) and carrier-grade NAT
  "http://10.0.0.1/",
  "http://10.255.255.255/",
  "http://012.0.0.1/",
  "http://167772161/",
  "http://172.16.0.1/",
  "http://172.31.255.255/",
  "http://192.168.1.1/",
  "http://0xc0.0xa8.1.1/",
  "http://[::ffff:192.168.1.1]/",
  "http://[::ffff:c0a8:101]/",
  "http://100.64.0.1/",
  "http://100.127.255.254/",
  // link-local and metadata
  "http://169.254.169.254/latest/meta-data/",
  "http://169.254.0.1/",
  "http://2852039166/",
  "http://0xa9fea9fe/",
  "http://[fe80::1]/",
  "http://[::ffff:169.254.169.254]/",
  "http://metadata.google.internal/computeMetadata/v1/",
  "http://metadata/",
  "http://instance-data/",
  // IPv6 private, multicast, reserved
  "http://[fd00::1]/",
  "http://[fc00::1]/",
  "http://[ff02::1]/",
  "http://[2001:db8::1]/",
  "http://224.0.0.1/",
  "http://239.255.255.250/",
  "http://255.255.255.255/",
  "http://240.0.0.1/",
  // internal names
  "http://printer.local/",
  "http://db.internal/",
  "http://router.home.arpa/",
  "http://intranet/",
  // other schemes and credentials
  "ftp://example.com/",
  "file:///etc/passwd",
  "data:text/plain,hi",
  "javascript:alert(1)",
  "gopher://example.com/",
  "ws://example.com/",
  "https://user:pass@example.com/",
  "not a url",
  "",
];

const ALLOWED = [
  "https://example.com/",
  "https://api.example.com/v1/items?x=1",
  "http://example.com:8080/path",
  "https://8.8.8.8/",
  "https://1.1.1.1/dns-query",
  "http://[2606:4700:4700::1111]/",
  "https://EXAMPLE.com./",
  "http://93.184.216.34/",
  "http://172.32.0.1/",
  "http://100.128.0.1/",
  "http://[::ffff:8.8.8.8]/",
  "http://[::ffff:0:8.8.8.8]/",
  "http://[64:ff9b::8.8.8.8]/",
  "http://[2002:808:808::1]/",
  "http://[2001:4860:4860::8888]/",
  "http://[2a00:1450:4001:80b::200e]/",
];

describe("outbound address guard", () => {
  it("covers more than 60 refused spellings", () => expect(REFUSED.length).toBeGreaterThan(60));

  for (const url of REFUSED) {
    it(`refuses ${JSON.stringify(url)}`, () => {
      const verdict = checkOutboundUrl(url);
      expect(verdict.ok, url).toBe(false);
    });
  }
  for (const url of ALLOWED) {
    it(`allows ${url}`, () => expect(checkOutboundUrl(url).ok).toBe(true));
  }

  it("names the IPv4 address it judged inside an IPv6 literal", () => {
    expect(checkOutboundUrl("http://[64:ff9b::10.0.0.1]/")).toEqual({ ok: false, reason: expect.stringContaining("10.0.0.1") });
    expect(checkOutboundUrl("http://[::7f00:1]/")).toEqual({ ok: false, reason: expect.stringContaining("IPv4-compatible") });
  });

  it("applies a tenant's allow-list of hosts", () => {
    const list = ["api.example.com", "*.partner.io"];
    expect(checkOutboundUrl("https://api.example.com/x", list).ok).toBe(true);
    expect(checkOutboundUrl("https://eu.partner.io/x", list).ok).toBe(true);
    expect(checkOutboundUrl("https://partner.io/x", list).ok).toBe(false);
    expect(checkOutboundUrl("https://example.com/x", list).ok).toBe(false);
    expect(checkOutboundUrl("http://127.0.0.1/", ["127.0.0.1"]).ok).toBe(false);
    expect(hostMatches("a.b.partner.io", "*.partner.io")).toBe(true);
  });
});
