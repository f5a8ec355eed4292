import { afterAll, describe, expect, it } from "vitest";
import { ALLOWED_PACKAGES } from "../../src/packages/allowed";
import { PACKAGES } from "../../src/packages/registry";
import { compileLinked } from "../../src/sandbox/modules";
import { LIMITS, newSandbox } from "./helpers";

// The allowed packages (API.md §13): each is evaluated once per realm and frozen, so two
// executions in the same warm realm cannot pass data through it. Per package: execution A
// tries to leave a mark on everything reachable from the package's exports (a property on
// every object and function, an entry in every Map and Set, an element in every array) and
// calls its stateful-looking API; execution B, in the same realm, looks for any mark.

const sandbox = newSandbox();
afterAll(() => sandbox.dispose());

/**
 * Guest code: every object reachable from `root` (own properties, accessors, prototypes),
 * and from what the package hands out: an instance of each class it exports (made with no
 * arguments) and what each getter answers, since state a package keeps in its closure
 * (defaults, rule tables) is reached through those, not through its exports.
 */
const REACHABLE = `function reachable(root) {
  const seen = new Set(), queue = [root], out = [];
  const handedOut = (v, d) => {
    if (d.get) try { queue.push(d.get.call(v)); } catch {}
  };
  const instance = (v) => {
    if (typeof v === "function" && typeof v.prototype === "object" && v.prototype !== null) try { queue.push(new v()); } catch {}
  };
  while (queue.length > 0 && out.length < 50000) {
    const v = queue.pop();
    if ((typeof v !== "object" && typeof v !== "function") || v === null || seen.has(v)) continue;
    seen.add(v); out.push(v);
    queue.push(Object.getPrototypeOf(v));
    instance(v);
    for (const k of Reflect.ownKeys(v)) {
      const d = Object.getOwnPropertyDescriptor(v, k);
      if (d) { if ("value" in d) queue.push(d.value); else { queue.push(d.get, d.set); handedOut(v, d); } }
    }
  }
  return out;
}`;

/** What execution A does through each package's own API, beyond the generic marks. */
const STATEFUL_CALLS: Record<string, string> = {
  zod: `try { pkg.z.setErrorMap?.(() => ({ message: "leak" })); } catch {}`,
  "date-fns": `try { pkg.setDefaultOptions?.({ weekStartsOn: 3 }); } catch {}`,
  "lodash-es": `try { pkg.uniqueId?.(); pkg.uniqueId?.(); } catch {} try { pkg.memoize.Cache = Map; } catch {}`,
  "big.js": `try { pkg.Big.DP = 3; } catch {}`,
  marked: `pkg.marked.use({ gfm: false, breaks: true }); pkg.setOptions({ pedantic: true }); new pkg.Parser().options.renderer.leak = 1;`,
  "js-yaml": `try { pkg.DEFAULT_SCHEMA.compiledImplicit?.push?.("leak"); } catch {}`,
};

/** What execution B answers through each package's API: it must equal what a fresh realm answers. */
const OBSERVE: Record<string, string> = {
  zod: `(() => { const r = pkg.z.string().safeParse(1); return r.success ? "ok" : r.error.issues[0].message; })()`,
  "date-fns": `pkg.getDefaultOptions().weekStartsOn ?? null`,
  "lodash-es": `[typeof pkg.uniqueId, pkg.memoize.Cache === Map ? "map" : "own"]`,
  "big.js": `pkg.Big.DP`,
  marked: `[pkg.marked.parse("a\\nb"), pkg.parse("~~x~~"), new pkg.Renderer().options.breaks]`,
  "js-yaml": `pkg.dump(pkg.load("a: [1, 2]"))`,
  nanoid: `pkg.nanoid().length`,
  "d3-dsv": `pkg.csvParse("a,b\\n1,2")[0]`,
  "fast-xml-parser": `new pkg.XMLParser().parse("<a><b>1</b></a>")`,
};

function scriptFor(name: string): string {
  return `import * as pkg from "npm:${name}";
${REACHABLE}
export default async (event) => {
  const all = reachable(pkg);
  if (event.mark) {
    let marked = 0;
    for (const v of all) {
      try { v.__leak = "secret"; marked++; } catch {}
      try { if (v instanceof Map) { v.set("__leak", "secret"); marked++; } } catch {}
      try { if (v instanceof Set) { v.add("__leak"); marked++; } } catch {}
      try { if (Array.isArray(v)) { v.push("__leak"); marked++; } } catch {}
    }
    ${"${STATEFUL}"}
    return { marked };
  }
  const found = all.filter((v) => Object.hasOwn(v, "__leak") || (v instanceof Map && v.has("__leak")) || (v instanceof Set && v.has("__leak")) || (Array.isArray(v) && v.includes("__leak")));
  if (found.length) return { found: found.length, what: found.slice(0, 5).map((v) => typeof v + ":" + (v.constructor?.name) + ":" + Reflect.ownKeys(v).slice(0, 8).map(String).join(",")) };
  return { found: found.length, observed: ${"${OBSERVE}"}, objects: all.length };
};`;
}

describe("allowed packages: nothing passes between executions (API.md §13)", () => {
  it("the list has at least 8 packages, each bundled at the version in the lockfile, each with a reason", () => {
    expect(PACKAGES.length).toBeGreaterThanOrEqual(8);
    for (const pkg of ALLOWED_PACKAGES) expect(pkg.why.length, pkg.name).toBeGreaterThan(10);
    expect(PACKAGES.map((p) => p.name).sort()).toEqual(ALLOWED_PACKAGES.map((p) => p.name).sort());
  });

  for (const { name } of PACKAGES) {
    it(`${name}: a second execution in the same realm sees nothing the first left`, async () => {
      const source = scriptFor(name).replace("${STATEFUL}", STATEFUL_CALLS[name] ?? "").replace("${OBSERVE}", OBSERVE[name] ?? "null");
      const linked = compileLinked(source, "javascript", () => undefined);
      if (!linked.ok) throw new Error(JSON.stringify(linked.diagnostics));
      const exec = (event: unknown, scriptKey: string) => sandbox.execute({ tenant: "t", scriptKey, script: linked.script, event, ctx: {}, limits: LIMITS });
      const fresh = await exec({}, `fresh-${name}`);
      expect(fresh.error, name).toBeNull();
      const a = await exec({ mark: true }, `shared-${name}`);
      expect(a.error, name).toBeNull();
      const b = await exec({}, `shared-${name}`);
      expect(b.warm, JSON.stringify([a.status, a.error, a.result, b.status, b.error])).toBe(true);
      expect(b.error).toBeNull();
      expect((b.result as { found: number }).found, JSON.stringify(b.result)).toBe(0);
      expect((b.result as { observed: unknown }).observed).toEqual((fresh.result as { observed: unknown }).observed);
    });
  }
});

describe("allowed packages: frozen, they still work as documented", () => {
  // Freezing reaches what the packages' classes and getters hand out (linking.ts): their
  // common calls must still work, in a warm realm's second execution as in its first.
  const source = `import * as _ from "lodash-es"; import { format, parseISO, formatDistance } from "date-fns";
import * as yaml from "js-yaml"; import { z } from "zod"; import Big from "big.js"; import { csvParse, csvFormat } from "d3-dsv";
import { XMLParser, XMLBuilder } from "fast-xml-parser"; import { customAlphabet } from "nanoid"; import { marked, Marked } from "marked";
export default async () => [
  _.escape("<a>&'"), _.camelCase("Foo Bar-baz"), _.words("fred, barney"), _.deburr("déjà"), _.set({}, "a.b[0]", 1), _.memoize((x) => x * 2)(2),
  format(parseISO("2024-02-03T04:05:06Z"), "yyyy-MM-dd"), formatDistance(new Date(0), new Date(86400000 * 3)),
  yaml.dump(yaml.load("a: [1, 2]")), z.object({ a: z.string().email() }).safeParse({ a: "x@y.io" }).success, new Big("0.1").plus("0.2").toFixed(2),
  csvParse("a,b\\n1,2")[0], csvFormat([{ a: "x,y" }]), new XMLParser({ ignoreAttributes: false }).parse('<a x="1"><b>0x10</b></a>'),
  new XMLBuilder().build({ a: { b: [1, 2] } }), customAlphabet("ab", 4)().length, marked.parse("# hi *there*"), new Marked({ breaks: true }).parse("a\\nb"),
];`;
  const expected = [
    "&lt;a&gt;&amp;&#39;", "fooBarBaz", ["fred", "barney"], "deja", { a: { b: [1] } }, 4,
    "2024-02-03", "3 days",
    "a:\n  - 1\n  - 2\n", true, "0.30",
    { a: "1", b: "2" }, 'a\n"x,y"', { a: { b: 16, "@_x": "1" } },
    "<a><b>1</b><b>2</b></a>", 4, "<h1>hi <em>there</em></h1>\n", "<p>a<br>b</p>\n",
  ];

  it("common calls of every package give their documented answers, twice in one realm", async () => {
    const linked = compileLinked(source, "javascript", () => undefined);
    if (!linked.ok) throw new Error(JSON.stringify(linked.diagnostics));
    for (const warm of [false, true]) {
      const result = await sandbox.execute({ tenant: "t", scriptKey: "frozen-still-work", script: linked.script, event: {}, ctx: {}, limits: LIMITS });
      expect(result.error).toBeNull();
      expect(result.warm).toBe(warm);
      expect(result.result).toEqual(expected);
    }
  });
});
