/**
 * The allowed packages' type declarations for the admin UI's editor (API.md §13): each
 * package's declaration entry and every declaration file it reaches, under the name scripts
 * import it by (`zod` for the zod3 alias), written to admin/src/generated/package-types.json
 * as `{path: text}` with `node_modules/…` paths. Run by `npm run packages:bundle`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { ALLOWED_PACKAGES } from "../src/packages/allowed";

const NODE_MODULES = join(process.cwd(), "node_modules");

function packageJson(dir: string): Record<string, any> {
  return JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
}

/** The declaration entry of a package directory, or null. */
function typesEntry(dir: string): string | null {
  const pkg = packageJson(dir);
  const dot = pkg.exports?.["."];
  const candidates = [dot?.types, dot?.import?.types, pkg.types, pkg.typings, "index.d.ts"].filter((c): c is string => typeof c === "string");
  for (const c of candidates) if (existsSync(join(dir, c))) return join(dir, c);
  return null;
}

/** Where a bare specifier's declarations live: the package itself, or its @types package. */
function packageDir(name: string): string | null {
  for (const dir of [join(NODE_MODULES, name), join(NODE_MODULES, "@types", name.startsWith("@") ? name.slice(1).replace("/", "__") : name)]) {
    if (existsSync(join(dir, "package.json")) && typesEntry(dir)) return dir;
  }
  return null;
}

/**
 * The declaration file TypeScript reads for a relative import: `x.cjs` → `x.d.cts`, `x.mjs` →
 * `x.d.mts`, `x.js` → `x.d.ts` first (the editor resolves the same way, so a `.d.ts` stored
 * for a `.cjs` import is never found: zod's types did not resolve).
 */
function resolveRelative(from: string, specifier: string): string | null {
  const base = join(dirname(from), specifier);
  const stem = base.replace(/\.(m|c)?[jt]s$/, "");
  const own = /\.c[jt]s$/.test(base) ? `${stem}.d.cts` : /\.m[jt]s$/.test(base) ? `${stem}.d.mts` : `${stem}.d.ts`;
  for (const c of [base, own, `${stem}.d.ts`, `${stem}.d.mts`, `${stem}.d.cts`, join(base, "index.d.ts")]) {
    if (/\.d\.(m|c)?ts$/.test(c) && existsSync(c)) return c;
  }
  return null;
}

const files = new Map<string, string>();
/** Real directory → the directory it is shown under (node_modules/zod for zod3). */
const shownAs = new Map<string, string>();

function shownPath(file: string): string {
  for (const [real, shown] of shownAs) if (file.startsWith(real + "/")) return join(shown, relative(real, file));
  return relative(process.cwd(), file);
}

function addPackage(dir: string, shown: string) {
  if (shownAs.has(dir)) return;
  shownAs.set(dir, shown);
  const entry = typesEntry(dir)!;
  files.set(join(shown, "package.json"), JSON.stringify({ name: relative("node_modules", shown), types: relative(dir, entry) }));
  walk(entry);
}

function walk(file: string) {
  const key = shownPath(file);
  if (files.has(key)) return;
  const text = readFileSync(file, "utf8");
  files.set(key, text);
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']|\/\/\/\s*<reference\s+path="([^"]+)"/g)].map((m) => m[1] ?? m[2]!);
  for (const specifier of specifiers) {
    if (specifier.startsWith(".")) {
      const resolved = resolveRelative(file, specifier);
      if (resolved) walk(resolved);
    } else {
      const name = specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0]!;
      const dir = packageDir(name);
      if (dir && !shownAs.has(dir)) addPackage(dir, relative(process.cwd(), dir));
    }
  }
}

for (const pkg of ALLOWED_PACKAGES) {
  const dir = packageDir(pkg.from);
  if (!dir) throw new Error(`no type declarations for ${pkg.name}`);
  addPackage(dir, join("node_modules", dir.includes("/@types/") ? join("@types", pkg.name) : pkg.name));
}
mkdirSync("admin/src/generated", { recursive: true });
writeFileSync("admin/src/generated/package-types.json", JSON.stringify(Object.fromEntries([...files].sort())));
const bytes = [...files.values()].reduce((n, t) => n + t.length, 0);
console.log(`package types: ${files.size} files, ${bytes} characters`);
