import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import pkg from "../../package.json";

describe("GET /health", () => {
  it("answers ok with the package version once D1 answers", async () => {
    const res = await exports.default.fetch("http://x/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, version: pkg.version });
  });
});
