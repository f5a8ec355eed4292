import { describe, expect, it } from "vitest";
import { checkOutboundUrl, hostMatches } from "../../src/host/address-guard";
import { ALLOWED, REFUSED } from "./urls";

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
