/**
 * Imports (API.md §13): a script's `import … from "./<module>"` and `import … from "<package>"`,
 * compiled into ES modules that a realm links with its module loader (realm.ts).
 *
 * Every file stays a *factory* (compile.ts): modules run afresh in every execution, like the
 * script's own code. A module `m` becomes the ES module `module:m`, whose default export is
 * `async function $module$($iota_r$)`: it runs the module's body and returns its exports
 * (read when its body has finished). Its dependencies are imported for real, as factories,
 * at the end of the text (imports are hoisted, so no position moves); the body's first line
 * then binds what it imports by calling them through `$iota_r$`, the execution's table of
 * evaluated modules, so a module two files import runs once per execution (ES semantics)
 * and dependencies run before their importers, depth first, in import order.
 *
 * Packages are different: `package:<name>` is the package's own bundled module, imported for
 * real, evaluated once when the realm is built and then deep-frozen (realm.ts); its bindings
 * are read from its namespace. A package the allow-list evaluates per execution is a factory
 * like a module (called once per execution through the same table), not frozen.
 *
 * Positions: import declarations become spaces (newlines kept) and the bindings go on line 1
 * after the wrapper, so every line and column is the author's; stack traces and diagnostics
 * take each file's line-1 prefix back out (`mapLinkedStack`).
 *
 * Checked at save and again when a version is loaded: a missing module, a module of another
 * tenant (it is not in the lookup), a cycle, a graph deeper than MAX_IMPORT_DEPTH or larger
 * than MAX_IMPORTED_MODULES, a name the target does not export, a package not allowed.
 */
import { parse, type Node } from "acorn";
import { allowedPackage, allowedPackageList, packageExports, packageRunsPerExecution, packageSource, packageVersionMismatch } from "../packages/registry";
import {
  acornDiagnostic,
  applyEdits,
  blank,
  BODY_END,
  type CompiledScript,
  compileJavaScript,
  type CompileResult,
  DEFAULT_BINDING,
  defaultKeyword,
  type Diagnostic,
  type Edit,
  exportedName,
  MODULE_FUNCTION,
  position,
  scanNodes,
  SCRIPT_FILE,
  SOURCE_PREFIX,
  sortDiagnostics,
} from "./compile";
import { type Language, stripTypes } from "./typescript";

/** An import chain longer than this (script → m1 → … → m16 → m17) is refused. */
export const MAX_IMPORT_DEPTH = 16;
/** A script may reach at most this many modules through its imports. */
export const MAX_IMPORTED_MODULES = 64;

/** A module as the catalogue holds it: its latest version. */
export interface ModuleSource {
  name: string;
  version: number;
  source: string;
  language: Language;
}

/** The tenant's importable modules by name (another tenant's never are). */
export type ModuleLookup = (name: string) => ModuleSource | undefined;

/** How a compiled script's imports are linked in a realm. */
export interface LinkedFiles {
  /** Module specifier (`module:<name>`) → its factory module. */
  modules: Record<string, string>;
  /** Allowed packages the graph imports (evaluated once per realm, then frozen). */
  packages: string[];
  /** File name → characters on its line 1 before the author's code. */
  linePrefixes: Record<string, number>;
}

/** The modules an execution ran with, as its record lists them. */
export interface ModuleVersion {
  name: string;
  version: number;
}

export type LinkResult =
  | { ok: true; script: CompiledScript; modules: ModuleVersion[]; sourceBytes: number }
  | { ok: false; diagnostics: Diagnostic[] };

/** The realm's name for a module's file, and its import specifier. */
export const moduleFile = (name: string) => `module:${name}`;
/** The realm's name for a package's file. */
export const packageFile = (name: string) => `package:${name}`;

const TABLE = "$iota_r$";
/**
 * A script's wrapper: compile.ts's own, then the table of evaluated modules, empty in every
 * execution (a literal: no global the author could shadow is involved).
 */
const ROOT_PREFIX = `${SOURCE_PREFIX}const ${TABLE}={__proto__:null};`;
/** A module's wrapper: its importer passes the execution's table. */
const MODULE_PREFIX = `export default async function ${MODULE_FUNCTION}(${TABLE}){let ${DEFAULT_BINDING};`;

type Target = { kind: "module" | "package"; name: string };

interface ImportSite {
  target: Target;
  /** `imported` is "*" for a namespace import. */
  bindings: Array<{ imported: string; local: string }>;
  /** Offset of the specifier in the author's source. */
  at: number;
}

interface Split {
  /** The JavaScript with every import declaration turned into spaces. */
  js: string;
  imports: ImportSite[];
}

interface CompiledModule {
  name: string;
  version: number;
  /** The module's factory without its linking (prefix bindings and tail imports come later). */
  body: string;
  imports: ImportSite[];
  exports: Set<string>;
  usesCellState: boolean;
  webGroups: string[];
  sourceBytes: number;
}

/**
 * Compiles a script with its imports: with none, exactly `compileJavaScript`'s factory (the
 * path of every script before imports existed). `lookup` answers the tenant's modules;
 * `self` names the module being saved when the script is one (its new source stands in for
 * the stored one, so a save that closes a cycle is caught).
 */
export function compileLinked(source: string, language: Language, lookup: ModuleLookup, self?: string): LinkResult {
  const js = toJavaScript(source, language);
  if (!js.ok) return js;
  const split = splitImports(js.code);
  if (!split.ok) return split;
  const compiled = compileJavaScript(split.value.js);
  if (!compiled.ok) return compiled;
  const sourceBytes = utf8Bytes(source);
  if (split.value.imports.length === 0) return { ok: true, script: { ...compiled.script, sourceBytes }, modules: [], sourceBytes };
  const graph = resolveGraph(source, split.value.imports, lookup, self);
  if (!graph.ok) return graph;
  const body = compiled.script.factorySource.slice(SOURCE_PREFIX.length);
  const root = link(ROOT_PREFIX, body, split.value.imports);
  const problem = verifyLinked(root.text, root.prefixLength, codeLength(body), root.tailCount, 0);
  if (problem) return { ok: false, diagnostics: [{ line: 1, column: 1, message: problem }] };
  const modules: Record<string, string> = {};
  const linePrefixes: Record<string, number> = { [SCRIPT_FILE]: root.prefixLength };
  const packages = new Set<string>();
  for (const site of split.value.imports) if (site.target.kind === "package") packages.add(site.target.name);
  let usesCellState = compiled.script.usesCellState;
  const webGroups = new Set(compiled.script.webGroups);
  let total = sourceBytes;
  for (const mod of graph.modules) {
    const linked = link(MODULE_PREFIX, mod.body, mod.imports);
    const broken = verifyLinked(linked.text, linked.prefixLength, codeLength(mod.body), linked.tailCount, 1);
    if (broken) return { ok: false, diagnostics: [{ line: 1, column: 1, message: `module ${mod.name}: ${broken}` }] };
    modules[moduleFile(mod.name)] = linked.text;
    linePrefixes[moduleFile(mod.name)] = linked.prefixLength;
    for (const site of mod.imports) if (site.target.kind === "package") packages.add(site.target.name);
    usesCellState ||= mod.usesCellState;
    for (const group of mod.webGroups) webGroups.add(group);
    total += mod.sourceBytes;
  }
  const script: CompiledScript = {
    ...compiled.script,
    factorySource: root.text,
    sourceBytes,
    usesCellState,
    webGroups: [...webGroups].sort(),
    linked: { modules, packages: [...packages].sort(), linePrefixes },
  };
  return { ok: true, script, modules: graph.modules.map((m) => ({ name: m.name, version: m.version })), sourceBytes: total };
}

/**
 * Saving a module: its own checks, then its graph (`self` is its name, so a save that closes
 * a cycle through it is refused). Answers the diagnostics (empty when it links) and the
 * UTF-8 size of it plus every module it reaches.
 */
export function checkModule(source: string, language: Language, lookup: ModuleLookup, self: string): { diagnostics: Diagnostic[]; sourceBytes: number; factory?: string } {
  const own = compileModule({ name: self, version: 0, source, language });
  if (!own.ok) return { diagnostics: own.diagnostics, sourceBytes: utf8Bytes(source) };
  const graph = resolveGraph(source, own.module.imports, lookup, self);
  if (!graph.ok) return { diagnostics: graph.diagnostics, sourceBytes: utf8Bytes(source) };
  const linked = link(MODULE_PREFIX, own.module.body, own.module.imports);
  const broken = verifyLinked(linked.text, linked.prefixLength, codeLength(own.module.body), linked.tailCount, 1);
  if (broken) return { diagnostics: [{ line: 1, column: 1, message: broken }], sourceBytes: own.module.sourceBytes };
  return { diagnostics: [], sourceBytes: graph.modules.reduce((total, m) => total + m.sourceBytes, own.module.sourceBytes), factory: linked.text };
}

/**
 * A module's own checks, without its imports resolved: what saving a `type: module` script
 * checks before its graph (a module has no default-export rule; its exports are named).
 */
export function compileModule(mod: ModuleSource): { ok: true; module: CompiledModule } | { ok: false; diagnostics: Diagnostic[] } {
  const js = toJavaScript(mod.source, mod.language);
  if (!js.ok) return js;
  const split = splitImports(js.code);
  if (!split.ok) return split;
  // Parsed with its imports (an export may name an imported binding); the edits apply to the
  // text without them, at the same offsets.
  let program: Node & { body: Node[] };
  try {
    program = parse(js.code, { ecmaVersion: "latest", sourceType: "module" }) as never;
  } catch (error) {
    return { ok: false, diagnostics: [acornDiagnostic(error)] };
  }
  const source = split.value.js;
  const diagnostics: Diagnostic[] = [];
  const problem = (node: Node, message: string) => diagnostics.push({ ...position(source, node.start), message });
  const { usesCellState, webGroups } = scanNodes(program, problem);
  const edits: Edit[] = [];
  if (source.startsWith("#!")) edits.push(blank(0, source.search(/[\n\r\u2028\u2029]|$/)));
  const exports = new Map<string, string>();
  for (const statement of program.body) {
    const s = statement as Node & Record<string, any>;
    if (s.type === "ExportAllDeclaration" || (s.type === "ExportNamedDeclaration" && s.source)) {
      problem(s, "export … from is not supported in a module: import the names, then export them");
    } else if (s.type === "ExportNamedDeclaration") {
      if (s.declaration) {
        edits.push(blank(s.start, s.start + "export".length));
        for (const name of declaredNames(s.declaration)) exports.set(name, name);
      } else {
        for (const specifier of s.specifiers) exports.set(exportedName(specifier)!, specifier.local.name);
        edits.push(blank(s.start, s.end));
      }
    } else if (s.type === "ExportDefaultDeclaration") {
      const d = s.declaration;
      const keyword = defaultKeyword(source, s.start, d.start);
      edits.push(blank(s.start, s.start + "export".length));
      if ((d.type === "FunctionDeclaration" || d.type === "ClassDeclaration") && d.id) {
        edits.push(blank(keyword, keyword + "default".length));
        exports.set("default", d.id.name);
      } else {
        edits.push({ start: keyword, end: keyword + "default".length, text: `${DEFAULT_BINDING}=` });
        if (d.type === "FunctionDeclaration" || d.type === "ClassDeclaration") edits.push({ start: d.end, end: d.end, text: ";" });
        exports.set("default", DEFAULT_BINDING);
      }
    }
  }
  if (diagnostics.length > 0) return { ok: false, diagnostics: sortDiagnostics(diagnostics) };
  const returned = `return{${[...exports].map(([exported, local]) => `${JSON.stringify(exported)}:${local}`).join(",")}}`;
  const body = `${applyEdits(source, edits)}${BODY_END}${returned}}`;
  return {
    ok: true,
    module: { name: mod.name, version: mod.version, body, imports: split.value.imports, exports: new Set(exports.keys()), usesCellState, webGroups, sourceBytes: utf8Bytes(mod.source) },
  };
}

/** A linked file: the wrapper and the bindings on line 1, the body, the real imports at the end. */
function link(prefix: string, body: string, imports: ImportSite[]): { text: string; prefixLength: number; tailCount: number } {
  const tail = new Map<string, string>();
  const bindings: string[] = [];
  imports.forEach((site, index) => {
    const file = site.target.kind === "module" ? moduleFile(site.target.name) : packageFile(site.target.name);
    let imported = tail.get(file);
    if (!imported) {
      imported = `$iota_${site.target.kind === "module" ? "f" : "p"}${tail.size}$`;
      tail.set(file, imported);
    }
    const namespace = `$iota_n${index}$`;
    const value =
      site.target.kind === "module"
        ? `await(${TABLE}[${JSON.stringify(site.target.name)}]??=${imported}(${TABLE}))`
        : packageRunsPerExecution(site.target.name)
          ? `(${TABLE}[${JSON.stringify(file)}]??=${imported}())`
          : imported;
    const declarators = [`${namespace}=${value}`, ...site.bindings.map((b) => `${b.local}=${b.imported === "*" ? namespace : `${namespace}[${JSON.stringify(b.imported)}]`}`)];
    bindings.push(`const ${declarators.join(",")};`);
  });
  const head = prefix + bindings.join("");
  // Modules and per-execution packages are factories (their default export); other packages are namespaces.
  const isFactory = (file: string) => file.startsWith("module:") || packageRunsPerExecution(file.slice("package:".length));
  const imported = [...tail].map(([file, local]) => (isFactory(file) ? `import ${local} from ${JSON.stringify(file)};` : `import * as ${local} from ${JSON.stringify(file)};`));
  return { text: `${head}${body}\n${imported.join("\n")}`, prefixLength: head.length, tailCount: imported.length };
}

/** Characters of a factory body up to the wrapper's `return` (the author's code and BODY_END). */
function codeLength(body: string): number {
  return body.lastIndexOf(`${BODY_END}return`) + BODY_END.length;
}

/**
 * The linked file parsed as QuickJS will parse it must be the wrapper, its bindings, the
 * author's code inside the function, and only the imports it was given after it: the same
 * guarantee as compile.ts's `verifyFactory`, for a file with imports. Answers why not, or null.
 */
function verifyLinked(text: string, prefixLength: number, codeLength: number, tailCount: number, params: 0 | 1): string | null {
  const refused = "the code cannot be wrapped safely (it would reach outside its function)";
  let program: Node & Record<string, any>;
  try {
    program = parse(text, { ecmaVersion: "latest", sourceType: "module" }) as never;
  } catch {
    return refused;
  }
  const [only, ...rest] = program.body;
  const fn = only?.declaration;
  const statements: Array<Node & Record<string, any>> = fn?.body?.body ?? [];
  const codeStart = prefixLength;
  const codeEnd = prefixLength + codeLength;
  const last = statements.at(-1);
  const intact =
    only?.type === "ExportDefaultDeclaration" &&
    only.start === 0 &&
    fn.type === "FunctionDeclaration" &&
    fn.id?.name === MODULE_FUNCTION &&
    fn.async === true &&
    fn.params.length === params &&
    rest.length === tailCount &&
    rest.every((s: Node & Record<string, any>) => s.type === "ImportDeclaration" && s.start > fn.end) &&
    last?.type === "ReturnStatement" &&
    last.start >= codeEnd &&
    statements.every((s) => s === last || s.end <= codeStart || (s.start >= codeStart && s.end <= codeEnd));
  return intact ? null : refused;
}

function toJavaScript(source: string, language: Language): { ok: true; code: string } | { ok: false; diagnostics: Diagnostic[] } {
  return language === "typescript" ? stripTypes(source) : { ok: true, code: source };
}

/** The imports of a module-syntax source, resolved to modules and packages, and the source without them. */
function splitImports(js: string): { ok: true; value: Split } | { ok: false; diagnostics: Diagnostic[] } {
  if (!/\bimport\b/.test(js)) return { ok: true, value: { js, imports: [] } };
  let program: Node & { body: Node[] };
  try {
    program = parse(js, { ecmaVersion: "latest", sourceType: "module" }) as never;
  } catch (error) {
    return { ok: false, diagnostics: [acornDiagnostic(error)] };
  }
  const diagnostics: Diagnostic[] = [];
  const imports: ImportSite[] = [];
  const edits: Edit[] = [];
  for (const statement of program.body) {
    const s = statement as Node & Record<string, any>;
    if (s.type !== "ImportDeclaration") continue;
    const at = position(js, s.source.start);
    if (s.attributes?.length > 0) {
      diagnostics.push({ ...at, message: "import attributes (with { … }) are not supported" });
      continue;
    }
    const target = resolveSpecifier(String(s.source.value));
    if (typeof target === "string") {
      diagnostics.push({ ...at, message: target });
      continue;
    }
    const bindings = (s.specifiers as Array<Record<string, any>>).map((spec) => ({
      imported: spec.type === "ImportDefaultSpecifier" ? "default" : spec.type === "ImportNamespaceSpecifier" ? "*" : (exportedName({ exported: spec.imported })! as string),
      local: spec.local.name as string,
    }));
    imports.push({ target, bindings, at: s.source.start });
    edits.push(blank(s.start, s.end));
  }
  if (diagnostics.length > 0) return { ok: false, diagnostics };
  return { ok: true, value: { js: applyEdits(js, edits), imports } };
}

/** The module names a source imports (as written, `./` taken off); [] when it does not parse. */
export function importedModuleNames(source: string, language: Language): string[] {
  const js = toJavaScript(source, language);
  if (!js.ok) return [];
  const split = splitImports(js.code);
  if (!split.ok) return [];
  return split.value.imports.filter((site) => site.target.kind === "module").map((site) => site.target.name);
}

/** `./name`, `./name.ts`, `./name.js` → a module; `name`, `npm:name` → an allowed package; else why not. */
export function resolveSpecifier(specifier: string): Target | string {
  if (specifier.startsWith("./")) {
    const name = specifier.slice(2);
    if (/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) return { kind: "module", name };
    return `cannot import "${specifier}": a module is imported as ./<module name> (modules are the tenant's scripts of type module)`;
  }
  const pkg = allowedPackage(specifier);
  if (pkg) return { kind: "package", name: pkg };
  const mismatch = packageVersionMismatch(specifier);
  if (mismatch) return `cannot import "${specifier}": ${mismatch}`;
  const subpath = /^(?:npm:)?((?:@[^/]+\/)?[^/@]+)\/./.exec(specifier);
  if (subpath && allowedPackage(subpath[1]!)) return `cannot import "${specifier}": import from the package itself ("${subpath[1]}"); subpaths of allowed packages are not served`;
  if (specifier.startsWith(".") || specifier.startsWith("/") || (/^[a-z]+:/.test(specifier) && !specifier.startsWith("npm:"))) {
    return `cannot import "${specifier}": import a module as ./<module name>, or an allowed package (${allowedPackageList()})`;
  }
  return `cannot import "${specifier}": it is not an allowed package; allowed packages are ${allowedPackageList()} (GET /api/runtime)`;
}

/** `./util.ts` and `./util.js` also name module `util` when no module has the longer name. */
function findModule(lookup: ModuleLookup, name: string): ModuleSource | undefined {
  return lookup(name) ?? (/\.(ts|js)$/.test(name) ? lookup(name.slice(0, -3)) : undefined);
}

/**
 * Every module the script reaches, compiled, in the order they are first reached; or the
 * diagnostics, each at the script's import through which the problem is reached.
 */
function resolveGraph(
  source: string,
  imports: ImportSite[],
  lookup: ModuleLookup,
  self: string | undefined,
): { ok: true; modules: CompiledModule[] } | { ok: false; diagnostics: Diagnostic[] } {
  const compiled = new Map<string, CompiledModule>();
  const done = new Set<string>();
  const diagnostics: Diagnostic[] = [];
  const order: CompiledModule[] = [];

  /** Walks `site`'s target; answers a problem, or null. `path` is the chain of module names from the script. */
  const visit = (site: ImportSite, path: string[]): string | null => {
    if (site.target.kind === "package") {
      const missing = site.bindings.find((b) => b.imported !== "*" && !packageExports(site.target.name, b.imported));
      return missing ? `package ${site.target.name} has no export named ${missing.imported}` : null;
    }
    const found = findModule(lookup, site.target.name);
    const shown = [...path, site.target.name].map((n) => `./${n}`).join(" → ");
    if (!found) return path.length === 0 ? `no module named ${site.target.name} in this tenant` : `${shown}: no module named ${site.target.name} in this tenant`;
    const name = found.name;
    site.target.name = name;
    if (name === self || path.includes(name)) return `import cycle: ${self !== undefined ? `./${self} → ` : ""}${shown}`;
    if (path.length + 1 > MAX_IMPORT_DEPTH) return `imports nest deeper than ${MAX_IMPORT_DEPTH} modules: ${shown}`;
    let mod = compiled.get(name);
    if (!mod) {
      const result = compileModule(found);
      if (!result.ok) {
        const first = result.diagnostics[0]!;
        return `module ${name} does not compile (${first.line}:${first.column} ${first.message})`;
      }
      mod = result.module;
      compiled.set(name, mod);
      if (compiled.size > MAX_IMPORTED_MODULES) return `the script reaches more than ${MAX_IMPORTED_MODULES} modules through its imports`;
    }
    const missing = site.bindings.find((b) => b.imported !== "*" && !mod.exports.has(b.imported));
    if (missing) return `${path.length === 0 ? "" : `${shown}: `}module ${name} has no export named ${missing.imported}`;
    if (done.has(name)) return null;
    for (const inner of mod.imports) {
      const problem = visit(inner, [...path, name]);
      if (problem) return problem;
    }
    done.add(name);
    order.push(mod);
    return null;
  };

  for (const site of imports) {
    const problem = visit(site, []);
    if (problem) diagnostics.push({ ...position(source, site.at), message: problem });
  }
  if (diagnostics.length > 0) return { ok: false, diagnostics: sortDiagnostics(diagnostics) };
  return { ok: true, modules: order };
}

/** The names a declaration binds (`export const {a, b: [c]} = …` binds a and c). */
function declaredNames(declaration: Node & Record<string, any>): string[] {
  if (declaration.type === "FunctionDeclaration" || declaration.type === "ClassDeclaration") return [declaration.id.name];
  const names: string[] = [];
  const walk = (pattern: Record<string, any> | null) => {
    if (!pattern) return;
    if (pattern.type === "Identifier") names.push(pattern.name);
    else if (pattern.type === "ObjectPattern") for (const p of pattern.properties) walk(p.type === "RestElement" ? p.argument : p.value);
    else if (pattern.type === "ArrayPattern") for (const e of pattern.elements) walk(e);
    else if (pattern.type === "RestElement") walk(pattern.argument);
    else if (pattern.type === "AssignmentPattern") walk(pattern.left);
  };
  for (const declarator of declaration.declarations ?? []) walk(declarator.id);
  return names;
}

/**
 * A guest stack trace with each linked file's line-1 prefix taken out of its columns (then
 * compile.ts's `mapStack` does the rest, for the script's file with the plain prefix).
 */
export function mapLinkedStack(stack: string, linePrefixes: Record<string, number> | undefined): string {
  if (!linePrefixes) return stack;
  return stack.replace(/([A-Za-z0-9._:-]+):1:(\d+)/g, (whole, file: string, column: string) => {
    const prefix = Object.hasOwn(linePrefixes, file) ? linePrefixes[file]! : undefined;
    if (prefix === undefined) return whole;
    // The script's own file: mapStack subtracts SOURCE_PREFIX later.
    const shift = file === SCRIPT_FILE ? prefix - SOURCE_PREFIX.length : prefix;
    return `${file}:1:${Math.max(1, Number(column) - shift)}`;
  });
}

/**
 * Characters of code a realm for `script` compiles: the script, its modules and the packages
 * it imports (a package counts towards the realm's memory like any code).
 */
export function realmSourceChars(script: CompiledScript): number {
  let total = script.factorySource.length;
  for (const text of Object.values(script.linked?.modules ?? {})) total += text.length;
  for (const name of script.linked?.packages ?? []) total += packageSource(name)?.length ?? 0;
  return total;
}

function utf8Bytes(text: string): number {
  return new TextEncoder().encode(text).byteLength;
}

export type { CompileResult };
