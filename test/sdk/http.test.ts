import { describe, expect, it } from "vitest";
import { call, tenantWithKey } from "../helpers/api";
import { resultOf, runScript } from "../helpers/scripts";

// Outbound requests land in test/outbound.ts (miniflare's outboundService): echo.test,
// slow.test, big.test, redirect.test and chain.test. Nothing leaves the machine.

const errorOf = (call: string) => `try { ${call}; return "no error"; } catch (e) { return [e.name, e.message]; }`;

describe("iota.http (API.md §9)", () => {
  it("get: status, headers, body, and json()", async () => {
    const { key } = await tenantWithKey();
    const result = await resultOf(key, `const r = await iota.http.get("https://echo.test/path?q=1", { headers: { "X-Token": "t" } }); return { status: r.status, type: r.headers["content-type"], echoed: r.json() };`);
    expect(result).toEqual({
      status: 200,
      type: "application/json",
      echoed: { method: "GET", url: "https://echo.test/path?q=1", headers: expect.objectContaining({ "x-token": "t" }), body: null },
    });
  });

  it("post sends an object body as JSON; fetch sends any method and a text body", async () => {
    const { key } = await tenantWithKey();
    const result = await resultOf(
      key,
      `const posted = (await iota.http.post("https://echo.test/items", { body: { a: 1 } })).json();
       const put = (await iota.http.fetch("https://echo.test/items/1", { method: "PUT", body: "raw", headers: { "content-type": "text/plain" } })).json();
       return { posted, put };`,
    );
    expect(result.posted).toMatchObject({ method: "POST", body: '{"a":1}', headers: { "content-type": "application/json" } });
    expect(result.put).toMatchObject({ method: "PUT", body: "raw", headers: { "content-type": "text/plain" } });
  });

  const refused = ["http://127.0.0.1/", "http://localhost:8787/api/tenants", "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://0x7f.1/", "http://10.0.0.1/", "ftp://echo.test/", "http://metadata.google.internal/"];
  for (const url of refused) {
    it(`throws NetworkPolicyError before connecting to ${url}`, async () => {
      const { key } = await tenantWithKey();
      const [name] = await resultOf(key, errorOf(`await iota.http.get(${JSON.stringify(url)})`));
      expect(name).toBe("NetworkPolicyError");
    });
  }

  it("follows redirects by hand, re-checking each hop: a redirect to a forbidden host is refused", async () => {
    const { key } = await tenantWithKey();
    const followed = await resultOf(key, `const r = await iota.http.get("https://redirect.test/?to=" + encodeURIComponent("https://echo.test/landed")); return [r.status, r.json().url];`);
    expect(followed).toEqual([200, "https://echo.test/landed"]);
    const [name, message] = await resultOf(key, errorOf(`await iota.http.get("https://redirect.test/?to=" + encodeURIComponent("http://169.254.169.254/"))`));
    expect(name).toBe("NetworkPolicyError");
    expect(message).toContain("169.254.169.254");
  });

  it("follows at most 5 redirects", async () => {
    const { key } = await tenantWithKey();
    expect(await resultOf(key, `return (await iota.http.get("https://chain.test/5")).body;`)).toBe("end of chain");
    expect((await resultOf(key, errorOf(`await iota.http.get("https://chain.test/6")`)))[0]).toBe("NetworkError");
  });

  it("turns a POST into a GET on a 303, and keeps it on a 307", async () => {
    const { key } = await tenantWithKey();
    const to = encodeURIComponent("https://echo.test/after");
    const result = await resultOf(
      key,
      `const a = (await iota.http.post("https://redirect.test/?status=303&to=${to}", { body: "x" })).json();
       const b = (await iota.http.post("https://redirect.test/?status=307&to=${to}", { body: "x" })).json();
       return [a.method, a.body, b.method, b.body];`,
    );
    expect(result).toEqual(["GET", null, "POST", "x"]);
  });

  it("refuses a response body past 1 MiB while streaming it", async () => {
    const { key } = await tenantWithKey();
    expect((await resultOf(key, errorOf(`await iota.http.get("https://big.test/")`)))[0]).toBe("ResponseTooLargeError");
  });

  it("times out at timeoutMs, and never later than the execution's own deadline", async () => {
    const { key } = await tenantWithKey();
    // The upstream answers after 3 s, well inside the 10 s default and the 30 s deadline: a
    // TimeoutError can only be timeoutMs's.
    expect((await resultOf(key, errorOf(`await iota.http.get("https://slow.test/?ms=3000", { timeoutMs: 100 })`)))[0]).toBe("TimeoutError");
    const bounded = await runScript(key, `await iota.http.get("https://slow.test/?ms=3000");`, null, { limits: { timeoutMs: 300 } });
    expect(bounded.status).toBe("failed");
    expect(bounded.error?.name).toBe("TimeoutError");
  });

  it("ends a request the deadline would cut early enough for the script to handle its TimeoutError", async () => {
    const { key } = await tenantWithKey();
    const source = `try { await iota.http.get("https://slow.test/?ms=3000"); return "answered"; } catch (e) { return "fallback after " + e.name; }`;
    const handled = await runScript(key, source, null, { limits: { timeoutMs: 300 } });
    expect(handled.status).toBe("completed");
    expect(handled.result).toBe("fallback after TimeoutError");
  });

  it("refuses bad arguments inside the script", async () => {
    const { key } = await tenantWithKey();
    const cases = [
      `iota.http.get(42)`,
      `iota.http.get("https://echo.test/", { method: "POST" })`,
      `iota.http.fetch("https://echo.test/", { method: "TRACE" })`,
      `iota.http.fetch("https://echo.test/", { method: "GET", body: "x" })`,
      `iota.http.get("https://echo.test/", { headers: { "bad header": "x" } })`,
      `iota.http.get("https://echo.test/", { headers: { "x-a": "1\\r\\nx-b: 2" } })`,
      `iota.http.get("https://echo.test/", { headers: { host: "evil.test" } })`,
      `iota.http.get("https://echo.test/", { timeoutMs: -1 })`,
      `iota.http.get("https://echo.test/", { follow: true })`,
    ];
    for (const source of cases) expect((await resultOf(key, errorOf(`await ${source}`)))[0], source).toBe("ValidationError");
  });

  it("caps outbound requests per execution and per minute with QuotaExceededError", async () => {
    const perMinute = await tenantWithKey({ outboundRequestsPerMinute: 2 });
    const result = await resultOf(perMinute.key, `const seen = []; for (let i = 0; i < 3; i++) { try { seen.push((await iota.http.get("https://echo.test/")).status); } catch (e) { seen.push(e.name); } } return seen;`);
    expect(result).toEqual([200, 200, "QuotaExceededError"]);
    expect((await call("/api/usage", { token: perMinute.key })).json.current.outboundRequestsLastMinute).toBe(2);

    const perExecution = await tenantWithKey({ outboundRequestsPerMinute: 1000, sdkCallsPerExecution: 100 });
    const count = await resultOf(perExecution.key, `let ok = 0; try { for (;;) { await iota.http.get("https://echo.test/"); ok++; } } catch (e) { return [ok, e.name]; }`);
    expect(count).toEqual([50, "QuotaExceededError"]);
  });

  it("applies the tenant's host allow-list", async () => {
    const { slug, key } = await tenantWithKey();
    await call(`/api/tenants/${slug}`, { method: "PATCH", body: { allowedHosts: ["echo.test"] } });
    expect(await resultOf(key, `return (await iota.http.get("https://echo.test/")).status;`)).toBe(200);
    expect((await resultOf(key, errorOf(`await iota.http.get("https://chain.test/0")`)))[0]).toBe("NetworkPolicyError");
    // A redirect off the list is refused too.
    const to = encodeURIComponent("https://chain.test/0");
    await call(`/api/tenants/${slug}`, { method: "PATCH", body: { allowedHosts: ["echo.test", "redirect.test"] } });
    expect((await resultOf(key, errorOf(`await iota.http.get("https://redirect.test/?to=${to}")`)))[0]).toBe("NetworkPolicyError");
    const tenant = await call(`/api/tenants/${slug}`);
    expect(tenant.json.allowedHosts).toEqual(["echo.test", "redirect.test"]);
  });
});
