import { describe, expect, it } from "vitest";
import { auditCount, call, createScript, expectError, tenantWithKey, createKey } from "../helpers/api";

describe("compile on save and POST /api/scripts/validate (API.md §6)", () => {
  it("refuses to create a script that does not compile, with line/column diagnostics, writing nothing", async () => {
    const { slug, key } = await tenantWithKey();
    const before = await auditCount(slug);
    const cases: Array<[string, { line: number; column: number }]> = [
      ["export default () => {\n  let = ;\n};", { line: 2, column: 3 }],
      // An import of something that is neither a module of the tenant nor an allowed package (API.md §13): at its specifier.
      ["import x from 'y';\nexport default () => x;", { line: 1, column: 15 }],
      ["export const notDefault = () => 1;", { line: 1, column: 1 }],
      ["export default () => {\n  using x = null;\n};", { line: 2, column: expect.any(Number) }],
    ];
    for (const [source, at] of cases) {
      const error = expectError(await call("/api/scripts", { method: "POST", token: key, body: { name: "broken", type: "manual", source } }), 400, "invalid_request");
      expect(error.details).toEqual([{ ...at, message: expect.any(String) }]);
    }
    expect(await auditCount(slug)).toBe(before);
    expect((await call("/api/scripts", { token: key })).json.items).toEqual([]);
  });

  it("refuses an update that does not compile and keeps the current version", async () => {
    const { key } = await tenantWithKey();
    const script = await createScript(key, { name: "keeps" });
    const error = expectError(
      await call(`/api/scripts/${script.id}`, { method: "PUT", token: key, body: { source: "export default async () => await import('x');" } }),
      400,
      "invalid_request",
    );
    expect(error.details[0]).toMatchObject({ line: 1, message: expect.stringContaining("import") });
    expect((await call(`/api/scripts/${script.id}`, { token: key })).json).toMatchObject({ version: 1, source: script.source });
  });

  it("validates without saving: ok with no diagnostics, or the diagnostics", async () => {
    const { key } = await tenantWithKey();
    const good = await call("/api/scripts/validate", { method: "POST", token: key, body: { source: "export default () => 1;" } });
    expect(good.status).toBe(200);
    expect(good.json).toEqual({ ok: true, diagnostics: [] });
    const bad = await call("/api/scripts/validate", { method: "POST", token: key, body: { source: "export default () => {" } });
    expect(bad.json).toEqual({ ok: false, diagnostics: [{ line: 1, column: 23, message: expect.stringContaining("SyntaxError") }] });
    expect((await call("/api/scripts", { token: key })).json.items).toEqual([]);
  });

  it("validate needs scripts:read, a source, and the source size limit", async () => {
    const { slug, key } = await tenantWithKey({ sourceBytes: 1024 });
    const writer = await createKey(slug, ["scripts:write"]);
    expectError(await call("/api/scripts/validate", { method: "POST", token: writer.key, body: { source: "x" } }), 403, "forbidden");
    expectError(await call("/api/scripts/validate", { method: "POST", token: key, body: {} }), 400, "invalid_request");
    expectError(await call("/api/scripts/validate", { method: "POST", token: key, body: { source: "x".repeat(2000) } }), 413, "payload_too_large");
  });

  it("runs what it saved: a would-be HTML comment cannot close the wrapper, and state never carries over", async () => {
    const { key } = await tenantWithKey();
    // As a classic script, `<!--` would comment out the `/*` and the next line would close
    // the per-execution wrapper; iota checks and runs the source as a module (issue 11).
    const source = "let b = 1, a = 0;\nconst x = a <!--b /*\n}}); let counter = 0; (function () { return async function () {\n// */\nlet counter = 0;\nexport default () => [x, ++counter, b];";
    const script = await createScript(key, { name: "escape", type: "manual", source });
    const results = [];
    for (let i = 0; i < 3; i++) {
      const res = await call(`/api/scripts/${script.id}/run`, { method: "POST", token: key });
      expect(res.json.status, JSON.stringify(res.json.error)).toBe("completed");
      results.push(res.json.result);
    }
    expect(results).toEqual([[true, 1, 0], [true, 1, 0], [true, 1, 0]]);
  });
});

