/**
 * The allow-list of npm packages a script may import (API.md §13, "Packages"): the one
 * place that says which packages exist in the sandbox, where each comes from, and why it is
 * safe there. `npm run packages:bundle` (scripts/bundle-packages.ts) bundles each entry at
 * build time into src/packages/bundled.ts; nothing is fetched at run time.
 *
 * Admission rules (docs/decisions.md): pure JavaScript (no Node built-ins, no Wasm, no
 * network); loads without BigInt, eval or the Function constructor (the realm has none);
 * keeps no mutable state after import that two executions could pass data through (each
 * package is evaluated once per realm and deep-frozen; state hidden in closures is what
 * freezing cannot reach, so such exports are left out here and the test per package in
 * test/packages/isolation.test.ts shows none is left).
 */
export interface AllowedPackage {
  /** What scripts import (`zod`, or `npm:zod`). */
  name: string;
  /** The dependency in package.json it is bundled from (an npm alias when the platform itself uses another major). */
  from: string;
  /**
   * ESM text re-exporting what scripts get, from the names the package exports; default:
   * every named export (and `default`) but `exclude`.
   */
  entry?: (exports: string[]) => string;
  /** Named exports left out of `entry`'s `export *` (each with its reason in `leftOut`). */
  exclude?: string[];
  /** A source edit applied while bundling (file name ending, exact text, replacement), with its reason in `leftOut`. */
  patch?: { file: string; find: string; replace: string };
  /**
   * Evaluated afresh in every execution instead of once per realm (why): for a package whose
   * classes write to module-level state freezing cannot reach without breaking them. Costs
   * the package's evaluation in every execution; nothing of it outlives the execution.
   */
  perExecution?: string;
  /** Why it is safe in a QuickJS realm shared by executions once frozen. */
  why: string;
  /** What was left out or configured, and why. */
  leftOut?: string;
}

export const ALLOWED_PACKAGES: readonly AllowedPackage[] = [
  {
    name: "zod",
    from: "zod3",
    why: "Validation. Schemas are built per call; the module keeps no state after import.",
    leftOut:
      "Pinned to zod 3 (npm alias zod3): zod 4 calls BigInt() while loading and the realm has no BigInt. z.bigint() exists but fails when used (no BigInt). setErrorMap is left out (also from `z`): it sets a module-level error map, closure state one execution could leave for the next.",
    exclude: ["setErrorMap"],
    entry: (names) =>
      [
        `import * as all from "zod3";`,
        `const z = {};`,
        `for (const key of Object.keys(all.z)) if (key !== "setErrorMap") z[key] = all.z[key];`,
        `export { z, z as default };`,
        `export { ${names.filter((n) => !["setErrorMap", "z", "default"].includes(n)).join(", ")} } from "zod3";`,
      ].join("\n"),
  },
  {
    name: "date-fns",
    from: "date-fns",
    why: "Dates: pure functions over Date values, no module-level state.",
    leftOut: "setDefaultOptions changes a module-level default (closure state freezing cannot reach), so it is left out; pass options per call.",
    exclude: ["setDefaultOptions"],
  },
  {
    name: "lodash-es",
    from: "lodash-es",
    why: "Collections and utilities: pure functions on their arguments.",
    leftOut:
      "uniqueId (a module-level counter: one execution could see how far another counted), the default export `_` and its chain wrapper (mixin and templateSettings mutate it), runInContext (builds a new lodash from globals), and template (compiles with the Function constructor, which the realm does not have).",
    exclude: ["uniqueId", "default", "runInContext", "mixin", "template", "templateSettings", "chain", "wrapperChain", "lodash"],
  },
  {
    name: "nanoid",
    from: "nanoid",
    why: "Ids from crypto.getRandomValues per call (the browser build: no shared random pool).",
  },
  {
    name: "js-yaml",
    from: "js-yaml",
    why: "YAML parse/dump; schemas are built at import and frozen with it.",
  },
  {
    name: "d3-dsv",
    from: "d3-dsv",
    why: "CSV/TSV parse and format: pure functions.",
    leftOut:
      "Configured at build time: csvParse/tsvParse build their row objects with the Function constructor (the realm has none); the bundle's objectConverter makes them with a loop instead (same objects, own data properties).",
    patch: {
      file: "d3-dsv.mjs",
      find: `function objectConverter(columns) {
  return new Function("d", "return {" + columns.map(function(name, i) {
    return JSON.stringify(name) + ": d[" + i + "] || \\"\\"";
  }).join(",") + "}");
}`,
      replace: `function objectConverter(columns) {
  return function(d) {
    var object = {};
    for (var i = 0; i < columns.length; i++) Object.defineProperty(object, columns[i], { value: d[i] || "", writable: true, enumerable: true, configurable: true });
    return object;
  };
}`,
    },
  },
  {
    name: "fast-xml-parser",
    from: "fast-xml-parser",
    why: "XML parse/build: parser instances are made per call (new XMLParser()).",
  },
  {
    name: "big.js",
    from: "big.js",
    why: "Decimal maths without BigInt. Big.DP/Big.RM are on the frozen constructor: use Big() to make a configured constructor of your own.",
  },
  {
    name: "marked",
    from: "marked",
    why: "Markdown to HTML, the whole API as documented (marked.parse, marked.use, new Marked(), Lexer, Parser…): evaluated afresh in every execution, so what one execution configures is gone in the next.",
    perExecution:
      "Its Lexer, Parser, Renderer and Tokenizer fall back to a module-level defaults object and write into it (new Parser() sets its renderer there), and its rule tables are shared: freezing them breaks marked, leaving them lets one execution change the next one's output. Its evaluation (~1–3 ms) is paid per execution instead.",
  },
];
