import { loadQuickJSWasm } from "#quickjs-wasm";
import { beforeAll, describe, expect, it } from "vitest";
import { SyntaxChecker } from "../../src/sandbox/checker";
import { compileScript, type Diagnostic } from "../../src/sandbox/compile";
import { newSandbox, run } from "./helpers";

function diagnostics(source: string): Diagnostic[] {
  const result = compileScript(source);
  if (result.ok) throw new Error("expected the script to be refused");
  return result.diagnostics;
}

describe("compile: what a script may be (API.md §7)", () => {
  const accepted: Array<[string, string]> = [
    ["an async default function", "export default async function (event, ctx) { return 1; }"],
    ["a named default function", "export default function handler(event) { return event; }"],
    ["a default arrow function", "export default (event) => event;"],
    ["a default expression naming a function", "const handler = () => 1;\nexport default handler;"],
    ["a default export by specifier", "function handler() { return 1; }\nexport { handler as default };"],
    ["named exports beside the default", "export const a = 1;\nexport function b() {}\nexport default () => a;"],
    ["a hashbang line", "#!/usr/bin/env iota\nexport default () => 1;"],
    ["top-level await", "const x = await Promise.resolve(2);\nexport default () => x;"],
    ["comments between export and default", "export /* default */ default /* x */ () => 1;"],
  ];
  for (const [what, source] of accepted) {
    it(`accepts ${what}`, () => expect(compileScript(source).ok).toBe(true));
  }

  const refused: Array<[string, string, Diagnostic]> = [
    ["a syntax error, at its line and column", "export default () => {\n  let x = ;\n};", { line: 2, column: 11, message: "SyntaxError: Unexpected token" }],
    ["an import", "import fs from 'fs';\nexport default () => 1;", { line: 1, column: 1, message: expect.stringContaining("import is not supported") }],
    ["a dynamic import()", "export default async () => {\n  await import('x');\n};", { line: 2, column: 9, message: expect.stringContaining("dynamic import()") }],
    ["import.meta", "export default () => import.meta.url;", { line: 1, column: 22, message: "import.meta is not supported" }],
    ["export * from", "export * from 'x';\nexport default () => 1;", { line: 1, column: 1, message: expect.stringContaining("export … from") }],
    ["export { x } from", "export { x } from 'y';\nexport default () => 1;", { line: 1, column: 1, message: expect.stringContaining("export … from") }],
    ["a missing default export", "export const handler = () => 1;", { line: 1, column: 1, message: expect.stringContaining("export default") }],
    ["a default export that is a number", "export default 42;", { line: 1, column: 16, message: "the default export must be a function or an object of handlers ({ fetch, scheduled, event, run })" }],
    ["a default export that is an array", "export default [() => 1];", { line: 1, column: 16, message: "the default export must be a function or an object of handlers ({ fetch, scheduled, event, run })" }],
    ["a BigInt literal", "export default () => 10n;", { line: 1, column: 22, message: "BigInt is not available in iota scripts" }],
  ];
  for (const [what, source, expected] of refused) {
    it(`refuses ${what}`, () => expect(diagnostics(source)).toEqual([expected]));
  }

  it("accepts a handler object and reads its shape from the text (API.md §13)", () => {
    const shape = (source: string) => {
      const compiled = compileScript(source);
      if (!compiled.ok) throw new Error(JSON.stringify(compiled.diagnostics));
      return compiled.script.shape;
    };
    expect(shape("export default { async fetch(request) {}, run: () => 1, other() {} };")).toEqual({ form: "object", handlers: ["fetch", "run"] });
    expect(shape("const handlers = { scheduled() {} };\nexport default handlers;")).toEqual({ form: "object", handlers: ["scheduled"] });
    expect(shape("const h = { event() {} };\nexport { h as default };")).toEqual({ form: "object", handlers: ["event"] });
    expect(shape("const base = {};\nexport default { ...base, fetch() {} };")).toEqual({ form: "object", handlers: null });
    expect(shape("export default { ['fe' + 'tch']() {} };")).toEqual({ form: "object", handlers: null });
    expect(shape("export default async function (event) {}")).toEqual({ form: "function" });
    expect(shape("export default (event) => 1;")).toEqual({ form: "function" });
    expect(shape("function make() { return { fetch() {} }; }\nexport default make();")).toEqual({ form: "unknown" });
    expect(shape("let h = { fetch() {} };\nh = () => 1;\nexport default h;")).toEqual({ form: "unknown" });
  });

  it("reports every problem, in source order", () => {
    const found = diagnostics("const a = 1n;\nimport x from 'y';\nconst b = 2n;");
    expect(found.map((d) => d.line)).toEqual([1, 1, 2, 3]);
  });

  it("refuses a script nested too deeply to parse, without crashing", () => {
    const [found] = diagnostics(`export default () => ${"(".repeat(200_000)}1${")".repeat(200_000)};`);
    expect(found!.message).toMatch(/nested too deeply|SyntaxError/);
  });
});

describe("compile: QuickJS's own check", () => {
  let checker: SyntaxChecker;
  beforeAll(async () => {
    checker = await SyntaxChecker.create(await loadQuickJSWasm());
  });

  it("accepts what the engine runs", () => {
    const compiled = compileScript("export default async (e) => ({ ...e, at: new Date(0).toISOString() });");
    expect(compiled.ok && checker.check(compiled.script)).toEqual([]);
  });

  it("refuses syntax the standard allows but QuickJS lacks, at the author's line", () => {
    const compiled = compileScript("export default () => {\n  using x = null;\n  return 1;\n};");
    expect(compiled.ok).toBe(true);
    if (!compiled.ok) return;
    expect(checker.check(compiled.script)).toEqual([{ line: 2, column: expect.any(Number), message: expect.stringMatching(/^SyntaxError: /) }]);
  });
});

describe("compile: positions survive into running code", () => {
  const sandbox = newSandbox();

  it("keeps line numbers of runtime errors", async () => {
    const result = await run(sandbox, "export default () => {\n  const a = 1;\n  null.boom;\n};");
    expect(result.error?.name).toBe("TypeError");
    expect(result.error?.stack).toMatch(/script\.js:3:\d+/);
  });

  it("maps columns on line 1 back to the author's", async () => {
    const result = await run(sandbox, "export default () => null.boom;");
    expect(result.error?.stack).toContain("at default (script.js:1:26)");
  });

  it("keeps lines when an export statement spans several", async () => {
    const result = await run(sandbox, "export\ndefault\n() => {\n  null.boom;\n};");
    expect(result.error?.stack).toMatch(/script\.js:4:\d+/);
  });

  it("runs a script whose default function declaration is followed by a parenthesis", async () => {
    const result = await run(sandbox, "export default function () { return 'a'; }\n(() => 0)();");
    expect(result).toMatchObject({ status: "completed", result: "a" });
  });

  it("fails with CompileError when QuickJS refuses the script at run time", async () => {
    const result = await run(sandbox, "export default () => {\n  using x = null;\n};");
    expect(result).toMatchObject({ status: "failed", error: { name: "CompileError" } });
    expect(result.error?.message).toMatch(/^2:\d+ SyntaxError/);
  });
});

describe("compile: does the script reach the tenant's state? (placement auto, API.md §14)", () => {
  const table: Array<[string, string, boolean]> = [
    ["no iota at all", "export default () => 1;", false],
    ["logs, http and secrets only", "export default async () => { iota.log.info('x'); await iota.http.get('https://a.example'); return iota.secrets.get('K'); };", false],
    ["throws iota's errors", "export default () => { throw new iota.NonRetriableError('x'); };", false],
    ["iota.db", "export default () => iota.db.get('c', 1);", true],
    ["iota.events", "export default () => iota.events.publish('a.b', {});", true],
    ["iota by a computed member", "export default () => iota['d' + 'b'].get('c', 1);", true],
    ["iota destructured", "const { db } = iota;\nexport default () => db.get('c', 1);", true],
    ["iota passed along", "const sdk = iota;\nexport default () => sdk.log.info('x');", true],
    ["a shadowing binding named iota", "export default (iota) => iota.log;", true],
  ];
  for (const [what, source, expected] of table) {
    it(`${what} → ${expected}`, () => {
      const compiled = compileScript(source);
      expect(compiled.ok && compiled.script.usesCellState).toBe(expected);
    });
  }
});
