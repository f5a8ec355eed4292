import { describe, expect, it } from "vitest";
import { auditCount, call, createScript, expectError, HELLO, tenantWithKey, type CallOptions } from "../helpers/api";

/** Requests that must be refused whatever the endpoint: transport-level problems of the body. */
const BODY_PROBLEMS: Array<{ name: string; request: CallOptions; status: number; code: string }> = [
  { name: "malformed JSON", request: { rawBody: "{nope", headers: { "content-type": "application/json" } }, status: 400, code: "invalid_request" },
  { name: "a text content type", request: { rawBody: '{"a":1}', headers: { "content-type": "text/plain" } }, status: 415, code: "unsupported_media_type" },
  { name: "no content type", request: { rawBody: '{"a":1}' }, status: 415, code: "unsupported_media_type" },
  { name: "a form body", request: { rawBody: "a=1&b=2", headers: { "content-type": "application/x-www-form-urlencoded" } }, status: 415, code: "unsupported_media_type" },
  { name: "a body over 1 MiB", request: { rawBody: JSON.stringify({ x: "a".repeat(1024 * 1024) }), headers: { "content-type": "application/json" } }, status: 413, code: "payload_too_large" },
  { name: "JSON null", request: { rawBody: "null", headers: { "content-type": "application/json" } }, status: 400, code: "invalid_request" },
  { name: "a JSON array", request: { body: [1, 2, 3] }, status: 400, code: "invalid_request" },
  { name: "a JSON string", request: { body: "hello" }, status: 400, code: "invalid_request" },
  { name: "JSON nested 10 000 deep", request: { rawBody: "[".repeat(10_000) + "]".repeat(10_000), headers: { "content-type": "application/json" } }, status: 400, code: "invalid_request" },
  { name: "invalid UTF-8", request: { rawBody: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), headers: { "content-type": "application/json" } }, status: 400, code: "invalid_request" },
];

/** Field-level problems per endpoint, each naming the failing field. */
const FIELD_PROBLEMS: Record<string, Array<{ body: unknown; path: string }>> = {
  "POST /api/tenants": [
    { body: { slug: "Bad Slug", name: "x" }, path: "slug" },
    { body: { slug: "a", name: "x" }, path: "slug" },
    { body: { slug: "ok-slug-here", name: "" }, path: "name" },
    { body: { slug: "ok-slug-here", name: 42 }, path: "name" },
    { body: { slug: "ok-slug-here", name: "x", limits: { timeoutMs: "fast" } }, path: "limits.timeoutMs" },
    { body: { slug: "ok-slug-here", name: "x", limits: { warpSpeed: 9 } }, path: "limits" },
    { body: { slug: "ok-slug-here", name: "x", limits: { cpuMs: 1.5 } }, path: "limits.cpuMs" },
    { body: { slug: "ok-slug-here", name: "x", owner: "me" }, path: "" },
  ],
  "POST /api/scripts": [
    { body: { name: "x", type: "cron", source: HELLO }, path: "type" },
    { body: { name: "has space", type: "manual", source: HELLO }, path: "name" },
    { body: { name: "x", type: "manual", source: 42 }, path: "source" },
    { body: { name: "x", type: "manual" }, path: "source" },
    { body: { name: "x", type: "manual", source: HELLO, status: "disabled" }, path: "status" },
    { body: { name: "x", type: "manual", source: HELLO, status: "archived" }, path: "status" },
    { body: { name: "x", type: "http", source: HELLO }, path: "trigger.path" },
    { body: { name: "x", type: "http", source: HELLO, trigger: { path: "no-slash" } }, path: "trigger.path" },
    { body: { name: "x", type: "http", source: HELLO, trigger: { path: "/a/*/b" } }, path: "trigger.path" },
    { body: { name: "x", type: "http", source: HELLO, trigger: { path: "/a/:id/:id" } }, path: "trigger.path" },
    { body: { name: "x", type: "http", source: HELLO, trigger: { path: "/a", methods: ["FETCH"] } }, path: "trigger.methods.0" },
    { body: { name: "x", type: "http", source: HELLO, trigger: { path: "/a", methods: [] } }, path: "trigger.methods" },
    { body: { name: "x", type: "event", source: HELLO, trigger: { eventTypes: ["Order.Created"] } }, path: "trigger.eventTypes.0" },
    { body: { name: "x", type: "event", source: HELLO, trigger: { eventTypes: [] } }, path: "trigger.eventTypes" },
    { body: { name: "x", type: "scheduled", source: HELLO, trigger: { cron: "61 * * * *" } }, path: "trigger.cron" },
    { body: { name: "x", type: "scheduled", source: HELLO, trigger: { cron: "* * * * * *" } }, path: "trigger.cron" },
    { body: { name: "x", type: "scheduled", source: HELLO, trigger: { cron: "* * * * *", timezone: "Mars/Olympus" } }, path: "trigger.timezone" },
    { body: { name: "x", type: "manual", source: HELLO, trigger: { path: "/a" } }, path: "trigger" },
    { body: { name: "x", type: "manual", source: HELLO, limits: { memoryBytes: 128 * 1024 * 1024 } }, path: "limits.memoryBytes" },
  ],
  "PUT /api/scripts/:id": [
    { body: { name: "" }, path: "name" },
    { body: { source: null }, path: "source" },
    { body: { trigger: { path: "/x" } }, path: "trigger" },
    { body: { limits: { timeoutMs: 0 } }, path: "limits.timeoutMs" },
    { body: { version: 7 }, path: "" },
  ],
  "PATCH /api/scripts/:id/status": [
    { body: { status: "deleted" }, path: "status" },
    { body: {}, path: "status" },
  ],
};

async function fixture() {
  const { slug, key } = await tenantWithKey();
  const script = await createScript(key, { name: "target" });
  return { slug, key, script };
}

function target(endpoint: string, id: string) {
  const [method, path] = endpoint.split(" ") as [string, string];
  return { method, path: path.replace(":id", id) };
}

describe("bad input is refused with the §3 envelope and writes nothing", () => {
  const endpoints = ["POST /api/tenants", "POST /api/scripts", "PUT /api/scripts/:id", "PATCH /api/scripts/:id/status", "PATCH /api/tenants/:slug"];
  for (const endpoint of endpoints) {
    for (const problem of BODY_PROBLEMS) {
      it(`${endpoint} with ${problem.name} → ${problem.status}`, async () => {
        const { slug, key, script } = await fixture();
        const { method, path } = target(endpoint, script.id);
        const token = endpoint.includes("tenants") ? undefined : key;
        const before = await auditCount(slug);
        const res = await call(path.replace(":slug", slug), { method, token, ...problem.request });
        expectError(res, problem.status, problem.code);
        expect(await auditCount(slug)).toBe(before);
        expect((await call(`/api/scripts/${script.id}`, { token: key })).json).toEqual(script);
      });
    }
  }

  for (const [endpoint, problems] of Object.entries(FIELD_PROBLEMS)) {
    for (const problem of problems) {
      it(`${endpoint} ${JSON.stringify(problem.body).slice(0, 90)} → 400 at ${problem.path || "(body)"}`, async () => {
        const { slug, key, script } = await fixture();
        const { method, path } = target(endpoint, script.id);
        const token = endpoint.includes("tenants") ? undefined : key;
        const before = await auditCount(slug);
        const error = expectError(await call(path, { method, token, body: problem.body }), 400, "invalid_request");
        expect(error.details.map((d: { path: string }) => d.path)).toContain(problem.path);
        expect(await auditCount(slug)).toBe(before);
        expect((await call(`/api/scripts/${script.id}`, { token: key })).json).toEqual(script);
        expect((await call("/api/scripts", { token: key })).json.items).toHaveLength(1);
        if (endpoint === "POST /api/tenants") expectError(await call("/api/tenants/ok-slug-here"), 404, "not_found");
      });
    }
  }

  it("never answers 500, whatever is thrown at any route", async () => {
    const { slug, key, script } = await fixture();
    const paths = [
      "/api/tenants",
      `/api/tenants/${slug}`,
      `/api/tenants/${slug}/keys`,
      `/api/tenants/${slug}/keys/key_x`,
      "/api/scripts",
      `/api/scripts/${script.id}`,
      `/api/scripts/${script.id}/status`,
      `/api/scripts/${script.id}/versions`,
      `/api/scripts/${script.id}/versions/1`,
      `/api/scripts/${script.id}/versions/1/restore`,
      `/api/scripts/${script.id}/diff?from=1&to=1`,
      "/api/scripts/%00",
      "/api/scripts/scr_'%20OR%201=1--",
      "/api/scripts?q=%27%22%5C%25",
      "/api/scripts?cursor=%FF%FE",
      "/api/nothing-here",
    ];
    const bodies: unknown[] = [undefined, {}, [], "x", 0, null, { name: { $gt: "" } }, { source: "x".repeat(10) }, { status: ["active"] }, { limits: [] }];
    const methods = ["GET", "POST", "PUT", "PATCH", "DELETE"];
    for (const path of paths) {
      for (const method of methods) {
        for (const body of method === "GET" ? [undefined] : bodies) {
          for (const token of [key, undefined]) {
            const res = await call(path, { method, token, tenant: token ? undefined : slug, body });
            expect(res.status, `${method} ${path} ${JSON.stringify(body)} → ${res.text}`).toBeLessThan(500);
            if (res.status >= 400) expect(res.json?.error?.code, `${method} ${path}`).toBeTypeOf("string");
          }
        }
      }
    }
    // About 1 300 requests: the bound only guards against a hang (a loaded machine is slow).
  }, 120_000);
});
