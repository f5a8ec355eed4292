import { describe, expect, it } from "vitest";
import { call, tenantWithKey } from "../helpers/api";
import { resultOf, runScript } from "../helpers/scripts";

// fetch inside scripts, through the API: iota.http underneath (API.md §9, §13). Outbound
// requests land in test/outbound.ts: echo.test, big.test, redirect.test…

describe("fetch (iota.http underneath, through the API)", () => {
  it("sends and receives bytes exactly, and counts as an SDK call", async () => {
    const { key } = await tenantWithKey();
    const execution = await runScript(
      key,
      `const res = await fetch("https://echo.test/up?x=1", { method: "POST", body: new Uint8Array([104, 105, 0, 255]), headers: { "content-type": "application/octet-stream" } });
       const echoed = await res.json();
       return { status: res.status, method: echoed.method, url: echoed.url, type: echoed.headers["content-type"], length: echoed.body.length };`,
    );
    expect(execution.status, JSON.stringify(execution.error)).toBe("completed");
    expect(execution.result).toEqual({ status: 200, method: "POST", url: "https://echo.test/up?x=1", type: "application/octet-stream", length: 4 });
    expect(execution.sdkCalls).toBe(1);
  });

  it("refuses what iota.http refuses, with the same errors", async () => {
    const { key } = await tenantWithKey();
    const result = await resultOf(
      key,
      `const attempt = async (url) => { try { await fetch(url); return "fetched"; } catch (e) { return e.name; } };
       return [await attempt("http://169.254.169.254/latest/meta-data/"), await attempt("http://localhost:8787/api/tenants"), await attempt("https://big.test/"),
         await attempt("https://redirect.test/?to=" + encodeURIComponent("http://10.0.0.1/"))];`,
    );
    expect(result).toEqual(["NetworkPolicyError", "NetworkPolicyError", "ResponseTooLargeError", "NetworkPolicyError"]);
  });

  it("spends the tenant's outboundRequestsPerMinute like iota.http", async () => {
    const { key } = await tenantWithKey({ outboundRequestsPerMinute: 2 });
    const result = await resultOf(key, `const seen = []; for (let i = 0; i < 3; i++) { try { seen.push((await fetch("https://echo.test/")).status); } catch (e) { seen.push(e.name); } } return seen;`);
    expect(result).toEqual([200, 200, "QuotaExceededError"]);
    expect((await call("/api/usage", { token: key })).json.current.outboundRequestsLastMinute).toBe(2);
  });

  it("leaves iota.http as it was: text bodies and json()", async () => {
    const { key } = await tenantWithKey();
    const result = await resultOf(key, `const r = await iota.http.post("https://echo.test/x", { body: { a: 1 } }); return [typeof r.body, r.json().body, r.headers["content-type"]];`);
    expect(result).toEqual(["string", '{"a":1}', "application/json"]);
  });
});
