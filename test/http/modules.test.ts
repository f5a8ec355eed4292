import { describe, expect, it } from "vitest";
import readme from "../../README.md?raw";
import { call, createScript, expectError, recordedExecution, recordedExecutions, tenantWithKey } from "../helpers/api";
import { hit } from "../helpers/endpoint";
import { eventually } from "../helpers/wait";

// Modules and packages through the API (API.md §13), in workerd with D1 and the tenant's
// Durable Object: imports checked at save against the tenant's active modules, run with
// each module's latest version, listed in the execution record.

const put = (id: string, key: string, body: unknown) => call(`/api/scripts/${id}`, { method: "PUT", token: key, body });
const status = (id: string, key: string, to: string) => call(`/api/scripts/${id}/status`, { method: "PATCH", token: key, body: { status: to } });
const run = async (id: string, key: string, input: unknown = null) => (await call(`/api/scripts/${id}/run`, { method: "POST", token: key, body: { input } })).json;
const newScript = (key: string, body: Record<string, unknown>) => call("/api/scripts", { method: "POST", token: key, body: { type: "manual", ...body } });

const GREET_TS = `export function greet(who: string): string {\n  return "hello " + who;\n}\n`;

describe("modules (API.md §13)", () => {
  it("runs a TypeScript http script importing a module and a package at the edge; the record lists the module's version", async () => {
    const { slug, key } = await tenantWithKey();
    await createScript(key, { name: "greeting", type: "module", language: "typescript", source: GREET_TS });
    const source = `import { greet } from "./greeting";\nimport { z } from "zod";\nconst Query = z.object({ who: z.string().min(1) });\nexport default async (event: any) => ({ body: { text: greet(Query.parse(event.query).who) } });\n`;
    await createScript(key, { name: "hello", type: "http", language: "typescript", trigger: { path: "/hello" }, source });
    const res = await hit(slug, "/hello?who=ada");
    expect(res.status, res.text).toBe(200);
    expect(res.json).toEqual({ text: "hello ada" });
    expect(res.headers.get("server-timing")).toContain('placement;desc="edge"');
    const [record] = await recordedExecutions(key, 1);
    expect(record.modules).toEqual([{ name: "greeting", version: 1 }]);
  });

  it("saving a module changes its importers' next run, in the cell and at the edge", async () => {
    const { slug, key } = await tenantWithKey();
    const mod = await createScript(key, { name: "answer", type: "module", source: "export const answer = 1;" });
    const manual = await createScript(key, { name: "reader", source: `import { answer } from "./answer.js";\nexport default () => answer;` });
    await createScript(key, { name: "web", type: "http", trigger: { path: "/a" }, source: `import { answer } from "./answer.ts";\nexport default () => ({ body: { answer } });` });
    expect((await run(manual.id, key)).result).toBe(1);
    expect((await hit(slug, "/a")).json).toEqual({ answer: 1 });
    expect((await put(mod.id, key, { source: "export const answer = 2;" })).status).toBe(200);
    const second = await run(manual.id, key);
    expect(second.result).toBe(2);
    expect(second.modules).toEqual([{ name: "answer", version: 2 }]);
    expect((await hit(slug, "/a")).json).toEqual({ answer: 2 });
  });

  it("refuses a missing module, another tenant's module, and a package not allowed, at the import's line and column", async () => {
    const { key } = await tenantWithKey();
    const other = await tenantWithKey();
    await createScript(other.key, { name: "theirs", type: "module", source: "export const x = 1;" });
    const missing = await newScript(key, { name: "a", source: `// first\nimport { x } from "./theirs";\nexport default () => x;` });
    expectError(missing, 400, "invalid_request");
    expect(missing.json.error.details).toEqual([{ line: 2, column: 19, message: "no module named theirs in this tenant" }]);
    const pkg = await newScript(key, { name: "b", source: `import pad from "left-pad";\nexport default () => pad;` });
    expectError(pkg, 400, "invalid_request");
    expect(pkg.json.error.details[0].message).toMatch(/"left-pad": it is not an allowed package; allowed packages are .*date-fns.*zod/);
    expect(pkg.json.error.details[0]).toMatchObject({ line: 1, column: 17 });
  });

  it("refuses an import cycle built by saving modules in turn, and nothing is written", async () => {
    const { key } = await tenantWithKey();
    const a = await createScript(key, { name: "a", type: "module", source: "export const a = 1;" });
    await createScript(key, { name: "b", type: "module", source: `import { a } from "./a";\nexport const b = a + 1;` });
    const cycle = await put(a.id, key, { source: `import { b } from "./b";\nexport const a = b;` });
    expectError(cycle, 400, "invalid_request");
    expect(cycle.json.error.details).toEqual([{ line: 1, column: 19, message: "import cycle: ./a → ./b → ./a" }]);
    expect((await call(`/api/scripts/${a.id}`, { token: key })).json.version).toBe(1);
  });

  it("a module never runs alone and has no trigger", async () => {
    const { key } = await tenantWithKey();
    const mod = await createScript(key, { name: "m", type: "module", source: "export const x = 1;" });
    const res = await call(`/api/scripts/${mod.id}/run`, { method: "POST", token: key, body: {} });
    expectError(res, 400, "invalid_request");
    expect(res.json.error.message).toContain("never runs alone");
    expectError(await newScript(key, { name: "n", type: "module", source: "export const x = 1;", trigger: { path: "/x" } }), 400, "invalid_request");
  });

  it("archiving, pausing or renaming a module that active scripts import → 409 naming them", async () => {
    const { key } = await tenantWithKey();
    const mod = await createScript(key, { name: "shared", type: "module", source: "export const x = 1;" });
    const user = await createScript(key, { name: "user", source: `import { x } from "./shared";\nexport default () => x;` });
    const archive = await call(`/api/scripts/${mod.id}`, { method: "DELETE", token: key });
    expectError(archive, 409, "conflict");
    expect(archive.json.error.message).toBe("module shared cannot be archived: active scripts import it (user)");
    expectError(await status(mod.id, key, "paused"), 409, "conflict");
    expectError(await put(mod.id, key, { name: "renamed" }), 409, "conflict");
    expect((await run(user.id, key)).result).toBe(1);
    // Once no active script imports it, it may go.
    expect((await status(user.id, key, "paused")).status).toBe(200);
    expect((await call(`/api/scripts/${mod.id}`, { method: "DELETE", token: key })).status).toBe(204);
  });

  it("saving a module version that active importers could no longer compile against → 409 naming them and why; nothing is saved", async () => {
    const { key } = await tenantWithKey();
    const mod = await createScript(key, { name: "maths", type: "module", source: "export const double = (n) => n * 2;\nexport const half = (n) => n / 2;" });
    const user = await createScript(key, { name: "user", source: `import { double } from "./maths";\nexport default () => double(21);` });
    const dropped = await put(mod.id, key, { source: "export const half = (n) => n / 2;" });
    expectError(dropped, 409, "conflict");
    expect(dropped.json.error.message).toMatch(/^module maths cannot be saved: active scripts that import it would no longer compile \(user: 1:\d+ .*double/);
    expect(dropped.json.error.details).toEqual({ importers: [{ name: "user", message: expect.stringContaining("double") }] });
    expect((await call(`/api/scripts/${mod.id}`, { token: key })).json.version).toBe(1);
    expect((await run(user.id, key)).result).toBe(42);
    // A change its importers survive is saved; once the importer is paused, anything goes.
    expect((await put(mod.id, key, { source: "export const double = (n) => n + n;" })).status).toBe(200);
    expect((await status(user.id, key, "paused")).status).toBe(200);
    expect((await put(mod.id, key, { source: "export const half = (n) => n / 2;" })).status).toBe(200);
  });

  it("a run in flight keeps the module version it started with; the next run takes the new one", async () => {
    const { key } = await tenantWithKey();
    const mod = await createScript(key, { name: "slow", type: "module", source: "export const v = 1;" });
    const user = await createScript(key, { name: "user", source: `import { v } from "./slow";\nexport default async () => { await new Promise((r) => setTimeout(r, 300)); return v; };` });
    const inFlight = run(user.id, key);
    await eventually(async () => (await call("/api/executions?status=running", { token: key })).json.items, (items: unknown[]) => items.length === 1, 5_000);
    expect((await put(mod.id, key, { source: "export const v = 2;" })).status).toBe(200);
    expect(await inFlight).toMatchObject({ result: 1, modules: [{ name: "slow", version: 1 }] });
    expect(await run(user.id, key)).toMatchObject({ result: 2, modules: [{ name: "slow", version: 2 }] });
  });

  it("a module the platform admin disables under its importers: they fail naming it, then run again once it is back", async () => {
    const { slug, key } = await tenantWithKey();
    const mod = await createScript(key, { name: "lib", type: "module", source: "export const x = 1;" });
    const user = await createScript(key, { name: "user", source: `import { x } from "./lib";\nexport default () => x;` });
    expect((await call(`/api/scripts/${mod.id}/status`, { method: "PATCH", tenant: slug, body: { status: "disabled" } })).status).toBe(200);
    const failed = await run(user.id, key);
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatchObject({ name: "CompileError", message: "the saved source does not compile: 1:19 no module named lib in this tenant" });
    expect((await call(`/api/scripts/${mod.id}/status`, { method: "PATCH", tenant: slug, body: { status: "active" } })).status).toBe(200);
    expect((await run(user.id, key)).result).toBe(1);
  });

  it("caps the script plus its modules by sourceBytes (413)", async () => {
    const { key } = await tenantWithKey({ sourceBytes: 2048 });
    await createScript(key, { name: "big", type: "module", source: `export const big = "${"x".repeat(1500)}";` });
    const res = await newScript(key, { name: "user", source: `import { big } from "./big";\nexport default () => big.length + ${JSON.stringify("y".repeat(600))}.length;` });
    expectError(res, 413, "payload_too_large");
    expect(res.json.error.message).toMatch(/the script and the modules it imports are \d+ bytes/);
  });

  it("validates with imports, as a module too", async () => {
    const { key } = await tenantWithKey();
    await createScript(key, { name: "lib", type: "module", source: "export const x = 1;" });
    const validate = async (body: unknown) => (await call("/api/scripts/validate", { method: "POST", token: key, body })).json;
    expect(await validate({ source: `import { x } from "./lib";\nexport default () => x;` })).toEqual({ ok: true, diagnostics: [] });
    expect(await validate({ source: `import { y } from "./lib";\nexport default () => y;` })).toEqual({
      ok: false,
      diagnostics: [{ line: 1, column: 19, message: "module lib has no export named y" }],
    });
    expect(await validate({ type: "module", name: "lib2", source: `import { x } from "./lib";\nexport const y = x;` })).toEqual({ ok: true, diagnostics: [] });
  });
});

describe("README walk-through: a shared module and a package", () => {
  it("creates the module and the script the README shows, and the endpoint answers as it says", async () => {
    const bodies = [...readme.matchAll(/-d '(\{\n  "name": "greet(?:ing)?"[\s\S]*?\n\})'/g)].map((m) => JSON.parse(m[1]!));
    expect(bodies.map((b) => b.name)).toEqual(["greeting", "greet"]);
    const { slug, key } = await tenantWithKey();
    for (const body of bodies) await createScript(key, body);
    expect(readme).toContain('curl -s "$API/t/acme/greet?who=ada"    # {"text":"hello ada"}');
    expect((await hit(slug, "/greet?who=ada")).text).toBe('{"text":"hello ada"}');
    const [record] = await recordedExecutions(key, 1);
    expect(record.modules).toEqual([{ name: "greeting", version: 1 }]);
  });
});

describe("GET /api/runtime (API.md §13)", () => {
  it("answers the allowed packages with versions, the globals and the limits to any authenticated caller", async () => {
    const { key } = await tenantWithKey();
    const res = await call("/api/runtime", { token: key });
    expect(res.status).toBe(200);
    const names = res.json.packages.map((p: { name: string }) => p.name);
    expect(names.length).toBeGreaterThanOrEqual(8);
    expect(names).toEqual(expect.arrayContaining(["zod", "date-fns", "lodash-es", "nanoid", "js-yaml", "d3-dsv", "fast-xml-parser", "big.js", "marked"]));
    expect(res.json.packages.find((p: { name: string }) => p.name === "zod").version).toMatch(/^3\./);
    expect(res.json.globals).toEqual(expect.arrayContaining(["fetch", "URL", "crypto", "iota", "console"]));
    expect(res.json.limits).toMatchObject({ timeoutMs: 30_000, importDepth: 16, importedModules: 64 });
    expect((await call("/api/runtime")).status).toBe(200);
    expectError(await call("/api/runtime", { token: null }), 401, "unauthorized");
  });
});

export { recordedExecution };
