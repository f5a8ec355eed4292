import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { REFUSED } from "../../src/sandbox/typescript";
import { call, createScript, expectError, tenantWithKey } from "../helpers/api";
import { hit } from "../helpers/endpoint";
import { eventually } from "../helpers/wait";

// TypeScript scripts through the API (API.md §6, §13), in workerd with D1 and the tenant's
// Durable Object: stored as written, stripped at save and when the cell compiles a version,
// every position the TypeScript's.

const TS = `interface Input { n: number }
export default (event: { input: Input }): number => event.input.n * 2;
`;
const JS = "export default (event) => event.input.n * 3;\n";

const put = (id: string, key: string, body: unknown) => call(`/api/scripts/${id}`, { method: "PUT", token: key, body });
const run = async (id: string, key: string, input: unknown) => (await call(`/api/scripts/${id}/run`, { method: "POST", token: key, body: { input } })).json;
const validate = async (key: string, source: string, language?: string) =>
  (await call("/api/scripts/validate", { method: "POST", token: key, body: language ? { source, language } : { source } })).json;

/** 1-based line and column of the first `needle` in `source`. */
function at(source: string, needle: string) {
  const offset = source.indexOf(needle);
  const before = source.slice(0, offset).split("\n");
  return { line: before.length, column: before.at(-1)!.length + 1 };
}

describe("TypeScript scripts (API.md §13)", () => {
  it("creates a TypeScript script: language on the script, on its version, in lists; it runs", async () => {
    const { key } = await tenantWithKey();
    const script = await createScript(key, { name: "doubler", language: "typescript", source: TS });
    expect(script).toMatchObject({ version: 1, language: "typescript", source: TS });
    expect((await call(`/api/scripts/${script.id}/versions/1`, { token: key })).json).toMatchObject({ language: "typescript", source: TS });
    expect((await call("/api/scripts", { token: key })).json.items[0]).toMatchObject({ id: script.id, language: "typescript" });
    expect(await run(script.id, key, { n: 21 })).toMatchObject({ status: "completed", result: 42 });
  });

  it("defaults to javascript, where the same TypeScript is a syntax error", async () => {
    const { key } = await tenantWithKey();
    const script = await createScript(key, { name: "plain", source: JS });
    expect(script.language).toBe("javascript");
    const error = expectError(await call("/api/scripts", { method: "POST", token: key, body: { name: "typed", type: "manual", source: TS } }), 400, "invalid_request");
    expect(error.details[0]).toMatchObject({ line: 1, message: expect.stringContaining("SyntaxError") });
  });

  it("changes language by PUT as a new version; a PUT without language keeps it", async () => {
    const { key } = await tenantWithKey();
    const script = await createScript(key, { name: "switch", source: JS });
    const typed = await put(script.id, key, { source: TS, language: "typescript" });
    expect(typed.json).toMatchObject({ version: 2, language: "typescript" });
    expect(await run(script.id, key, { n: 5 })).toMatchObject({ version: 2, result: 10 });
    // Only the language changes: still a new version (the same text means something else).
    const same = await put(script.id, key, { language: "typescript" });
    expect(same.json.version).toBe(2);
    const edited = await put(script.id, key, { source: TS.replace("* 2", "* 4") });
    expect(edited.json).toMatchObject({ version: 3, language: "typescript" });
    const back = await put(script.id, key, { source: JS, language: "javascript" });
    expect(back.json).toMatchObject({ version: 4, language: "javascript" });
    // A language change alone on a source valid in both is a new version too.
    const both = "export default () => 1;\n";
    await put(script.id, key, { source: both });
    expect((await put(script.id, key, { language: "typescript" })).json).toMatchObject({ version: 6, language: "typescript" });
    expectError(await put(script.id, key, { language: "coffeescript" }), 400, "invalid_request");
  });

  it("restores a version with its language, and diff says when the language changed", async () => {
    const { key } = await tenantWithKey();
    const script = await createScript(key, { name: "restorer", language: "typescript", source: TS });
    await put(script.id, key, { source: JS, language: "javascript" });
    const diff = await call(`/api/scripts/${script.id}/diff?from=1&to=2`, { token: key });
    expect(diff.json).toMatchObject({ from: 1, to: 2, languageChanged: true, triggerChanged: false, limitsChanged: false });
    const restored = await call(`/api/scripts/${script.id}/versions/1/restore`, { method: "POST", token: key });
    expect(restored.status).toBe(201);
    expect(restored.json).toMatchObject({ version: 3, language: "typescript", source: TS });
    expect(await run(script.id, key, { n: 4 })).toMatchObject({ version: 3, result: 8 });
    expect((await call(`/api/scripts/${script.id}/diff?from=1&to=3`, { token: key })).json).toMatchObject({ languageChanged: false, hunks: [] });
  });

  it("keeps scripts saved before languages existed as javascript", async () => {
    const { key } = await tenantWithKey();
    const script = await createScript(key, { name: "old", source: JS });
    // A version row written as the code before this change wrote it: no language column given.
    const source = "export default (event) => event.input.n + 1;\n";
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO script_versions (script_id, version, source, \"trigger\", limits, sha256, message, created_by, created_at) VALUES (?, 2, ?, '{}', '{}', 'x', 'old', 'test', ?)",
      ).bind(script.id, source, Date.now()),
      env.DB.prepare("UPDATE scripts SET version = 2 WHERE id = ?").bind(script.id),
    ]);
    await call(`/api/scripts/${script.id}/status`, { method: "PATCH", token: key, body: { status: "paused" } }); // drops the cell's cache
    expect((await call(`/api/scripts/${script.id}`, { token: key })).json).toMatchObject({ version: 2, language: "javascript", source });
    expect((await call(`/api/scripts/${script.id}/versions/2`, { token: key })).json.language).toBe("javascript");
    expect(await run(script.id, key, { n: 1 })).toMatchObject({ version: 2, result: 2 });
  });

  it("names the TypeScript line and column in an http script's stack trace and execution record", async () => {
    const { slug, key } = await tenantWithKey();
    const source = `interface Order { id: string; qty: number }
type Reply = { ok: boolean; qty: number };

export default async (event: { body: Order }): Promise<Reply> => {
  const order = event.body as Order;
  const qty: number = order.qty satisfies number; if (qty > 1) throw new RangeError(\`too many: \${qty}\`);
  return { ok: true, qty };
};
`;
    await createScript(key, { name: "orders", type: "http", language: "typescript", trigger: { path: "/orders", methods: ["POST"] }, source });
    expect((await hit(slug, "/orders", { method: "POST", json: { id: "a", qty: 1 } })).json).toEqual({ ok: true, qty: 1 });
    const failed = await hit(slug, "/orders", { method: "POST", json: { id: "b", qty: 3 } });
    expect(failed.status).toBe(500);
    const record = await eventually(
      async () => (await call(`/api/executions/${failed.json.error.details.executionId}`, { token: key })).json,
      (r) => r?.status === "failed",
    );
    expect(record.error).toMatchObject({ name: "RangeError", message: "too many: 3" });
    // QuickJS reports where the error was made, the `(` of `new RangeError(`, on line 6 after
    // types that take columns (a stripper that removed them would move it left).
    const { line, column } = at(source, "(`too many");
    expect(record.error.stack).toContain(`script.js:${line}:${column}`);
    expect(line).toBe(6);
  });

  it("validates TypeScript with diagnostics at TypeScript positions", async () => {
    const { key } = await tenantWithKey();
    expect(await validate(key, TS, "typescript")).toEqual({ ok: true, diagnostics: [] });
    // The parser's error, after types on the same line.
    const syntax = "type N = number;\nexport default (a: N, b: N): N => a +;\n";
    expect(await validate(key, syntax, "typescript")).toEqual({ ok: false, diagnostics: [{ line: 2, column: 38, message: expect.stringContaining("SyntaxError") }] });
    // A script rule (no dynamic import) found in the stripped code, at the TypeScript's place.
    const rule = "const m: string = 'x';\nexport default async (): Promise<unknown> => await import(m);\n";
    expect(await validate(key, rule, "typescript")).toEqual({ ok: false, diagnostics: [{ ...at(rule, "import("), message: expect.stringContaining("import") }] });
    // QuickJS's own verdict (the engine lacks `using`), on the TypeScript's line.
    const engine = "export default (): number => {\n  using x: null = null;\n  return 1;\n};\n";
    expect(await validate(key, engine, "typescript")).toMatchObject({ ok: false, diagnostics: [{ line: 2 }] });
    // The same TypeScript as JavaScript: refused at its first type.
    expect(await validate(key, TS)).toMatchObject({ ok: false, diagnostics: [{ line: 1 }] });
    expectError(await call("/api/scripts/validate", { method: "POST", token: key, body: { source: TS, language: "ts" } }), 400, "invalid_request");
  });

  it("applies sourceBytes to the TypeScript as written (413), though its JavaScript is smaller", async () => {
    const { key } = await tenantWithKey({ sourceBytes: 1024 });
    // Each emoji is 4 bytes of TypeScript and 2 spaces (2 bytes) once its type is blanked.
    const source = `type Mood = "${"😀".repeat(300)}";\nexport default (): Mood | null => null;\n`;
    expect(new TextEncoder().encode(source).byteLength).toBeGreaterThan(1024);
    const body = { name: "moody", type: "manual", language: "typescript", source };
    expectError(await call("/api/scripts", { method: "POST", token: key, body }), 413, "payload_too_large");
    expectError(await call("/api/scripts/validate", { method: "POST", token: key, body: { source, language: "typescript" } }), 413, "payload_too_large");
    const fits = await createScript(key, { name: "fits", language: "typescript", source: TS });
    expectError(await put(fits.id, key, { source }), 413, "payload_too_large");
  });
});

describe("TypeScript that cannot be erased exactly is refused at save (400, at its position)", () => {
  let key: string;
  beforeAll(async () => {
    ({ key } = await tenantWithKey());
  });

  const cases: Array<[string, string, string, string]> = [
    ["enum", "enum Color { Red, Green }\nexport default () => Color.Red;\n", "enum", REFUSED.enum],
    ["const enum", "export default () => 1;\nconst enum Size { S }\n", "const enum", REFUSED.enum],
    ["a namespace with values", "namespace Util { export const one = 1; }\nexport default () => Util.one;\n", "namespace", REFUSED.namespace],
    ["a parameter property", "class Box { constructor(public value: number) {} }\nexport default () => new Box(1).value;\n", "public value", REFUSED.parameterProperty],
    ["a legacy decorator", "function sealed(c: Function) {}\n@sealed class Box {}\nexport default () => 1;\n", "@sealed", REFUSED.decorator],
    ["import = require()", 'import fs = require("fs");\nexport default () => 1;\n', "import", REFUSED.importRequire],
    ["export =", "const f = () => 1;\nexport = f;\n", "export =", REFUSED.exportAssign],
    ["an angle-bracket assertion that would turn an object into a block", "export default () => <any>{ a: 1 };\n", "<any>", REFUSED.angleAssertion],
    ["an `as` whose removal regroups operators", "export default () => 1 + 1 as any / 2;\n", "1 + 1", REFUSED.changed],
  ];

  it.each(cases)("%s", async (_what, source, needle, message) => {
    const body = { name: `refused-${Math.random().toString(36).slice(2, 8)}`, type: "manual", language: "typescript", source };
    const error = expectError(await call("/api/scripts", { method: "POST", token: key, body }), 400, "invalid_request");
    expect(error.details).toEqual([{ ...at(source, needle), message }]);
    expect(await validate(key, source, "typescript")).toEqual({ ok: false, diagnostics: [{ ...at(source, needle), message }] });
  });
});

describe("type-only TypeScript is stripped and runs as TypeScript meant it", () => {
  let key: string;
  beforeAll(async () => {
    ({ key } = await tenantWithKey());
  });

  const cases: Array<[string, string, unknown]> = [
    ["interfaces and type aliases", "interface P { x: number }\ntype Q = P & { y?: string };\nexport default (e: { input: Q['x'] }) => e.input;", 7],
    ["generics, as, satisfies and !", "function first<T>(xs: T[]): T | undefined { return xs[0]; }\nexport default (e: any) => (first<number>([e.input as number])! satisfies number) + 1;", 8],
    ["classes with modifiers, optional and definite members", "abstract class A { protected abstract n(): number; public twice(): number { return this.n() * 2; } }\nclass B extends A { private readonly k?: number = 3; declare tag: string; value!: number; protected override n(): number { return this.k!; } }\nexport default () => new B().twice();", 6],
    ["overloads and a this parameter", "function f(a: string): string;\nfunction f(a: number): number;\nfunction f(this: void, a: any): any { return a; }\nexport default () => f(5);", 5],
    ["declare, import type and a type-only namespace", 'import type { X } from "./types";\ndeclare const injected: number;\nnamespace Shapes { export interface Circle { r: number } }\nexport default (e: { input: Shapes.Circle["r"] }) => e.input;', 7],
    ["index signatures and a destructured typed parameter", "class Bag { [k: string]: unknown; }\nexport default ({ input }: { input: number }) => input * 10;", 70],
    // Automatic-semicolon hazards: erasing must not join statements TypeScript kept apart.
    ["an interface between a statement and a parenthesised line", "let calls = 0;\nconst f = () => { calls++; return f; };\nlet x = 1\ninterface I {}\n(f)()\nexport default () => calls;", 1],
    ["`as` ending a line before an array literal", "let x = [9] as number[]\n[0].map(String)\nexport default () => x.length;", 1],
    ["a multi-line arrow return type", "const pair = (a: number): Array<\n  number\n> => [a, a];\nexport default (e: any) => pair(e.input).length;", 2],
    ["multi-line type parameters after return", "function make() {\n  return <\n    T,\n  >(v: T) => v;\n}\nexport default (e: any) => make()(e.input);", 7],
  ];

  it.each(cases)("%s", async (what, source, expected) => {
    expect(await validate(key, source, "typescript")).toEqual({ ok: true, diagnostics: [] });
    const script = await createScript(key, { name: `t-${what.replace(/[^a-z0-9]+/gi, "-")}`.slice(0, 60), language: "typescript", source });
    expect(await run(script.id, key, 7)).toMatchObject({ status: "completed", result: expected });
  });
});
