import { describe, expect, it } from "vitest";
import { call, createKey, expectError, tenantWithKey } from "../helpers/api";

describe("GET /api/whoami (API.md §12)", () => {
  it("tells a key its tenant, scopes and where the tenant's endpoints answer", async () => {
    const { slug, key } = await tenantWithKey();
    const res = await call("/api/whoami", { token: key });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ principal: "key", tenant: { slug }, endpoints: { path: `http://iota.test/t/${slug}`, host: `http://${slug}.localhost` } });
    expect(res.json.scopes).toContain("scripts:read");
  });

  it("needs no scope, and names the admin's X-Tenant", async () => {
    const { slug } = await tenantWithKey();
    const narrow = await createKey(slug, ["events:publish"]);
    expect((await call("/api/whoami", { token: narrow.key })).json).toMatchObject({ tenant: { slug }, scopes: ["events:publish"] });
    expect((await call("/api/whoami", { tenant: slug })).json).toMatchObject({ principal: "admin", scopes: null, tenant: { slug } });
    expectError(await call("/api/whoami"), 400, "invalid_request");
    expectError(await call("/api/whoami", { tenant: "no-such-tenant" }), 404, "not_found");
    expectError(await call("/api/whoami", { token: null }), 401, "unauthorized");
  });
});
