import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../../src/domain/limits";
import { call, createKey, createTenant, expectError, uniqueSlug } from "../helpers/api";
import { eventually } from "../helpers/wait";

describe("tenants (API.md §5)", () => {
  it("creates a tenant with complete limits, defaults filled in", async () => {
    const slug = uniqueSlug();
    const res = await call("/api/tenants", { method: "POST", body: { slug, name: "Acme", limits: { timeoutMs: 1000 } } });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ slug, name: "Acme", limits: { ...DEFAULT_LIMITS, timeoutMs: 1000 } });
    expect(new Date(res.json.createdAt).toString()).not.toBe("Invalid Date");
  });

  it("answers 409 when the slug is taken, and keeps the first tenant", async () => {
    const tenant = await createTenant();
    expectError(await call("/api/tenants", { method: "POST", body: { slug: tenant.slug, name: "Other" } }), 409, "conflict");
    expect((await call(`/api/tenants/${tenant.slug}`)).json.name).toBe(tenant.name);
  });

  it("lists, gets and 404s tenants", async () => {
    const tenant = await createTenant();
    const all = await call("/api/tenants?limit=200");
    expect(all.status).toBe(200);
    // Page through to find it: lists are oldest first and stable.
    let found = all.json.items.some((t: { slug: string }) => t.slug === tenant.slug);
    let cursor = all.json.nextCursor;
    while (!found && cursor) {
      const page = await call(`/api/tenants?limit=200&cursor=${cursor}`);
      found = page.json.items.some((t: { slug: string }) => t.slug === tenant.slug);
      cursor = page.json.nextCursor;
    }
    expect(found).toBe(true);
    expect((await call(`/api/tenants/${tenant.slug}`)).json.slug).toBe(tenant.slug);
    expectError(await call("/api/tenants/does-not-exist"), 404, "not_found");
  });

  it("PATCH merges limits: given fields change, the rest stay, null restores the default", async () => {
    const tenant = await createTenant(uniqueSlug(), { timeoutMs: 1000, cpuMs: 200 });
    const res = await call(`/api/tenants/${tenant.slug}`, { method: "PATCH", body: { name: "Renamed", limits: { cpuMs: 300, concurrency: null } } });
    expect(res.status).toBe(200);
    expect(res.json.name).toBe("Renamed");
    expect(res.json.limits).toEqual({ ...DEFAULT_LIMITS, timeoutMs: 1000, cpuMs: 300 });
    const reset = await call(`/api/tenants/${tenant.slug}`, { method: "PATCH", body: { limits: { timeoutMs: null } } });
    expect(reset.json.limits).toEqual({ ...DEFAULT_LIMITS, cpuMs: 300 });
  });

  it("refuses limits outside the platform's range, naming the field, and changes nothing", async () => {
    const tenant = await createTenant();
    const error = expectError(
      await call(`/api/tenants/${tenant.slug}`, { method: "PATCH", body: { name: "X", limits: { memoryBytes: 65 * 1024 * 1024 } } }),
      400,
      "invalid_request",
    );
    expect(error.details[0].path).toBe("limits.memoryBytes");
    expect((await call(`/api/tenants/${tenant.slug}`)).json).toMatchObject({ name: tenant.name, limits: DEFAULT_LIMITS });
  });
});

describe("keys (API.md §5)", () => {
  it("shows a key once, stores only its hash, and lists it with its prefix", async () => {
    const tenant = await createTenant();
    const created = await createKey(tenant.slug, ["scripts:read", "scripts:write"]);
    expect(created.key).toMatch(/^isk_[A-Za-z0-9_-]{43}$/);
    expect(created.scopes).toEqual(["scripts:read", "scripts:write"]);
    const stored = await env.DB.prepare("SELECT * FROM api_keys WHERE id = ?").bind(created.id).first<Record<string, unknown>>();
    expect(Object.values(stored!)).not.toContain(created.key);
    expect(stored!.hash).toMatch(/^[0-9a-f]{64}$/);

    const list = await call(`/api/tenants/${tenant.slug}/keys`);
    expect(list.json.items).toEqual([
      {
        id: created.id,
        name: "test key",
        scopes: ["scripts:read", "scripts:write"],
        prefix: created.key.slice(0, 8),
        createdAt: expect.any(String),
        lastUsedAt: null,
        revokedAt: null,
      },
    ]);
    expect(JSON.stringify(list.json)).not.toContain(created.key);
  });

  it("records lastUsedAt when a key is used", async () => {
    const tenant = await createTenant();
    const created = await createKey(tenant.slug, ["scripts:read"]);
    expect((await call("/api/scripts", { token: created.key })).status).toBe(200);
    // The touch runs after the answer (waitUntil): wait until it shows.
    const lastUsedAt = await eventually(async () => (await call(`/api/tenants/${tenant.slug}/keys`)).json.items[0].lastUsedAt, (at) => at !== null);
    expect(lastUsedAt).toEqual(expect.any(String));
  });

  it("revokes with 204, keeps the key listed, and revoking again is still 204", async () => {
    const tenant = await createTenant();
    const created = await createKey(tenant.slug, ["scripts:read"]);
    expect((await call(`/api/tenants/${tenant.slug}/keys/${created.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await call(`/api/tenants/${tenant.slug}/keys/${created.id}`, { method: "DELETE" })).status).toBe(204);
    const [listed] = (await call(`/api/tenants/${tenant.slug}/keys`)).json.items;
    expect(listed.revokedAt).not.toBeNull();
    expectError(await call(`/api/tenants/${tenant.slug}/keys/key_nope`, { method: "DELETE" }), 404, "not_found");
  });

  it("refuses unknown scopes and empty scope lists", async () => {
    const tenant = await createTenant();
    const unknown = expectError(await call(`/api/tenants/${tenant.slug}/keys`, { method: "POST", body: { name: "k", scopes: ["scripts:admin"] } }), 400, "invalid_request");
    expect(unknown.details[0].path).toBe("scopes.0");
    expectError(await call(`/api/tenants/${tenant.slug}/keys`, { method: "POST", body: { name: "k", scopes: [] } }), 400, "invalid_request");
    expect((await call(`/api/tenants/${tenant.slug}/keys`)).json.items).toEqual([]);
  });
});
