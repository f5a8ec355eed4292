import { readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { jsBlocks, tsBlocks } from "../docs-examples";

const root = join(import.meta.dirname, "..", "..");
const declarations = join(root, "sdk", "iota.d.ts");

/**
 * Type-checks scripts against sdk/iota.d.ts, as the admin UI's editor would: JavaScript with
 * JSDoc, or TypeScript with the editor's options (only erasable syntax, API.md §13).
 */
function typeErrors(sources: string[] | Record<string, string>, language: "javascript" | "typescript" = "javascript"): string[] {
  const extension = language === "typescript" ? "ts" : "js";
  const named = Array.isArray(sources) ? Object.fromEntries(sources.map((source, i) => [`example-${i}`, source])) : sources;
  const files = new Map(Object.entries(named).map(([name, source]) => [join(root, `${name}.${extension}`), source]));
  const options: ts.CompilerOptions = {
    allowJs: true,
    checkJs: true,
    erasableSyntaxOnly: true,
    useDefineForClassFields: true,
    noEmit: true,
    strict: true,
    target: ts.ScriptTarget.ES2023,
    module: ts.ModuleKind.ESNext,
    lib: ["lib.es2023.d.ts"],
    types: [],
    // As in the editor: modules beside the script, `zod` as the platform bundles it (zod 3).
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    allowImportingTsExtensions: true,
    baseUrl: root,
    paths: { zod: ["node_modules/zod3"], "npm:*": ["node_modules/*"] },
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => files.get(name) ?? readFile(name);
  host.fileExists = (name) => files.has(name) || ts.sys.fileExists(name);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version) => {
    const text = files.get(name);
    return text !== undefined ? ts.createSourceFile(name, text, version) : getSourceFile(name, version);
  };
  const program = ts.createProgram([declarations, ...files.keys()], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
}

describe("sdk/iota.d.ts", () => {
  const examples = jsBlocks(readFileSync(join(root, "docs", "sdk.md"), "utf8"));

  it("type-checks every example in docs/sdk.md", () => {
    expect(examples.length).toBeGreaterThanOrEqual(7);
    expect(typeErrors(examples)).toEqual([]);
  }, 60_000);

  it("type-checks the TypeScript example in docs/sdk.md, as the editor does", () => {
    const typescript = tsBlocks(readFileSync(join(root, "docs", "sdk.md"), "utf8"));
    expect(typescript).toHaveLength(3);
    expect(typeErrors(typescript.slice(0, 1), "typescript")).toEqual([]);
    // The editor's options flag what the platform refuses to strip.
    expect(typeErrors(["enum Color { Red }\nexport default () => Color.Red;\n"], "typescript")).toEqual([expect.stringContaining("erasableSyntaxOnly")]);
  }, 60_000);

  it("type-checks the modules example (a module importing big.js, a script importing it and zod), as the editor does", () => {
    const [, money, order] = tsBlocks(readFileSync(join(root, "docs", "sdk.md"), "utf8"));
    expect(typeErrors({ money: money!, order: order! }, "typescript")).toEqual([]);
    expect(typeErrors({ money: money!, order: order!.replace("total(lines)", "total(3)") }, "typescript")).toHaveLength(1);
  }, 60_000);

  it("catches misuse of the SDK", () => {
    const errors = typeErrors([
      `export default async () => {
        await iota.db.query("users", { limit: "ten" });
        await iota.http.get(42);
        await iota.secrets.fetch("X");
        await iota.events.publish("a", {}, { delay: 5 });
        iota.log.notice("x");
      };`,
    ]);
    expect(errors).toHaveLength(5);
  }, 60_000);

  it("types the handler object: request, env and ctx for the editor, Workers' names included", () => {
    expect(
      typeErrors(
        [`export default {
          async fetch(request, env, ctx) {
            ctx.waitUntil(Promise.resolve(ctx.basePath.length + ctx.attempt));
            ctx.passThroughOnException();
            return new Response(await request.text(), { headers: { "x-key": env.API_KEY ?? "" } });
          },
          scheduled(controller) { return controller.cron; },
          run(input, env, ctx) { return { input, trigger: ctx.trigger }; },
        } satisfies ExportedHandler;`],
        "typescript",
      ),
    ).toEqual([]);
    const misuse = typeErrors([
      `/** @type {ExportedHandler} */
      export default {
        fetch(request, env, ctx) {
          ctx.waitUntil();
          request.bodyText;
          /** @type {number} */ const n = env.TOKEN;
          return { status: 200 };
        },
      };`,
    ]);
    expect(misuse).toHaveLength(4);
  }, 60_000);
});
