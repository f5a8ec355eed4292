import { loadQuickJSWasm } from "#quickjs-wasm";
import { describe, expect, it } from "vitest";
import { compileScript, SOURCE_PREFIX, verifyFactory } from "../../src/sandbox/compile";
import { Engine } from "../../src/sandbox/engine";
import { Realm, SetupLimitError } from "../../src/sandbox/realm";
import { SDK_FUNCTIONS } from "../../src/sandbox/host";
import { expectHealthy, LIMITS, newSandbox, run } from "./helpers";

/**
 * The escape family (issue 11): sources that try to end the per-execution wrapper early, so
 * that their code runs at the realm's top level (once, outside any limit, keeping state
 * between executions). What the save check validates is what QuickJS runs: each source is
 * either refused at compile, or runs with exactly the module semantics, fresh state every
 * time, and under the limits.
 */
const LS = "\u2028";
const PS = "\u2029";

/** Sources the save check must refuse (in module grammar each is a syntax error). */
const REFUSED: Array<[string, string]> = [
  ["`<!--` at a line start, hiding a closing brace", "export default () => 1;\n<!-- }); let leaked = 0; ({\n"],
  ["`-->` at a line start", "export default () => 1;\n--> }); for (;;) {} ({\n"],
  ["`-->` after a block comment on its line", "export default () => 1;\n/*\n*/ --> }); for (;;) {}\n"],
  ["`<!--` hiding the rest of a declaration", "let n = 0 <!-- }; let n = 0; (() => {\nexport default () => ++n;"],
  ["a stray closing brace", "}); let leaked = 0; ({\nexport default () => 1;"],
  ["a source ending inside a block comment", "export default () => 1; /* }"],
  ["a source ending inside a string", "export default () => 1; '}"],
  ["a source ending inside a template", "export default () => 1; `${'}'}"],
  ["a source ending inside a template substitution", "export default () => `${"],
  ["a source ending inside a regular expression", "export default () => /[}/"],
  ["a source ending inside a regular expression class", "export default () => 1;\nconst r = /[/"],
  ["a top-level return (ends the body early)", "return;\nexport default () => 1;"],
  ["the wrapper's reserved binding", "let $dflt$ = 1;\nexport default () => $dflt$;"],
];

/** Sources that are valid modules: each must run with module semantics and fresh state. */
const RUN: Array<[string, string, unknown]> = [
  [
    // In a classic script, `<!--` comments out the rest of its line, `/*` included, so the
    // next line would be code that closes the wrapper; as a module it is all one expression
    // and a block comment. This is the shape of the escape issue 11 reported.
    "a would-be HTML comment that hides a block comment's start",
    "let b = 1, a = 0;\nconst x = a <!--b /*\n}}); let counter = 0; (function () { return async function () {\n// */\nlet counter = 0;\nexport default () => [x, ++counter, b];",
    [true, 1, 0],
  ],
  ["`<!--` mid-line is less-than, not, decrement", "let a = 1;\nconst b = a <!--a;\nexport default () => [a, b];", [0, false]],
  ["`-->` mid-line is decrement, greater-than", "let a = 3;\nconst b = a-->1;\nexport default () => [a, b];", [2, true]],
  ["U+2028 ends a line comment", `// a comment${LS}export default () => 'after LS';`, "after LS"],
  ["U+2029 ends a line comment", `// a comment${PS}export default () => 'after PS';`, "after PS"],
  ["U+2028 and U+2029 inside a string", `export default () => 'a${LS}b${PS}c'.length;`, 5],
  ["a closing brace inside a template literal", "export default () => `}${'}'}`;", "}}"],
  ["a template spanning lines with braces", "const t = `\n}\n});\n`;\nexport default () => t.length;", 7],
  ["a closing brace inside a regular expression", "export default () => /}\\/}/.source;", "}\\/}"],
  ["a regular expression class holding a slash and a brace", "export default () => /[/}]/.test('}');", true],
  ["a trailing line comment with no newline", "export default () => 1; // }); for (;;) {}", 1],
  ["a hashbang line", "#!/usr/bin/env iota })\nexport default () => 'hashbang';", "hashbang"],
  ["a division that looks like a regular expression", "const a = 4, g = 2;\nexport default () => a /g/ 1;", 2],
];

/** Top-level code in every position runs per execution, under the limits. */
const TOP_LEVEL_LOOPS: Array<[string, string]> = [
  ["before the default export", "for (;;) {}\nexport default () => 1;"],
  ["after the default export", "export default () => 1;\nfor (;;) {}"],
  ["in a class static block", "class A { static { for (;;) {} } }\nexport default () => 1;"],
  ["in a computed key", "const o = { [(() => { for (;;) {} })()]: 1 };\nexport default () => o;"],
  ["in a template substitution", "`${(() => { for (;;) {} })()}`;\nexport default () => 1;"],
  ["in a default parameter of a function called at the top", "(function (x = (() => { for (;;) {} })()) {})();\nexport default () => 1;"],
  ["in a named export's initializer", "export const x = (() => { for (;;) {} })();\nexport default () => x;"],
  ["after a would-be HTML comment", "let a = 1;\na <!--a;\nfor (;;) {}\nexport default () => a;"],
  ["after a line comment ended by U+2028", `// x${LS}for (;;) {}\nexport default () => 1;`],
];

describe("the escape family: what is checked is what runs", () => {
  const sandbox = newSandbox();

  for (const [what, source] of REFUSED) {
    it(`refuses ${what}`, () => {
      const compiled = compileScript(source);
      expect(compiled.ok).toBe(false);
    });
  }

  for (const [what, source, expected] of RUN) {
    it(`runs ${what} with module semantics, the same on every run`, async () => {
      for (let i = 0; i < 3; i++) {
        const result = await run(sandbox, source, { key: `escape-${what}` });
        expect(result.status, JSON.stringify(result.error)).toBe("completed");
        expect(result.result).toEqual(expected);
      }
    });
  }

  it("keeps no module state between executions (a counter stays at 1)", async () => {
    const source = "let counter = 0;\nexport default () => ++counter;";
    const results = [];
    for (let i = 0; i < 3; i++) results.push((await run(sandbox, source, { key: "escape-counter" })).result);
    expect(results).toEqual([1, 1, 1]);
  });

  for (const [where, source] of TOP_LEVEL_LOOPS) {
    it(`ends a top-level loop ${where} at the CPU limit, and the pool stays healthy`, async () => {
      const result = await run(sandbox, source, { limits: { timeoutMs: 300, cpuMs: 300 } });
      expect(result.status).toBe("timeout");
      expect(["TimeoutError", "CpuLimitError"]).toContain(result.error?.name);
      await expectHealthy(sandbox);
    });
  }

  it("ends a top-level await that never settles", async () => {
    const result = await run(sandbox, "await new Promise(() => {});\nexport default () => 1;", { limits: { timeoutMs: 300, cpuMs: 300 } });
    expect(result).toMatchObject({ status: "timeout", error: { name: "TimeoutError" } });
  });
});

describe("the factory's shape is verified", () => {
  const factory = (body: string, name = "$dflt$") => `${SOURCE_PREFIX}${body}\n;return ${name}}`;
  const bodyEnd = (body: string) => SOURCE_PREFIX.length + body.length;

  it("accepts the wrapper around a body", () => {
    const body = "       $dflt$= () => 1";
    expect(verifyFactory(factory(body), bodyEnd(body), "$dflt$")).toBeNull();
  });

  const broken: Array<[string, string]> = [
    ["a body that closes the wrapper and adds a top-level export", "}; export const leak = 1; async function f() {"],
    ["a body that closes the wrapper and runs top-level code", "}; for (;;) {} async function g() {"],
  ];
  for (const [what, body] of broken) {
    it(`refuses ${what}`, () => {
      expect(verifyFactory(factory(body), bodyEnd(body), "$dflt$")).toMatch(/cannot be wrapped safely/);
    });
  }
});

/** An engine leased to one execution of `memoryBytes`, as the pool does before making a realm. */
async function leasedEngine(memoryBytes: number): Promise<Engine> {
  const engine = await Engine.create(await loadQuickJSWasm());
  engine.lease("t", memoryBytes);
  return engine;
}

describe("realm creation runs under limits", () => {
  // Factory modules made by hand, as if a source had got past the compile check: whatever
  // runs while a realm is built still runs under an interrupt handler and a memory cap.
  const handMade = (factorySource: string) => ({ factorySource, sourceBytes: factorySource.length, usesCellState: false });

  it("stops top-level code in the factory module at the setup limit", async () => {
    const script = handMade("for (;;) {}\nexport default async function () { return 1; }");
    const engine = await leasedEngine(LIMITS.memoryBytes);
    expect(() => Realm.create(engine, script, LIMITS, SDK_FUNCTIONS)).toThrow(SetupLimitError);
  }, 20_000);

  it("stops a top-level memory bomb in the factory module at the memory limit", async () => {
    const script = handMade("const a = []; for (;;) a.push('x'.repeat(1000) + a.length);\nexport default async function () { return 1; }");
    const engine = await leasedEngine(2 * 1024 * 1024);
    expect(() => Realm.create(engine, script, { ...LIMITS, memoryBytes: 2 * 1024 * 1024 }, SDK_FUNCTIONS)).toThrow();
  }, 20_000);

  it("answers a failed creation as a failed execution, and the next one runs", async () => {
    const sandbox = newSandbox();
    const result = await sandbox.execute({
      tenant: "t",
      scriptKey: "hand-made",
      script: handMade("for (;;) {}\nexport default async function () { return 1; }"),
      event: {},
      ctx: {},
      limits: LIMITS,
    });
    expect(result).toMatchObject({ status: "failed", error: { name: "SandboxError" } });
    await expectHealthy(sandbox);
  }, 20_000);
});
