import { afterAll, describe, expect, it } from "vitest";
import { checkModule, compileLinked, type ModuleSource, MAX_IMPORT_DEPTH, MAX_IMPORTED_MODULES } from "../../src/sandbox/modules";
import type { Language } from "../../src/sandbox/typescript";
import { expectHealthy, LIMITS, newSandbox } from "./helpers";

// Modules and packages in the sandbox (API.md §13): a script's imports are linked as real ES
// modules in its realm; module code runs afresh in every execution; packages run once per
// realm and are frozen.

const sandbox = newSandbox();
afterAll(() => sandbox.dispose());

function lookupOf(modules: Record<string, string | { source: string; language: Language; version?: number }>) {
  const table = new Map<string, ModuleSource>(
    Object.entries(modules).map(([name, m]) => [name, typeof m === "string" ? { name, version: 1, source: m, language: "javascript" } : { name, version: m.version ?? 1, ...m }]),
  );
  return (name: string) => table.get(name);
}

let counter = 0;
async function runLinked(source: string, modules: Parameters<typeof lookupOf>[0], options: { key?: string; language?: Language; event?: unknown } = {}) {
  const linked = compileLinked(source, options.language ?? "javascript", lookupOf(modules));
  if (!linked.ok) throw new Error(`does not compile: ${JSON.stringify(linked.diagnostics)}`);
  return sandbox.execute({
    tenant: "t",
    scriptKey: options.key ?? `linked-${++counter}`,
    script: linked.script,
    event: options.event ?? {},
    ctx: {},
    limits: LIMITS,
  });
}

describe("modules: linking and evaluation", () => {
  it("imports named, default and namespace bindings from a module, with ./name, ./name.ts and ./name.js", async () => {
    const result = await runLinked(
      `import greet, { twice as t } from "./util";\nimport * as ns from "./util.ts";\nimport { twice } from "./util.js";\nexport default async () => [greet("a"), t(2), ns.twice(3), twice(4), Object.keys(ns).sort()];`,
      { util: `export function twice(n) { return n * 2 }\nexport default function greet(who) { return "hi " + who }` },
    );
    expect(result.error).toBeNull();
    expect(result.result).toEqual(["hi a", 4, 6, 8, ["default", "twice"]]);
  });

  it("runs module code afresh in every execution, also warm: nothing persists between executions", async () => {
    const modules = { counter: `let n = 0;\nexport function next() { return ++n }\nexport const loadedAt = next();` };
    const source = `import { next, loadedAt } from "./counter";\nexport default async () => [loadedAt, next(), next()];`;
    const first = await runLinked(source, modules, { key: "fresh-modules" });
    const second = await runLinked(source, modules, { key: "fresh-modules" });
    expect(first.result).toEqual([1, 2, 3]);
    expect(second.warm).toBe(true);
    expect(second.result).toEqual([1, 2, 3]);
  });

  it("evaluates a module two files import once per execution, dependencies first", async () => {
    const result = await runLinked(`import { log } from "./a";\nimport { log as log2 } from "./b";\nexport default async () => [log === log2, log.join(",")];`, {
      log: `export const log = [];`,
      a: `import { log } from "./log";\nlog.push("a");\nexport { log };`,
      b: `import { log } from "./log";\nimport "./a";\nlog.push("b");\nexport { log };`,
    });
    expect(result.error).toBeNull();
    expect(result.result).toEqual([true, "a,b"]);
  });

  it("strips TypeScript modules and points a stack trace at the module's TypeScript line and column", async () => {
    const result = await runLinked(
      `import { fail } from "./boom";\nexport default async () => fail(1);`,
      { boom: { language: "typescript", source: `interface X { a: number }\nexport function fail(n: number): never {\n  throw new Error("boom " + n);\n}` } },
    );
    expect(result.status).toBe("failed");
    expect(result.error?.message).toBe("boom 1");
    expect(result.error?.stack).toContain("module:boom:3:");
  });

  it("keeps the script's own columns on line 1 after its imports' bindings", async () => {
    const tail = ` export default async () => { throw new Error("at line 1 " + x) }`;
    const linked = await runLinked(`import { x } from "./m";${tail}`, { m: "export const x = 1;" });
    // The same line with the import's text replaced by a declaration of the same length.
    const inlined = await runLinked(`let x = 1;              ${tail}`, {});
    const column = /script\.js:1:(\d+)/.exec(inlined.error!.stack)![1];
    expect(linked.error?.stack).toContain(`script.js:1:${column}`);
  });

  it("refuses a missing module, a missing export, a cycle, a disallowed package, each at the script's import", () => {
    const lookup = lookupOf({ a: `import { b } from "./b"; export const a = 1;`, b: `import { a } from "./a"; export const b = 2;`, ok: "export const y = 1;" });
    const check = (source: string) => {
      const result = compileLinked(source, "javascript", lookup);
      return result.ok ? [] : result.diagnostics;
    };
    expect(check(`\nimport { z } from "./nope";\nexport default () => z;`)).toEqual([{ line: 2, column: 19, message: "no module named nope in this tenant" }]);
    expect(check(`import { z } from "./ok";\nexport default () => z;`)[0]!.message).toBe("module ok has no export named z");
    expect(check(`import { a } from "./a";\nexport default () => a;`)[0]!.message).toBe("import cycle: ./a → ./b → ./a");
    expect(check(`import left from "left-pad";\nexport default () => left;`)[0]!.message).toMatch(/^cannot import "left-pad": it is not an allowed package; allowed packages are .*zod/);
    expect(check(`import fs from "node:fs";\nexport default () => fs;`)[0]!.message).toMatch(/^cannot import "node:fs"/);
    // A module being saved that would close a cycle through itself.
    const saving = checkModule(`import { a } from "./a"; export const b = 3;`, "javascript", lookup, "b");
    expect(saving.diagnostics[0]!.message).toBe("import cycle: ./b → ./a → ./b");
  });

  it(`refuses an import chain deeper than ${MAX_IMPORT_DEPTH} and a graph of more than ${MAX_IMPORTED_MODULES} modules`, () => {
    const chain: Record<string, string> = {};
    for (let i = 0; i <= MAX_IMPORT_DEPTH; i++) chain[`m${i}`] = i === MAX_IMPORT_DEPTH ? "export const v = 1;" : `import { v } from "./m${i + 1}"; export { v };`;
    const deep = compileLinked(`import { v } from "./m0"; export default () => v;`, "javascript", lookupOf(chain));
    expect(deep.ok ? null : deep.diagnostics[0]!.message).toMatch(/^imports nest deeper than 16 modules/);
    const wide: Record<string, string> = {};
    const lines: string[] = [];
    for (let i = 0; i <= MAX_IMPORTED_MODULES; i++) {
      wide[`w${i}`] = `export const v${i} = ${i};`;
      lines.push(`import { v${i} } from "./w${i}";`);
    }
    const broad = compileLinked(`${lines.join("\n")}\nexport default () => 1;`, "javascript", lookupOf(wide));
    expect(broad.ok ? null : broad.diagnostics.at(-1)!.message).toBe("the script reaches more than 64 modules through its imports");
  });

  it("refuses names reserved for linking and export … from in modules", () => {
    const reserved = compileLinked(`import { x } from "./m"; export default () => $iota_r$;`, "javascript", lookupOf({ m: "export const x = 1;" }));
    expect(reserved.ok ? null : reserved.diagnostics[0]!.message).toBe("$iota_r$ is a name reserved by iota");
    const reexport = compileLinked(`import { x } from "./m"; export default () => x;`, "javascript", lookupOf({ m: `export { y as x } from "./n";` }));
    expect(reexport.ok ? null : reexport.diagnostics[0]!.message).toMatch(/module m does not compile .*export … from is not supported/);
  });

  it("leaves a script without imports exactly as before", () => {
    const linked = compileLinked("export default () => 1;", "javascript", () => undefined);
    expect(linked.ok && linked.script.linked).toBeUndefined();
  });
});

describe("packages: bundled, evaluated once per realm, frozen", () => {
  it("imports an allowed package by name and as npm:<name>", async () => {
    const result = await runLinked(
      `import { z } from "zod";\nimport { camelCase } from "npm:lodash-es";\nexport default async (event) => [z.object({ n: z.number() }).parse(event).n, camelCase("a-b")];`,
      {},
      { event: { n: 3 } },
    );
    expect(result.error).toBeNull();
    expect(result.result).toEqual([3, "aB"]);
  });

  it("counts a package towards the realm's memory like any code", async () => {
    const without = await runLinked(`export default async () => typeof Object;`, {});
    const withZod = await runLinked(`import { z } from "zod";\nexport default async () => typeof z.object;`, {});
    expect(withZod.result).toBe("function");
    // zod's 60 KB of code and the objects it builds live in the realm's own heap.
    expect(withZod.memoryBytes - without.memoryBytes).toBeGreaterThan(200 * 1024);
  });

  it("freezes a package's exports: an execution cannot change them for the next", async () => {
    const source = `import { z } from "zod";\nexport default async () => { try { z.string = () => "hacked"; } catch (e) { return e.constructor.name; } return "written"; };`;
    const result = await runLinked(source, {});
    expect(result.result).toBe("TypeError");
    await expectHealthy(sandbox);
  });
});
