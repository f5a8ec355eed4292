import { describe, expect, it } from "vitest";
import readme from "../../README.md?raw";
import sdkDoc from "../../docs/sdk.md?raw";
import { tenantLimits } from "../../src/domain/limits";
import { loadQuickJSWasm } from "../../src/lib/quickjs-wasm";
import { compileScript } from "../../src/sandbox/compile";
import { Sandbox } from "../../src/sandbox/sandbox";
import { jsBlocks, tsBlocks } from "../docs-examples";
import { call, createScript, recordedExecution, recordedExecutions, tenantWithKey } from "../helpers/api";
import { hit } from "../helpers/endpoint";
import { eventually } from "../helpers/wait";

// docs/sdk.md's examples, run as a new user would run them. Outbound requests go to the
// test internet (test/outbound.ts), where api.example.com answers 502.
const examples = jsBlocks(sdkDoc);

describe("docs/sdk.md examples run", () => {
  it("has one example per capability, the tour, the web platform and four Workers-style handlers", () => expect(examples).toHaveLength(12));

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

  it("Coming from Workers: the webhook checks GitHub's signature over the raw body and logs after the response", async () => {
    const { slug, key } = await tenantWithKey();
    await call("/api/secrets/WEBHOOK_SECRET", { method: "PUT", token: key, body: { value: "gh-webhook-secret" } });
    await createScript(key, { name: "github", type: "http", trigger: { path: "/webhooks/github", methods: ["POST"] }, source: examples[8], placement: "cell" });
    const body = '{"action":"opened","number":1}';
    const mac = await crypto.subtle.sign("HMAC", await crypto.subtle.importKey("raw", new TextEncoder().encode("gh-webhook-secret"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]), new TextEncoder().encode(body));
    const signature = `sha256=${[...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
    const headers = { "content-type": "application/json", "x-hub-signature-256": signature, "x-github-delivery": "d-1" };
    const accepted = await hit(slug, "/webhooks/github", { method: "POST", body, headers });
    expect(accepted.status, accepted.text).toBe(202);
    expect(accepted.json).toEqual({ ok: true, action: "opened" });
    const record = await eventually(() => recordedExecution(key, accepted.headers.get("x-iota-execution-id")!), (r) => r.status !== "running", 10_000);
    expect(record.logs.map((l: { message: string }) => l.message)).toEqual(["delivery d-1 opened"]);
    const forged = await hit(slug, "/webhooks/github", { method: "POST", body: body.replace("opened", "closed"), headers });
    expect(forged.status).toBe(401);
  });

  it("Coming from Workers: the JSON API routes on the URL, at /t/<slug> and on the tenant's host", async () => {
    const { slug, key } = await tenantWithKey();
    await createScript(key, { name: "books", type: "http", trigger: { path: "/api/*", methods: ["GET", "POST"] }, source: examples[9], placement: "cell" });
    expect((await hit(slug, "/api/books?q=dun")).json).toEqual([{ id: 1, title: "Dune" }]);
    expect((await hit(slug, "/api/books/2", { host: true })).json).toEqual({ id: 2, title: "Solaris" });
    expect((await hit(slug, "/api/books/9")).status).toBe(404);
    const created = await hit(slug, "/api/books", { method: "POST", json: { title: "Ubik" } });
    expect(created.status).toBe(201);
    expect(created.headers.get("location")).toBe(`/t/${slug}/api/books/3`);
    expect((await hit(slug, "/api/books", { method: "POST", body: "nope" })).status).toBe(400);
  });

  it("Coming from Workers: the form post reads form data, sets two cookies and redirects", async () => {
    const { slug, key } = await tenantWithKey();
    await createScript(key, { name: "contact", type: "http", trigger: { path: "/contact", methods: ["POST"] }, source: examples[10], placement: "cell" });
    const form = new FormData();
    form.set("name", "Ada L");
    form.set("attachment", new File([new Uint8Array(5)], "notes.txt"));
    const { exports } = await import("cloudflare:workers");
    const res = await exports.default.fetch(new Request(`http://iota.test/t/${slug}/contact`, { method: "POST", body: form, redirect: "manual" }));
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`http://iota.test/t/${slug}/thanks`);
    expect(res.headers.getSetCookie()).toEqual(["name=Ada%20L; Path=/; HttpOnly", "contacted=1; Path=/; Max-Age=86400"]);
    const record = await recordedExecution(key, res.headers.get("x-iota-execution-id")!);
    expect(record.logs[0].message).toBe("contact from Ada L with notes.txt (5 bytes)");
    expect((await hit(slug, "/contact", { method: "POST", body: new URLSearchParams({ name: "" }) })).status).toBe(400);
  });

  it("Coming from Workers: the PNG leaves byte for byte", async () => {
    const { slug, key } = await tenantWithKey();
    await createScript(key, { name: "pixel", type: "http", trigger: { path: "/pixel.png", methods: ["GET", "HEAD"] }, source: examples[11] });
    const { exports } = await import("cloudflare:workers");
    const res = await exports.default.fetch(new Request(`http://iota.test/t/${slug}/pixel.png`));
    expect(res.headers.get("content-type")).toBe("image/png");
    const png = new Uint8Array(await res.arrayBuffer());
    expect(png).toEqual(Uint8Array.from(atob("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="), (c) => c.charCodeAt(0)));
  });

  it("the README's Workers-style walk-through: the webhook saved as the curl sends it answers as the comments say", async () => {
    const section = readme.slice(readme.indexOf("### A Workers-style script"), readme.indexOf("### Runs, executions, usage"));
    const scriptJson = /-d '(\{\n  "name": "webhook"[\s\S]*?\n\})'/.exec(section)![1]!;
    const secret = /-d '\{"value": "([^"]+)"\}'/.exec(section)![1]!;
    const body = /BODY='([^']+)'/.exec(section)![1]!;
    const { slug, key } = await tenantWithKey();
    await call("/api/secrets/WEBHOOK_SECRET", { method: "PUT", token: key, body: { value: secret } });
    const saved = await call("/api/scripts", { method: "POST", token: key, body: JSON.parse(scriptJson) });
    expect(saved.status, saved.text).toBe(201);
    const mac = await crypto.subtle.sign("HMAC", await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]), new TextEncoder().encode(body));
    const signature = [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
    // curl -d sends a form content type; the handler reads the raw text whatever the type.
    const headers = { "x-signature": signature, "content-type": "application/x-www-form-urlencoded" };
    const onPath = await hit(slug, "/webhook", { method: "POST", body, headers });
    expect(onPath.text).toBe(JSON.stringify({ ok: true, path: `/t/${slug}/webhook`, got: { action: "opened" } }));
    expect(section).toContain(`# {"ok":true,"path":"/t/acme/webhook","got":{"action":"opened"}}`);
    const onHost = await hit(slug, "/webhook", { method: "POST", body, headers, host: true });
    expect(onHost.json).toEqual({ ok: true, path: "/webhook", got: { action: "opened" } });
    const forged = await hit(slug, "/webhook", { method: "POST", body, headers: { ...headers, "x-signature": "00" } });
    expect([forged.status, forged.text]).toEqual([401, "bad signature"]);
    const record = await eventually(() => recordedExecution(key, onPath.headers.get("x-iota-execution-id")!), (r) => r.status !== "running", 10_000);
    expect(record.logs.map((l: { message: string }) => l.message)).toEqual([`verified ${body}`]);
    expect(typeof record.responseMs).toBe("number");
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
