import { describe, expect, it } from "vitest";
import { call, createScript, expectError, HELLO, tenantWithKey } from "../helpers/api";

const put = (id: string, key: string, body: unknown, ifMatch?: string) =>
  call(`/api/scripts/${id}`, { method: "PUT", token: key, body, headers: ifMatch === undefined ? {} : { "if-match": ifMatch } });

describe("versions (API.md §6)", () => {
  it("lists versions newest first with sha256 and author, and returns each full snapshot", async () => {
    const { key, keyId } = await tenantWithKey();
    const script = await createScript(key, { name: "hist", message: "first" });
    await put(script.id, key, { source: "export default () => 2;\n", message: "second", limits: { timeoutMs: 100 } });
    const list = await call(`/api/scripts/${script.id}/versions`, { token: key });
    expect(list.json.items.map((v: { version: number; message: string }) => [v.version, v.message])).toEqual([
      [2, "second"],
      [1, "first"],
    ]);
    const sha = [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(HELLO)))]
      .map((b) => b.toString(16).padStart(2, "0"))
      .join("");
    expect(list.json.items[1]).toEqual({ version: 1, message: "first", createdAt: expect.any(String), createdBy: `key:${keyId}`, sha256: sha });
    const v1 = await call(`/api/scripts/${script.id}/versions/1`, { token: key });
    expect(v1.json).toMatchObject({ version: 1, source: HELLO, trigger: {}, limits: {}, sha256: sha });
    const v2 = await call(`/api/scripts/${script.id}/versions/2`, { token: key });
    expect(v2.json).toMatchObject({ version: 2, source: "export default () => 2;\n", limits: { timeoutMs: 100 } });
    expectError(await call(`/api/scripts/${script.id}/versions/3`, { token: key }), 404, "not_found");
    expectError(await call(`/api/scripts/${script.id}/versions/zero`, { token: key }), 400, "invalid_request");
  });

  it("pages versions with a cursor", async () => {
    const { key } = await tenantWithKey();
    const script = await createScript(key, { name: "many" });
    for (let i = 2; i <= 5; i++) await put(script.id, key, { source: `export default () => ${i};` });
    const first = await call(`/api/scripts/${script.id}/versions?limit=2`, { token: key });
    const second = await call(`/api/scripts/${script.id}/versions?limit=2&cursor=${first.json.nextCursor}`, { token: key });
    const third = await call(`/api/scripts/${script.id}/versions?limit=2&cursor=${second.json.nextCursor}`, { token: key });
    const versions = [first, second, third].flatMap((r) => r.json.items.map((v: { version: number }) => v.version));
    expect(versions).toEqual([5, 4, 3, 2, 1]);
    expect(third.json.nextCursor).toBeNull();
  });

  it("restores version n as a new version latest+1 equal to n (201)", async () => {
    const { key } = await tenantWithKey();
    const script = await createScript(key, { name: "restore", type: "http", trigger: { path: "/r1" } });
    await put(script.id, key, { source: "export default () => 2;", trigger: { path: "/r2" }, limits: { cpuMs: 10 } });
    const res = await call(`/api/scripts/${script.id}/versions/1/restore`, { method: "POST", token: key });
    expect(res.status, res.text).toBe(201);
    expect(res.json).toMatchObject({ version: 3, source: HELLO, trigger: { path: "/r1" }, limits: {} });
    expect(res.headers.get("etag")).toBe('"3"');
    const v3 = await call(`/api/scripts/${script.id}/versions/3`, { token: key });
    const v1 = await call(`/api/scripts/${script.id}/versions/1`, { token: key });
    expect(v3.json.sha256).toBe(v1.json.sha256);
    expect(v3.json.message).toBe("Restored from version 1");
    // The route moved back: /r2 is free again.
    await createScript(key, { name: "takes-r2", type: "http", trigger: { path: "/r2" } });
    expectError(await call(`/api/scripts/${script.id}/versions/9/restore`, { method: "POST", token: key }), 404, "not_found");
  });

  it("diffs any two versions: unified text, hunks, and whether language, placement, trigger or limits moved", async () => {
    const { key } = await tenantWithKey();
    const a = "export default () => {\n  const x = 1;\n  return x;\n};\n";
    const b = "export default () => {\n  const x = 2;\n  return x;\n};\n";
    const script = await createScript(key, { name: "diff", source: a });
    await put(script.id, key, { source: b, limits: { timeoutMs: 50 } });
    const res = await call(`/api/scripts/${script.id}/diff?from=1&to=2`, { token: key });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      from: 1,
      to: 2,
      unified: expect.stringContaining("-  const x = 1;\n+  const x = 2;"),
      hunks: [{ oldStart: 1, oldLines: 4, newStart: 1, newLines: 4, lines: [" export default () => {", "-  const x = 1;", "+  const x = 2;", "   return x;", " };"] }],
      languageChanged: false,
      placementChanged: false,
      triggerChanged: false,
      limitsChanged: true,
    });
    expect(res.json.unified).toMatch(/^===================================================================\n--- v1\n\+\+\+ v2\n@@ -1,4 \+1,4 @@/);
    const reverse = await call(`/api/scripts/${script.id}/diff?from=2&to=1`, { token: key });
    expect(reverse.json.hunks[0].lines).toContain("+  const x = 1;");
    const same = await call(`/api/scripts/${script.id}/diff?from=2&to=2`, { token: key });
    expect(same.json.hunks).toEqual([]);
    // Sources without a final newline: hunk lines still all start with "+", "-" or a space.
    const bare = await createScript(key, { name: "diff-bare", source: "export default () => 1" });
    await put(bare.id, key, { source: "export default () => 2" });
    const bareDiff = (await call(`/api/scripts/${bare.id}/diff?from=1&to=2`, { token: key })).json;
    expect(bareDiff.hunks[0].lines).toEqual(["-export default () => 1", "+export default () => 2"]);
    expect(bareDiff.unified).toContain("\\ No newline at end of file");
    const defaults = await call(`/api/scripts/${script.id}/diff`, { token: key });
    expect(defaults.json).toMatchObject({ from: 1, to: 2 });
    expectError(await call(`/api/scripts/${script.id}/diff?from=1&to=7`, { token: key }), 404, "not_found");
    expectError(await call(`/api/scripts/${script.id}/diff?from=-1&to=2`, { token: key }), 400, "invalid_request");
  });
});

describe("If-Match (API.md §6)", () => {
  it('accepts "n", W/"n", n and *, and answers 412 for a stale version', async () => {
    const { key } = await tenantWithKey();
    const script = await createScript(key, { name: "etag" });
    expect((await put(script.id, key, { source: "export default () => 2;" }, '"1"')).json.version).toBe(2);
    expect((await put(script.id, key, { source: "export default () => 3;" }, 'W/"2"')).json.version).toBe(3);
    expect((await put(script.id, key, { source: "export default () => 4;" }, "3")).json.version).toBe(4);
    expect((await put(script.id, key, { source: "export default () => 5;" }, "*")).json.version).toBe(5);
    const stale = expectError(await put(script.id, key, { source: "export default () => 6;" }, '"4"'), 412, "version_mismatch");
    expect(stale.message).toContain("version 5");
    // A rename with a stale If-Match is refused too.
    expectError(await put(script.id, key, { name: "renamed" }, '"1"'), 412, "version_mismatch");
    const current = await call(`/api/scripts/${script.id}`, { token: key });
    expect(current.json).toMatchObject({ version: 5, name: "etag" });
  });

  it("refuses a malformed If-Match with 400 and writes nothing", async () => {
    const { key } = await tenantWithKey();
    const script = await createScript(key, { name: "bad-etag" });
    for (const header of ['"abc"', "W/3", '"1', "1,2", '""', "0", "-1"]) {
      expectError(await put(script.id, key, { source: "export default () => 9;" }, header), 400, "invalid_request");
    }
    expect((await call(`/api/scripts/${script.id}`, { token: key })).json.version).toBe(1);
  });

  it("lets exactly one of two racing saves with the same If-Match win; the other gets 412", async () => {
    const { key } = await tenantWithKey();
    const script = await createScript(key, { name: "race" });
    for (let round = 1; round <= 5; round++) {
      const results = await Promise.all(
        ["a", "b"].map((who) => put(script.id, key, { source: `export default () => "${who}${round}";` }, `"${round}"`)),
      );
      const statuses = results.map((r) => r.status).sort();
      expect(statuses).toEqual([200, 412]);
      const winner = results.find((r) => r.status === 200)!;
      const current = await call(`/api/scripts/${script.id}`, { token: key });
      expect(current.json).toMatchObject({ version: round + 1, source: winner.json.source });
    }
  });

  it("loses no save when racing writers send no If-Match: each becomes its own version", async () => {
    const { key } = await tenantWithKey();
    const script = await createScript(key, { name: "race-free" });
    const sources = ["a", "b", "c", "d"].map((who) => `export default () => "${who}";`);
    const results = await Promise.all(sources.map((source) => put(script.id, key, { source })));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const versions = await call(`/api/scripts/${script.id}/versions`, { token: key });
    expect(versions.json.items.map((v: { version: number }) => v.version)).toEqual([5, 4, 3, 2, 1]);
    const saved = await Promise.all([2, 3, 4, 5].map((n) => call(`/api/scripts/${script.id}/versions/${n}`, { token: key })));
    expect(saved.map((r) => r.json.source).sort()).toEqual([...sources].sort());
  });
});
