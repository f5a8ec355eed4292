import { describe, expect, it } from "vitest";
import sdkDoc from "../../docs/sdk.md?raw";
import { tenantLimits } from "../../src/domain/limits";
import { loadQuickJSWasm } from "../../src/lib/quickjs-wasm";
import { compileScript } from "../../src/sandbox/compile";
import { Sandbox } from "../../src/sandbox/sandbox";
import { jsBlocks, tsBlocks } from "../docs-examples";
import { call, createScript, recordedExecution, recordedExecutions, tenantWithKey } from "../helpers/api";
import { hit } from "../helpers/endpoint";

// docs/sdk.md's examples, run as a new user would run them. Outbound requests go to the
// test internet (test/outbound.ts), where api.example.com answers 502.
const examples = jsBlocks(sdkDoc);

describe("docs/sdk.md examples run", () => {
  it("has one example per capability, the tour and the web platform", () => expect(examples).toHaveLength(8));

  const manual: Array<[string, number, unknown, (result: any) => void]> = [
    ["iota.db", 0, null, (r) => expect(r).toMatchObject({ id: expect.stringMatching(/^doc_/), paid: 1, open: 0, removed: true })],
    ["iota.http", 1, null, (r) => expect(r).toEqual({ status: 502 })],
    ["iota.secrets", 2, null, (r) => expect(r).toEqual({ status: 502 })],
    ["iota.log", 3, null, (r) => expect(r).toBe("logged")],
    ["iota.events", 4, { orderId: "o-1" }, (r) => expect(r).toEqual({ eventId: expect.stringMatching(/^evt_/) })],
  ];
  for (const [what, index, input, check] of manual) {
    it(`${what} example`, async () => {
      const { key } = await tenantWithKey();
      await call("/api/secrets/API_TOKEN", { method: "PUT", token: key, body: { value: "tok-123456" } });
      const script = await createScript(key, { name: `example-${index}`, source: examples[index] });
      const run = await call(`/api/scripts/${script.id}/run`, { method: "POST", token: key, body: { input } });
      expect(run.json.status, JSON.stringify(run.json.error)).toBe("completed");
      check(run.json.result);
    });
  }

  it("the web platform example: a webhook signature, URL and fetch", async () => {
    const { key } = await tenantWithKey();
    const script = await createScript(key, { name: "example-web", source: examples[7] });
    const mac = await crypto.subtle.sign("HMAC", await crypto.subtle.importKey("raw", new TextEncoder().encode("dev-secret"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]), new TextEncoder().encode("hello"));
    const signature = [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
    const valid = await call(`/api/scripts/${script.id}/run`, { method: "POST", token: key, body: { input: { payload: "hello", signature } } });
    expect(valid.json.status, JSON.stringify(valid.json.error)).toBe("completed");
    expect(valid.json.result).toEqual({ valid: true, upstream: 502, query: "?since=1970-01-01T00%3A00%3A00.000Z" });
    const forged = await call(`/api/scripts/${script.id}/run`, { method: "POST", token: key, body: { input: { payload: "hello", signature: "00".repeat(32) } } });
    expect(forged.json.result).toMatchObject({ valid: false });
  });

  it("iota.NonRetriableError example", async () => {
    const compiled = compileScript(examples[5]!);
    if (!compiled.ok) throw new Error(JSON.stringify(compiled.diagnostics));
    const sandbox = new Sandbox({ wasmModule: loadQuickJSWasm, memoryBudgetBytes: 64 * 1024 * 1024 });
    const event = { id: "evt_1", type: "user.created", payload: {}, publishedAt: new Date().toISOString(), source: "api" };
    const result = await sandbox.execute({ tenant: "docs", scriptKey: "nonretriable", script: compiled.script, event, ctx: {}, limits: tenantLimits({}) });
    expect(result.error?.name).toBe("NonRetriableError");
    sandbox.dispose();
  });

  it("the TypeScript example: saved as TypeScript, it quotes, and its error names the TypeScript line and column", async () => {
    const [source] = tsBlocks(sdkDoc);
    expect(tsBlocks(sdkDoc)).toHaveLength(3);
    const { slug, key } = await tenantWithKey();
    await createScript(key, { name: "quote", type: "http", language: "typescript", trigger: { path: "/quote", methods: ["POST"] }, source });
    const quote = await hit(slug, "/quote", { method: "POST", json: { items: [{ sku: "a", price: 2.5, qty: 4 }] } });
    expect(quote.json).toEqual({ items: 1, total: 10, currency: "EUR" });
    const failed = await hit(slug, "/quote", { method: "POST", json: { items: [] } });
    expect(failed.status).toBe(500);
    const record = await recordedExecution(key, failed.json.error.details.executionId);
    // The position the page quotes.
    expect(record.error).toMatchObject({ name: "RangeError", stack: expect.stringContaining("script.js:12:72") });
    expect(sdkDoc).toContain("`script.js:12:72`");
  });

  it("the modules example: a TypeScript http script importing a shared module and an allowed package", async () => {
    const [, money, order] = tsBlocks(sdkDoc);
    const { slug, key } = await tenantWithKey();
    await createScript(key, { name: "money", type: "module", language: "typescript", source: money });
    await createScript(key, { name: "order", type: "http", language: "typescript", trigger: { path: "/order", methods: ["POST"] }, source: order });
    const ok = await hit(slug, "/order", { method: "POST", json: { lines: [{ price: "0.10", qty: 3 }, { price: "0.20", qty: 1 }] } });
    expect(ok.json, ok.text).toEqual({ total: "0.50", currency: "EUR" });
    expect(sdkDoc).toContain('answers `{"total": "0.50", "currency": "EUR"}`');
    const bad = await hit(slug, "/order", { method: "POST", json: { lines: [] } });
    expect(bad.status).toBe(400);
    expect(bad.json.errors).toHaveLength(1);
    const [record] = await recordedExecutions(key, 2, "?limit=2");
    expect(record.modules).toEqual([{ name: "money", version: 1 }]);
  });

  it("the tour: every SDK member, through an HTTP endpoint, as the docs show", async () => {
    const { slug, key } = await tenantWithKey();
    await call("/api/secrets/GREETING", { method: "PUT", token: key, body: { value: "welcome back" } });
    await createScript(key, { name: "tour", type: "http", trigger: { path: "/tour/:name", methods: ["POST"] }, source: examples[6] });
    const first = await hit(slug, "/tour/ada", { method: "POST", json: { note: "hi" } });
    expect(first.status).toBe(201);
    expect(first.json).toEqual({ message: "welcome back, ada", visits: 1, upstream: 502 });
    expect(first.headers.get("x-visits")).toBe("1");
    const second = await hit(slug, "/tour/ada", { method: "POST", json: {} });
    expect(second.json.visits).toBe(2);
    const [execution] = await recordedExecutions(key, 2, "?limit=2");
    expect(execution).toMatchObject({ trigger: "http", status: "completed", sdkCalls: 5 });
    expect(execution.logs[0].message).toBe(`tour for ada in ${slug}`);
  });
});
