import { describe, expect, it } from "vitest";
import { call, createScript, expectError, HELLO, tenantWithKey } from "../helpers/api";

describe("scripts (API.md §6)", () => {
  it("creates a script at version 1, active unless told otherwise, and reads it back with an ETag", async () => {
    const { key } = await tenantWithKey();
    const res = await call("/api/scripts", {
      method: "POST",
      token: key,
      body: { name: "orders-api", type: "http", source: HELLO, description: "Orders", trigger: { path: "/orders/:id", methods: ["GET", "POST"] } },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.json).toMatchObject({
      name: "orders-api",
      description: "Orders",
      type: "http",
      status: "active",
      version: 1,
      source: HELLO,
      trigger: { path: "/orders/:id", methods: ["GET", "POST"] },
      limits: {},
    });
    expect(res.json.id).toMatch(/^scr_/);
    expect(res.headers.get("etag")).toBe('"1"');
    const got = await call(`/api/scripts/${res.json.id}`, { token: key });
    expect(got.json).toEqual(res.json);
    expect(got.headers.get("etag")).toBe('"1"');
  });

  it("fills trigger defaults per type", async () => {
    const { key } = await tenantWithKey();
    const http = await createScript(key, { name: "h", type: "http", trigger: { path: "/hello/" } });
    expect(http.trigger).toEqual({ path: "/hello", methods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] });
    const scheduled = await createScript(key, { name: "s", type: "scheduled", trigger: { cron: "*/5 * * * *" } });
    expect(scheduled.trigger).toEqual({ cron: "*/5 * * * *", timezone: "UTC", allowOverlap: false });
    const event = await createScript(key, { name: "e", type: "event", trigger: { eventTypes: ["order.*", "order.*"] } });
    expect(event.trigger).toEqual({ eventTypes: ["order.*"] });
    const manual = await createScript(key, { name: "m", type: "manual", status: "draft" });
    expect(manual).toMatchObject({ trigger: {}, status: "draft" });
  });

  it("keeps names unique per tenant (409), but two tenants may share a name", async () => {
    const a = await tenantWithKey();
    const b = await tenantWithKey();
    await createScript(a.key, { name: "same" });
    expectError(await call("/api/scripts", { method: "POST", token: a.key, body: { name: "same", type: "manual", source: HELLO } }), 409, "conflict");
    await createScript(b.key, { name: "same" });
  });

  it("keeps an http path unique per tenant and method, parameter names aside", async () => {
    const { key } = await tenantWithKey();
    await createScript(key, { name: "one", type: "http", trigger: { path: "/orders/:id", methods: ["GET"] } });
    const clash = await call("/api/scripts", {
      method: "POST",
      token: key,
      body: { name: "two", type: "http", source: HELLO, trigger: { path: "/orders/:orderId", methods: ["POST", "GET"] } },
    });
    const error = expectError(clash, 409, "conflict");
    expect(error.message).toContain("GET (script one)");
    // The refused script was not written, in whole or in part.
    const list = await call("/api/scripts", { token: key });
    expect(list.json.items.map((s: { name: string }) => s.name)).toEqual(["one"]);
    // Another method on the same path is free.
    await createScript(key, { name: "three", type: "http", trigger: { path: "/orders/:x", methods: ["POST"] } });
  });

  it("updates name and description in place without a new version, and a message alone changes nothing", async () => {
    const { key } = await tenantWithKey();
    const script = await createScript(key, { name: "before" });
    const renamed = await call(`/api/scripts/${script.id}`, { method: "PUT", token: key, body: { name: "after", description: "new" } });
    expect(renamed.json).toMatchObject({ name: "after", description: "new", version: 1 });
    const messageOnly = await call(`/api/scripts/${script.id}`, { method: "PUT", token: key, body: { message: "nothing" } });
    expect(messageOnly.json.version).toBe(1);
    const sameSource = await call(`/api/scripts/${script.id}`, { method: "PUT", token: key, body: { source: HELLO } });
    expect(sameSource.json.version).toBe(1);
    const versions = await call(`/api/scripts/${script.id}/versions`, { token: key });
    expect(versions.json.items).toHaveLength(1);
  });

  it("makes a new version for a changed source, trigger or limits", async () => {
    const { key } = await tenantWithKey();
    const script = await createScript(key, { name: "v", type: "http", trigger: { path: "/v" } });
    const v2 = await call(`/api/scripts/${script.id}`, { method: "PUT", token: key, body: { source: HELLO + "// 2\n", message: "two" } });
    expect(v2.json.version).toBe(2);
    expect(v2.headers.get("etag")).toBe('"2"');
    const v3 = await call(`/api/scripts/${script.id}`, { method: "PUT", token: key, body: { trigger: { path: "/v3" } } });
    expect(v3.json).toMatchObject({ version: 3, trigger: { path: "/v3" } });
    const v4 = await call(`/api/scripts/${script.id}`, { method: "PUT", token: key, body: { limits: { timeoutMs: 500 } } });
    expect(v4.json).toMatchObject({ version: 4, limits: { timeoutMs: 500 } });
    // The old route was freed when the trigger moved.
    await createScript(key, { name: "takes-old-route", type: "http", trigger: { path: "/v" } });
  });

  it("refuses to change the type (400) and refuses limits above the tenant's (400)", async () => {
    const { key } = await tenantWithKey({ timeoutMs: 2000 });
    const script = await createScript(key, { name: "typed" });
    const typeError = expectError(await call(`/api/scripts/${script.id}`, { method: "PUT", token: key, body: { type: "http" } }), 400, "invalid_request");
    expect(typeError.details).toEqual([{ path: "type", message: "is manual" }]);
    const limitError = expectError(
      await call(`/api/scripts/${script.id}`, { method: "PUT", token: key, body: { limits: { timeoutMs: 3000 } } }),
      400,
      "invalid_request",
    );
    expect(limitError.details[0].path).toBe("limits.timeoutMs");
    // Tenant-wide limits cannot be set per script at all.
    const tenantOnly = expectError(
      await call(`/api/scripts/${script.id}`, { method: "PUT", token: key, body: { limits: { concurrency: 1 } } }),
      400,
      "invalid_request",
    );
    expect(tenantOnly.details[0].path).toBe("limits");
    expect((await call(`/api/scripts/${script.id}`, { token: key })).json.version).toBe(1);
  });

  it("refuses a source over the tenant's sourceBytes with 413, counting UTF-8 bytes", async () => {
    const { key } = await tenantWithKey({ sourceBytes: 1024 });
    const fits = "export default () => 1;//" + "a".repeat(1024 - 25);
    await createScript(key, { name: "fits", source: fits });
    // 400 characters of a 3-byte character: 1200 bytes.
    const over = "export default () => 1;//" + "€".repeat(400);
    expectError(await call("/api/scripts", { method: "POST", token: key, body: { name: "over", type: "manual", source: over } }), 413, "payload_too_large");
  });

  describe("status", () => {
    it("moves between draft, active and paused, without a new version", async () => {
      const { key } = await tenantWithKey();
      const script = await createScript(key, { name: "s" });
      for (const status of ["paused", "draft", "active"]) {
        const res = await call(`/api/scripts/${script.id}/status`, { method: "PATCH", token: key, body: { status } });
        expect(res.json).toMatchObject({ status, version: 1 });
      }
    });

    it("lets only the admin set or lift disabled", async () => {
      const { slug, key } = await tenantWithKey();
      const script = await createScript(key, { name: "d" });
      expectError(await call(`/api/scripts/${script.id}/status`, { method: "PATCH", token: key, body: { status: "disabled" } }), 403, "forbidden");
      const disabled = await call(`/api/scripts/${script.id}/status`, { method: "PATCH", tenant: slug, body: { status: "disabled" } });
      expect(disabled.json.status).toBe("disabled");
      expectError(await call(`/api/scripts/${script.id}/status`, { method: "PATCH", token: key, body: { status: "active" } }), 403, "forbidden");
      const lifted = await call(`/api/scripts/${script.id}/status`, { method: "PATCH", tenant: slug, body: { status: "active" } });
      expect(lifted.json.status).toBe("active");
    });

    it("archives with DELETE: hidden from lists, readable, name kept, route freed, back only as draft", async () => {
      const { key } = await tenantWithKey();
      const script = await createScript(key, { name: "arch", type: "http", trigger: { path: "/arch", methods: ["GET"] } });
      expect((await call(`/api/scripts/${script.id}`, { method: "DELETE", token: key })).status).toBe(204);
      expect((await call(`/api/scripts/${script.id}`, { method: "DELETE", token: key })).status).toBe(204);
      expect((await call("/api/scripts", { token: key })).json.items).toEqual([]);
      const archived = await call("/api/scripts?status=archived", { token: key });
      expect(archived.json.items.map((s: { id: string }) => s.id)).toEqual([script.id]);
      expect((await call(`/api/scripts/${script.id}`, { token: key })).json.status).toBe("archived");
      expectError(await call("/api/scripts", { method: "POST", token: key, body: { name: "arch", type: "manual", source: HELLO } }), 409, "conflict");
      expectError(await call(`/api/scripts/${script.id}`, { method: "PUT", token: key, body: { source: HELLO + "\n" } }), 409, "conflict");
      expectError(await call(`/api/scripts/${script.id}/status`, { method: "PATCH", token: key, body: { status: "active" } }), 409, "conflict");
      // The route is free while archived …
      const other = await createScript(key, { name: "other", type: "http", trigger: { path: "/arch", methods: ["GET"] } });
      // … so coming back to draft while another script holds it is a conflict.
      expectError(await call(`/api/scripts/${script.id}/status`, { method: "PATCH", token: key, body: { status: "draft" } }), 409, "conflict");
      await call(`/api/scripts/${other.id}`, { method: "DELETE", token: key });
      const back = await call(`/api/scripts/${script.id}/status`, { method: "PATCH", token: key, body: { status: "draft" } });
      expect(back.json.status).toBe("draft");
    });
  });

  describe("list", () => {
    it("filters by type, status and q (name or description, case-insensitive, % taken literally)", async () => {
      const { key } = await tenantWithKey();
      await createScript(key, { name: "alpha", description: "Billing report" });
      await createScript(key, { name: "beta", type: "http", trigger: { path: "/b" } });
      await createScript(key, { name: "gamma_100", description: "100% done", status: "paused" });
      const names = async (query: string) =>
        (await call(`/api/scripts?${query}`, { token: key })).json.items.map((s: { name: string }) => s.name).sort();
      expect(await names("type=http")).toEqual(["beta"]);
      expect(await names("status=paused")).toEqual(["gamma_100"]);
      expect(await names("q=BILLING")).toEqual(["alpha"]);
      expect(await names("q=100%25")).toEqual(["gamma_100"]);
      expect(await names("q=a_1")).toEqual(["gamma_100"]);
      expect(await names("q=%25")).toEqual(["gamma_100"]);
      expect(await names("")).toEqual(["alpha", "beta", "gamma_100"]);
      const item = (await call("/api/scripts?type=http", { token: key })).json.items[0];
      expect(item).not.toHaveProperty("source");
    });

    it("pages newest first with a stable cursor, even while scripts are being created", async () => {
      const { key } = await tenantWithKey();
      const created: string[] = [];
      for (let i = 0; i < 7; i++) created.push((await createScript(key, { name: `p${i}` })).id);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: Awaited<ReturnType<typeof call>> = await call(`/api/scripts?limit=3${cursor ? `&cursor=${cursor}` : ""}`, { token: key });
        expect(res.status).toBe(200);
        seen.push(...res.json.items.map((s: { id: string }) => s.id));
        cursor = res.json.nextCursor;
        pages += 1;
        // Writes between pages never shift what is left to read.
        await createScript(key, { name: `new${pages}` });
      } while (cursor);
      expect(seen).toEqual([...created].reverse());
      expect(pages).toBe(3);
    });

    it("refuses a malformed cursor or an out-of-range limit with 400", async () => {
      const { key } = await tenantWithKey();
      expectError(await call("/api/scripts?cursor=garbage", { token: key }), 400, "invalid_request");
      expectError(await call("/api/scripts?limit=201", { token: key }), 400, "invalid_request");
      expectError(await call("/api/scripts?limit=0", { token: key }), 400, "invalid_request");
      expectError(await call("/api/scripts?limit=abc", { token: key }), 400, "invalid_request");
      expectError(await call("/api/scripts?status=deleted", { token: key }), 400, "invalid_request");
    });
  });
});
