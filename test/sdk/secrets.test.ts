import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { decryptSecret, encryptSecret, secretsKey } from "../../src/services/secrets";
import { call, createKey, expectError, tenantWithKey } from "../helpers/api";
import { resultOf, runScript } from "../helpers/scripts";

const put = (key: string, name: string, value: unknown) => call(`/api/secrets/${name}`, { method: "PUT", token: key, body: { value } });

describe("secrets API (API.md §9)", () => {
  it("sets, lists by name only, replaces and deletes", async () => {
    const { key } = await tenantWithKey();
    expect((await put(key, "STRIPE_KEY", "sk_live_abc123")).status).toBe(204);
    expect((await put(key, "API_TOKEN", "token-one")).status).toBe(204);
    expect((await put(key, "API_TOKEN", "token-two")).status).toBe(204);
    const list = await call("/api/secrets", { token: key });
    expect(list.json).toEqual({ items: [{ name: "API_TOKEN", updatedAt: expect.any(String) }, { name: "STRIPE_KEY", updatedAt: expect.any(String) }] });
    expect(list.text).not.toContain("sk_live");
    expect((await call("/api/secrets/API_TOKEN", { method: "DELETE", token: key })).status).toBe(204);
    expectError(await call("/api/secrets/API_TOKEN", { method: "DELETE", token: key }), 404, "not_found");
    expect((await call("/api/secrets", { token: key })).json.items.map((s: { name: string }) => s.name)).toEqual(["STRIPE_KEY"]);
  });

  it("needs secrets:manage and valid names and values", async () => {
    const { slug, key } = await tenantWithKey();
    const other = await createKey(slug, ["scripts:read", "scripts:write", "executions:read"]);
    expectError(await call("/api/secrets", { token: other.key }), 403, "forbidden");
    expectError(await put(other.key, "A", "x"), 403, "forbidden");
    expectError(await put(key, "lower_case", "x"), 400, "invalid_request");
    expectError(await put(key, "A", 42), 400, "invalid_request");
    expectError(await put(key, "A", "x".repeat(64 * 1024 + 1)), 400, "invalid_request");
    expect((await call("/api/secrets", { token: key })).json.items).toEqual([]);
  });

  it("refuses a value shorter than 8 characters (it could not be redacted), naming value", async () => {
    const { key } = await tenantWithKey();
    for (const value of ["", "abc", "abcd", "1234567", "😀😀😀😀"]) {
      const error = expectError(await put(key, "SHORT", value), 400, "invalid_request");
      expect(error.details).toEqual([{ path: "value", message: expect.stringContaining("at least 8 characters") }]);
    }
    expect((await call("/api/secrets", { token: key })).json.items).toEqual([]);
    expect((await put(key, "SHORT", "12345678")).status).toBe(204);
  });

  it("stores only AES-GCM ciphertext, with a fresh IV per write", async () => {
    const { slug, key } = await tenantWithKey();
    await put(key, "DB_PASSWORD", "hunter2-hunter2");
    const first = await env.DB.prepare("SELECT * FROM secrets WHERE name = 'DB_PASSWORD' AND tenant_id = (SELECT id FROM tenants WHERE slug = ?)").bind(slug).first<Record<string, string>>();
    await put(key, "DB_PASSWORD", "hunter2-hunter2");
    const second = await env.DB.prepare("SELECT * FROM secrets WHERE name = 'DB_PASSWORD' AND tenant_id = (SELECT id FROM tenants WHERE slug = ?)").bind(slug).first<Record<string, string>>();
    expect(JSON.stringify(first)).not.toContain("hunter2");
    expect(first!.iv).not.toBe(second!.iv);
    expect(first!.ciphertext).not.toBe(second!.ciphertext);
  });

  it("binds tenant and name: a row copied to another tenant or name does not decrypt", async () => {
    const k = await secretsKey(env);
    const sealed = await encryptSecret(k, "ten_A", "TOKEN", "value-1");
    expect(await decryptSecret(k, "ten_A", "TOKEN", sealed)).toBe("value-1");
    expect(await decryptSecret(k, "ten_B", "TOKEN", sealed)).toBeNull();
    expect(await decryptSecret(k, "ten_A", "OTHER", sealed)).toBeNull();
  });
});

describe("iota.secrets.get", () => {
  it("reads the tenant's own secret, null when unset, and sees changes at once", async () => {
    const { key } = await tenantWithKey();
    await put(key, "GREETING", "hello-secret");
    // Results are recorded with secret values redacted, so the script compares for us.
    expect(await resultOf(key, `return [(await iota.secrets.get("GREETING")) === "hello-secret", await iota.secrets.get("MISSING")];`)).toEqual([true, null]);
    await put(key, "GREETING", "changed-secret");
    expect(await resultOf(key, `return (await iota.secrets.get("GREETING")) === "changed-secret";`)).toBe(true);
    await call("/api/secrets/GREETING", { method: "DELETE", token: key });
    expect(await resultOf(key, `return await iota.secrets.get("GREETING");`)).toBeNull();
  });

  it("keeps tenants' secrets apart", async () => {
    const a = await tenantWithKey();
    const b = await tenantWithKey();
    await put(a.key, "SHARED_NAME", "only-for-a");
    expect(await resultOf(b.key, `return await iota.secrets.get("SHARED_NAME");`)).toBeNull();
  });

  it("never records a secret's value in logs, errors or results", async () => {
    const { key } = await tenantWithKey();
    await put(key, "API_KEY", 'sk-"quoted"-value');
    const execution = await runScript(key, `const s = await iota.secrets.get("API_KEY"); console.log("the key is", s); iota.log.error({ s }); throw new Error("failed with " + s);`);
    const recorded = JSON.stringify(execution);
    expect(recorded).not.toContain("quoted");
    expect(execution.logs.map((l) => l.message)).toEqual(["the key is [secret]", '{"s":"[secret]"}']);
    expect(execution.error?.message).toBe("failed with [secret]");
    const returned = await runScript(key, `return { key: await iota.secrets.get("API_KEY") };`);
    expect(returned.result).toEqual({ key: "[secret]" });
  });

  it("never records a secret's value JSON-encoded twice over or percent-encoded, in logs, errors or results", async () => {
    const { key } = await tenantWithKey();
    const secret = 'sk-"q\\uo/te"-Z9x7';
    await put(key, "API_KEY", secret);
    const execution = await runScript(
      key,
      `const s = await iota.secrets.get("API_KEY");
       const twice = JSON.stringify(JSON.stringify(s));
       console.log(twice);
       iota.log.info({ twice });
       console.log("https://api.test/?key=" + encodeURIComponent(s));
       return { twice, thrice: JSON.stringify(twice) };`,
    );
    expect(execution.status).toBe("completed");
    expect(JSON.stringify(execution)).not.toContain("Z9x7");
    expect(execution.logs.map((l) => l.message)).toEqual(['"\\"[secret]\\""', '{"twice":"\\"\\\\\\"[secret]\\\\\\"\\""}', "https://api.test/?key=[secret]"]);
    expect(execution.result).toEqual({ twice: '"\\"[secret]\\""', thrice: '"\\"\\\\\\"[secret]\\\\\\"\\""' });
    const thrown = await runScript(key, `throw new Error("failed: " + JSON.stringify(JSON.stringify(await iota.secrets.get("API_KEY"))));`);
    expect(JSON.stringify(thrown.error)).not.toContain("Z9x7");
  });

  it("refuses an invalid name inside the script", async () => {
    const { key } = await tenantWithKey();
    expect(await resultOf(key, `try { await iota.secrets.get("../etc"); } catch (e) { return e.name; }`)).toBe("ValidationError");
  });
});
