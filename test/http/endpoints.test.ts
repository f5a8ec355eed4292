import { describe, expect, it } from "vitest";
import { call, createScript, expectError, recordedExecutions, tenantWithKey } from "../helpers/api";
import { hit } from "../helpers/endpoint";

async function endpoint(source: string, trigger: Record<string, unknown> = { path: "/it" }, limits?: Record<string, number>) {
  const { slug, key } = await tenantWithKey(limits);
  const script = await createScript(key, { name: "endpoint", type: "http", trigger, source });
  return { slug, key, script };
}

const ECHO = "export default async (event, ctx) => ({ event, trigger: ctx.trigger });";

describe("tenant endpoints: ANY /t/:tenant/* (API.md §7)", () => {
  it("gives the script method, path, params, query, headers and a parsed JSON body", async () => {
    const { slug } = await endpoint(ECHO, { path: "/orders/:id", methods: ["POST"] });
    const res = await hit(slug, "/orders/42?tag=a&tag=b&x=1", { method: "POST", json: { qty: 2 }, headers: { "X-Custom": "yes" } });
    expect(res.status).toBe(200);
    expect(res.json.trigger).toBe("http");
    expect(res.json.event).toMatchObject({
      method: "POST",
      path: "/orders/42",
      params: { id: "42" },
      query: { tag: ["a", "b"], x: "1" },
      headers: { "x-custom": "yes", "content-type": "application/json" },
      body: { qty: 2 },
    });
    expect(res.headers.get("x-iota-execution-id")).toMatch(/^exe_/);
  });

  it("gives a text body as text and answers invalid JSON with 400 before the script runs", async () => {
    const { slug, key } = await endpoint(ECHO, { path: "/in", methods: ["POST"] });
    const text = await hit(slug, "/in", { method: "POST", body: "plain words", headers: { "content-type": "text/plain" } });
    expect(text.json.event.body).toBe("plain words");
    const bad = await hit(slug, "/in", { method: "POST", body: "{broken", headers: { "content-type": "application/json" } });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ code: "invalid_request", details: [{ path: "", message: expect.stringContaining("not valid JSON") }] });
    // Only the text request ran.
    expect(await recordedExecutions(key, 1)).toHaveLength(1);
  });

  it("maps {status, headers, body}, drops hop-by-hop headers, and sends strings as text", async () => {
    const { slug } = await endpoint(
      "export default () => ({ status: 201, headers: { 'X-Made': 'yes', Connection: 'close', 'Transfer-Encoding': 'chunked' }, body: 'created' });",
    );
    const res = await hit(slug, "/it");
    expect(res.status).toBe(201);
    expect(res.text).toBe("created");
    expect(res.headers.get("x-made")).toBe("yes");
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(res.headers.get("connection")).toBeNull();
    expect(res.headers.get("transfer-encoding")).toBeNull();
  });

  it("answers undefined with 204 and any other value as JSON", async () => {
    const empty = await endpoint("export default () => {};");
    expect((await hit(empty.slug, "/it")).status).toBe(204);
    const list = await endpoint("export default () => [1, 2, 3];");
    const res = await hit(list.slug, "/it");
    expect(res.json).toEqual([1, 2, 3]);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
  });

  it("answers a thrown error with 500 script_error and a timeout with 504 script_timeout", async () => {
    const thrown = await endpoint("export default () => { throw new Error('secret detail'); };");
    const error = await hit(thrown.slug, "/it");
    expect(error.status).toBe(500);
    expect(error.json.error).toMatchObject({ code: "script_error", details: { executionId: expect.stringMatching(/^exe_/) } });
    expect(error.text).not.toContain("secret detail");
    const slow = await endpoint("export default () => { for (;;) {} };", { path: "/it" }, { timeoutMs: 200 });
    const timeout = await hit(slow.slug, "/it");
    expect(timeout.status).toBe(504);
    expect(timeout.json.error.code).toBe("script_timeout");
    const invalid = await endpoint("export default () => ({ status: 42 });");
    expect((await hit(invalid.slug, "/it")).json.error.code).toBe("script_error");
  });

  it("drops the body of a 204, 205 or 304 and answers normally, with the execution id", async () => {
    const { slug } = await endpoint("export default (e) => ({ status: Number(e.query.status), headers: { 'x-made': 'yes' }, body: 'not sent' });");
    for (const status of [204, 205, 304]) {
      const res = await hit(slug, `/it?status=${status}`);
      expect({ status: res.status, text: res.text, made: res.headers.get("x-made") }).toEqual({ status, text: "", made: "yes" });
      expect(res.headers.get("x-iota-execution-id")).toMatch(/^exe_/);
    }
  });

  it("answers a status no response can have with 500 script_error naming it, with the execution id", async () => {
    const { slug } = await endpoint("export default (e) => ({ status: Number(e.query.status), body: 'x' });");
    for (const status of [100, 101, 199, 600, 1000]) {
      const res = await hit(slug, `/it?status=${status}`);
      const error = expectError(res, 500, "script_error");
      expect(error.message).toContain(`invalid status ${status}`);
      expect(error.details.executionId).toMatch(/^exe_/);
      expect(res.headers.get("x-iota-execution-id")).toBe(error.details.executionId);
    }
  });

  it("keeps the platform's x-iota-execution-id and server-timing over a script's", async () => {
    const { slug, key } = await endpoint(
      "export default () => ({ headers: { 'X-Iota-Execution-Id': 'exe_FORGED', 'Server-Timing': 'sandbox;dur=0, db;dur=7' }, body: 'ok' });",
    );
    const res = await hit(slug, "/it");
    expect(res.text).toBe("ok");
    const [execution] = await recordedExecutions(key, 1);
    expect(res.headers.get("x-iota-execution-id")).toBe(execution.id);
    expect(res.headers.get("server-timing")).toMatch(/^placement;desc="(edge|cell)", sandbox;dur=\d+(\.\d+)?, db;dur=7$/);
  });

  it("answers 404 for an unknown tenant, an unknown path, and a method the route does not take", async () => {
    const { slug } = await endpoint(ECHO, { path: "/only-get", methods: ["GET"] });
    expect((await hit("no-such-tenant-x", "/only-get")).json.error.code).toBe("not_found");
    expect((await hit(slug, "/elsewhere")).status).toBe(404);
    const wrongMethod = await hit(slug, "/only-get", { method: "DELETE" });
    expect(wrongMethod.status).toBe(404);
    expect(wrongMethod.json.error.message).toContain("GET");
    expect((await hit(slug, "/only-get", { method: "HEAD" })).status).toBe(200);
  });

  it("reads a percent-encoded slug as the slug: the path after it reaches its own route", async () => {
    const { slug, key } = await endpoint("export default (e) => ({ route: 'root', path: e.path });", { path: "/" });
    await createScript(key, { name: "hello", type: "http", trigger: { path: "/hello" }, source: "export default (e) => ({ route: 'hello', path: e.path });" });
    const encoded = [...slug].map((c, i) => (i === 0 ? `%${c.charCodeAt(0).toString(16)}` : c)).join("");
    expect((await hit(slug, "/hello")).json).toEqual({ route: "hello", path: "/hello" });
    expect((await hit(encoded, "/hello")).json).toEqual({ route: "hello", path: "/hello" });
    expect((await hit(encoded, "/")).json).toEqual({ route: "root", path: "/" });
    expect((await hit(slug, "/h%65llo")).json).toEqual({ route: "hello", path: "/hello" });
    // A slash or anything else escaped in the slug is not a slug: an unknown tenant.
    expectError(await hit(`${slug}%2Fhello`, ""), 404, "not_found");
    expectError(await hit(slug.toUpperCase(), "/hello"), 404, "not_found");
  });

  it("refuses a body over 1 MiB with 413", async () => {
    const { slug } = await endpoint(ECHO, { path: "/big", methods: ["POST"] });
    const res = await hit(slug, "/big", { method: "POST", body: "x".repeat(1024 * 1024 + 1), headers: { "content-type": "text/plain" } });
    expect(res.status).toBe(413);
    expect(res.json.error.code).toBe("payload_too_large");
  });

  it("serves only active scripts, and a save takes effect on the next request", async () => {
    const { slug, key, script } = await endpoint("export default () => 'v1';");
    expect((await hit(slug, "/it")).json).toBe("v1");
    await call(`/api/scripts/${script.id}`, { method: "PUT", token: key, body: { source: "export default () => 'v2';" } });
    expect((await hit(slug, "/it")).json).toBe("v2");
    await call(`/api/scripts/${script.id}`, { method: "PUT", token: key, body: { trigger: { path: "/moved" } } });
    expect((await hit(slug, "/it")).status).toBe(404);
    expect((await hit(slug, "/moved")).json).toBe("v2");
    await call(`/api/scripts/${script.id}/status`, { method: "PATCH", token: key, body: { status: "paused" } });
    expect((await hit(slug, "/moved")).status).toBe(404);
    await call(`/api/scripts/${script.id}/status`, { method: "PATCH", token: key, body: { status: "active" } });
    expect((await hit(slug, "/moved")).status).toBe(200);
  });

  it("records the request with credentials redacted", async () => {
    const { slug, key } = await endpoint("export default (e) => e.headers.authorization;");
    const res = await hit(slug, "/it", { headers: { authorization: "Bearer live-secret" } });
    expect(res.json).toBe("Bearer live-secret");
    const [execution] = await recordedExecutions(key, 1);
    expect(execution.input.headers.authorization).toBe("[redacted]");
    expect(JSON.stringify(execution.input)).not.toContain("live-secret");
  });

  it("keeps tenants apart: the same path on two tenants runs each tenant's own script", async () => {
    const a = await endpoint("export default () => 'a';", { path: "/same" });
    const b = await endpoint("export default () => 'b';", { path: "/same" });
    expect((await hit(a.slug, "/same")).json).toBe("a");
    expect((await hit(b.slug, "/same")).json).toBe("b");
    expectError(await call(`/api/executions`, { token: a.key, tenant: b.slug }), 403, "forbidden");
  });
});

describe("tenant hosts: <slug>.<TENANT_DOMAIN> (API.md §13)", () => {
  it("serves the tenant's endpoints at the root of its host, with the same event", async () => {
    const { slug } = await endpoint(ECHO, { path: "/orders/:id", methods: ["GET"] });
    const onHost = await hit(slug, "/orders/7?x=1", { host: true });
    const underT = await hit(slug, "/orders/7?x=1");
    expect(onHost.status).toBe(200);
    expect(onHost.json.event).toMatchObject({ path: "/orders/7", params: { id: "7" }, query: { x: "1" } });
    expect(onHost.json.event.path).toBe(underT.json.event.path);
  });

  it("gives every path of a tenant host to the tenant: /api and /t there are the tenant's routes", async () => {
    const { slug } = await endpoint("export default (e) => e.path;", { path: "/api/things", methods: ["GET"] });
    const res = await hit(slug, "/api/things", { host: true });
    expect(res.status).toBe(200);
    expect(res.json).toBe("/api/things");
    expectError(await hit(slug, "/t/other", { host: true }), 404, "not_found");
  });

  it("answers 404 for a host whose tenant does not exist", async () => {
    expectError(await hit("no-such-tenant", "/x", { host: true }), 404, "not_found");
  });
});

describe("tenantHostSlug", async () => {
  const { tenantHostSlug } = await import("../../src/http/routes/endpoints");
  const table: Array<[string, string | undefined, string | null]> = [
    ["acme.localhost", "localhost", "acme"],
    ["ACME.LocalHost", "localhost", "acme"],
    ["acme.localhost.", "localhost", "acme"],
    ["acme.scripts.example.com", "scripts.example.com", "acme"],
    ["localhost", "localhost", null],
    ["127.0.0.1", "localhost", null],
    ["a.b.localhost", "localhost", null],
    ["x.localhost", "localhost", null],
    ["acme.localhost", "", null],
    ["acme.localhost", undefined, null],
    ["acme.evil-localhost", "localhost", null],
    ["9acme.localhost", "localhost", null],
  ];
  for (const [host, domain, expected] of table) {
    it(`${host} with TENANT_DOMAIN=${domain} → ${expected}`, () => expect(tenantHostSlug(host, domain)).toBe(expected));
  }
});
