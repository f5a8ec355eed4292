import { describe, expect, it } from "vitest";
import { ALL_SCOPES, call, createKey, createScript, expectError, tenantWithKey } from "../helpers/api";

describe("authentication (API.md §2)", () => {
  it("refuses a missing, malformed or unknown token with 401", async () => {
    expectError(await call("/api/scripts", { token: null }), 401, "unauthorized");
    expectError(await call("/api/scripts", { token: null, headers: { authorization: "Basic abc" } }), 401, "unauthorized");
    expectError(await call("/api/scripts", { token: "not-the-admin-token" }), 401, "unauthorized");
    expectError(await call("/api/scripts", { token: "isk_" + "A".repeat(43) }), 401, "unauthorized");
    const res = await call("/api/tenants", { token: null });
    expect(res.headers.get("www-authenticate")).toBe("Bearer");
  });

  it("refuses a revoked key on the very next request", async () => {
    const { slug, key, keyId } = await tenantWithKey();
    expect((await call("/api/scripts", { token: key })).status).toBe(200);
    expect((await call(`/api/tenants/${slug}/keys/${keyId}`, { method: "DELETE" })).status).toBe(204);
    expectError(await call("/api/scripts", { token: key }), 401, "unauthorized");
  });

  it("keeps platform routes for the admin: a tenant key gets 403", async () => {
    const { slug, key } = await tenantWithKey();
    expectError(await call("/api/tenants", { token: key }), 403, "forbidden");
    expectError(await call(`/api/tenants/${slug}`, { token: key }), 403, "forbidden");
    expectError(await call(`/api/tenants/${slug}/keys`, { token: key, method: "POST", body: { name: "x", scopes: ["scripts:read"] } }), 403, "forbidden");
  });

  it("makes the admin name a tenant with X-Tenant on tenant routes (400 without, 404 unknown)", async () => {
    const { slug } = await tenantWithKey();
    const error = expectError(await call("/api/scripts"), 400, "invalid_request");
    expect(error.details).toEqual([{ path: "X-Tenant", message: "required" }]);
    expectError(await call("/api/scripts", { tenant: "no-such-tenant" }), 404, "not_found");
    expect((await call("/api/scripts", { tenant: slug })).status).toBe(200);
  });

  it("lets a key act on its own tenant only: another X-Tenant is 403", async () => {
    const a = await tenantWithKey();
    const b = await tenantWithKey();
    expect((await call("/api/scripts", { token: a.key, tenant: a.slug })).status).toBe(200);
    expectError(await call("/api/scripts", { token: a.key, tenant: b.slug }), 403, "forbidden");
  });

  it("answers 404 for another tenant's script, never revealing that it exists", async () => {
    const a = await tenantWithKey();
    const b = await tenantWithKey();
    const script = await createScript(a.key, { name: "secret-thing" });
    const reads = [
      `/api/scripts/${script.id}`,
      `/api/scripts/${script.id}/versions`,
      `/api/scripts/${script.id}/versions/1`,
      `/api/scripts/${script.id}/diff?from=1&to=1`,
    ];
    for (const path of reads) expectError(await call(path, { token: b.key }), 404, "not_found");
    expectError(await call(`/api/scripts/${script.id}`, { token: b.key, method: "PUT", body: { source: "x" } }), 404, "not_found");
    expectError(await call(`/api/scripts/${script.id}`, { token: b.key, method: "DELETE" }), 404, "not_found");
    expectError(await call(`/api/scripts/${script.id}/status`, { token: b.key, method: "PATCH", body: { status: "paused" } }), 404, "not_found");
    expectError(await call(`/api/scripts/${script.id}/versions/1/restore`, { token: b.key, method: "POST" }), 404, "not_found");
    // The admin acting as tenant b does not see it either.
    expectError(await call(`/api/scripts/${script.id}`, { tenant: b.slug }), 404, "not_found");
    // And it is untouched for its owner.
    const own = await call(`/api/scripts/${script.id}`, { token: a.key });
    expect(own.json).toMatchObject({ status: "active", version: 1 });
  });

  it("answers 404 for another tenant's key", async () => {
    const a = await tenantWithKey();
    const b = await tenantWithKey();
    expectError(await call(`/api/tenants/${b.slug}/keys/${a.keyId}`, { method: "DELETE" }), 404, "not_found");
    expect((await call("/api/scripts", { token: a.key })).status).toBe(200);
  });

  describe("scopes: each route opens with its own scope and no other", () => {
    const routes: Array<{ scope: string; method: string; path: (id: string) => string; body?: unknown }> = [
      { scope: "scripts:read", method: "GET", path: () => "/api/scripts" },
      { scope: "scripts:read", method: "GET", path: (id) => `/api/scripts/${id}` },
      { scope: "scripts:read", method: "GET", path: (id) => `/api/scripts/${id}/versions` },
      { scope: "scripts:read", method: "GET", path: (id) => `/api/scripts/${id}/versions/1` },
      { scope: "scripts:read", method: "GET", path: (id) => `/api/scripts/${id}/diff?from=1&to=1` },
      { scope: "scripts:write", method: "POST", path: () => "/api/scripts", body: { name: "made-by-scope", type: "manual", source: "export default () => 1" } },
      { scope: "scripts:write", method: "PUT", path: (id) => `/api/scripts/${id}`, body: { description: "scoped" } },
      { scope: "scripts:write", method: "PATCH", path: (id) => `/api/scripts/${id}/status`, body: { status: "paused" } },
      { scope: "scripts:write", method: "POST", path: (id) => `/api/scripts/${id}/versions/1/restore` },
      { scope: "scripts:write", method: "DELETE", path: (id) => `/api/scripts/${id}` },
    ];
    for (const route of routes) {
      it(`${route.method} ${route.path(":id")} needs ${route.scope}`, async () => {
        const { slug, key } = await tenantWithKey();
        const script = await createScript(key, { name: "scoped" });
        const others = ALL_SCOPES.filter((s) => s !== route.scope);
        const without = await createKey(slug, others);
        const withOnly = await createKey(slug, [route.scope as (typeof ALL_SCOPES)[number]]);
        const request = { method: route.method, body: route.body };
        expectError(await call(route.path(script.id), { ...request, token: without.key }), 403, "forbidden");
        const res = await call(route.path(script.id), { ...request, token: withOnly.key });
        expect(res.status, res.text).toBeLessThan(300);
      });
    }
  });
});
