/**
 * Compile: checks a script (an ES module that default-exports a function, API.md §7, or an
 * object of handlers, §13) and
 * turns it into a *factory module*: an ES module whose default export is an async function
 * that re-runs the script's module body on every call and returns its default export. A
 * sandbox realm evaluates that module once, so a warm execution never parses again, yet
 * each execution gets fresh module-level state.
 *
 * What is checked is exactly what runs. The author's source is parsed as a module, and
 * QuickJS evaluates the factory as a module too: one grammar on both sides, in which
 * `<!--` and `-->` are not comments (they are in classic scripts, Annex B, which is how a
 * source could once close the wrapper and put code at the realm's top level). The factory
 * text itself is parsed again and must have exactly the wrapper's shape, with the author's
 * code inside its body and nothing outside (`verifyFactory`).
 *
 * Positions stay where the author wrote them: the wrapper sits on line 1 before the code
 * (stack traces are mapped back, see `SOURCE_PREFIX`) and every rewrite keeps lengths and
 * newlines, so line and column numbers in errors match the source.
 */
import { parse, tokenizer, type Node } from "acorn";
import type { LinkedFiles } from "./modules";
import { type Language, stripTypes } from "./typescript";
import { WEB_GLOBALS } from "./web/index";

export interface Diagnostic {
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  message: string;
}

export interface CompiledScript {
  /** The factory module, evaluated once per realm as an ES module; its default export is the factory. */
  factorySource: string;
  /** UTF-8 size of the author's source. */
  sourceBytes: number;
  /**
   * Whether the script may reach the tenant's state (`iota.db`, `iota.events`), as far as
   * its text shows: any other use of `iota` than reading a stateless member counts, so the
   * answer errs towards true. Placement `auto` runs such scripts in the tenant's cell.
   */
  usesCellState: boolean;
  /**
   * The web groups whose globals its text names (`crypto`, `URL`, …; web/index.ts): loaded
   * while its realm is built, under the setup limits, so no execution pays for loading them.
   */
  webGroups?: string[];
  /** The modules and packages it imports, as the realm links them (modules.ts); absent without imports. */
  linked?: LinkedFiles;
  /** The default export's shape and handler names, as far as the text shows (`handlerShape`); absent: unknown. */
  shape?: HandlerShape;
}

/** The handlers of the Workers-style handler object (API.md §13), one per trigger. */
export const HANDLER_NAMES = ["fetch", "scheduled", "event", "run"] as const;
export type HandlerName = (typeof HANDLER_NAMES)[number];

/**
 * What the default export is, read from the text: a function (§7's form), an object of
 * handlers (`handlers`: the names an object literal lists, or null when it cannot be told,
 * e.g. a spread), or `unknown` (an expression only running it can tell: decided then).
 */
export type HandlerShape = { form: "function" } | { form: "object"; handlers: HandlerName[] | null } | { form: "unknown" };

/** `iota` members that touch nothing of the tenant's state: a script using only these can run anywhere. */
const STATELESS_IOTA_MEMBERS = new Set(["log", "http", "secrets", "NonRetriableError", "QuotaExceededError", "NetworkPolicyError"]);

export type CompileResult = { ok: true; script: CompiledScript } | { ok: false; diagnostics: Diagnostic[] };

/** The file name scripts carry in stack traces. */
export const SCRIPT_FILE = "script.js";
/** The variable the default export is assigned to when it is an expression. */
export const DEFAULT_BINDING = "$dflt$";
/** The factory's own name: stack frames of the script's top-level code. */
export const MODULE_FUNCTION = "$module$";
/** Names the wrapper declares; a script may not use them. */
const RESERVED_NAMES = new Set([DEFAULT_BINDING, MODULE_FUNCTION]);
/**
 * Line 1 of the factory begins with this, then the author's code. Columns on line 1 are
 * shifted by its length; `mapStack` takes it back out of stack traces.
 */
export const SOURCE_PREFIX = `export default async function ${MODULE_FUNCTION}(){let ${DEFAULT_BINDING};`;
/** After the author's code: a newline ends a trailing line comment, `;` a trailing expression. */
export const BODY_END = "\n;";

/**
 * Checks a script and builds its factory (TypeScript is stripped first). Pure (no QuickJS): the engine's own parse of the
 * factory happens when an instance loads it (instance.ts) or in checker.ts, which report what only QuickJS
 * refuses with the same diagnostics.
 */
export function compileScript(source: string, language: Language = "javascript"): CompileResult {
  if (language === "javascript") return compileJavaScript(source);
  // TypeScript: its types become spaces (typescript.ts), so every position stays the author's.
  const stripped = stripTypes(source);
  if (!stripped.ok) return stripped;
  const compiled = compileJavaScript(stripped.code);
  return compiled.ok ? { ok: true, script: { ...compiled.script, sourceBytes: new TextEncoder().encode(source).byteLength } } : compiled;
}

/** Checks JavaScript (TypeScript already stripped) and builds its factory. */
export function compileJavaScript(source: string): CompileResult {
  let program: Node & { body: Node[] };
  try {
    program = parse(source, { ecmaVersion: "latest", sourceType: "module", locations: true }) as never;
  } catch (error) {
    return { ok: false, diagnostics: [acornDiagnostic(error)] };
  }
  const diagnostics: Diagnostic[] = [];
  const problem = (node: Node, message: string) => diagnostics.push({ ...position(source, node.start), message });

  const { usesCellState, webGroups } = scanNodes(program, problem);

  const edits: Edit[] = [];
  // A hashbang is only allowed at the very start, which the wrapper is not.
  if (source.startsWith("#!")) edits.push(blank(0, source.search(/[\n\r\u2028\u2029]|$/)));
  let defaultExport: string | null = null;
  let defaultNode: Node | null = null;
  for (const statement of program.body) {
    const s = statement as Node & Record<string, any>;
    switch (s.type) {
      case "ImportDeclaration":
        problem(s, "import is not supported: a script is self-contained (use iota.* for I/O)");
        break;
      case "ExportAllDeclaration":
        problem(s, "export … from is not supported: a script is self-contained");
        break;
      case "ExportNamedDeclaration":
        if (s.source) {
          problem(s, "export … from is not supported: a script is self-contained");
        } else if (s.declaration) {
          edits.push(blank(s.start, s.start + "export".length));
        } else {
          for (const specifier of s.specifiers) {
            if (exportedName(specifier) === "default") {
              defaultExport = specifier.local.name;
              defaultNode = s;
            }
          }
          edits.push(blank(s.start, s.end));
        }
        break;
      case "ExportDefaultDeclaration": {
        defaultNode = s;
        const d = s.declaration;
        const keyword = defaultKeyword(source, s.start, d.start);
        edits.push(blank(s.start, s.start + "export".length));
        const named = (d.type === "FunctionDeclaration" || d.type === "ClassDeclaration") && d.id;
        if (named) {
          edits.push(blank(keyword, keyword + "default".length));
          defaultExport = d.id.name;
        } else {
          if (d.type === "Literal" || d.type === "ArrayExpression" || d.type === "TemplateLiteral") {
            problem(d, "the default export must be a function or an object of handlers ({ fetch, scheduled, event, run })");
          }
          // `default` (7 characters) becomes `$dflt$=`; a declaration becomes an expression,
          // so end it before the next line can continue it.
          edits.push({ start: keyword, end: keyword + "default".length, text: `${DEFAULT_BINDING}=` });
          if (d.type === "FunctionDeclaration" || d.type === "ClassDeclaration") edits.push({ start: d.end, end: d.end, text: ";" });
          defaultExport = DEFAULT_BINDING;
        }
        break;
      }
    }
  }
  if (!defaultNode) {
    diagnostics.push({ line: 1, column: 1, message: "a script must `export default` a function, e.g. export default async function (event, ctx) { … }, or an object of handlers, e.g. export default { async fetch(request, env, ctx) { … } }" });
  }
  if (diagnostics.length > 0) return { ok: false, diagnostics: sortDiagnostics(diagnostics) };

  const body = applyEdits(source, edits);
  const factorySource = `${SOURCE_PREFIX}${body}${BODY_END}return ${defaultExport}}`;
  const broken = verifyFactory(factorySource, SOURCE_PREFIX.length + body.length, defaultExport!);
  if (broken) return { ok: false, diagnostics: [{ line: 1, column: 1, message: broken }] };
  const shape = handlerShape(program, defaultNode!);
  return { ok: true, script: { factorySource, sourceBytes: new TextEncoder().encode(source).byteLength, usesCellState, webGroups, shape } };
}

/**
 * The default export's shape: a function or class declaration or expression is the function
 * form; an object literal (directly, or a top-level `const`/`let`/`var` initialised with one
 * and exported by name) is the handler object, with the names it lists. Anything else is
 * `unknown` until it runs.
 */
export function handlerShape(program: Node & { body: Node[] }, defaultNode: Node): HandlerShape {
  const d = defaultNode as Node & Record<string, any>;
  let value: (Node & Record<string, any>) | null = null;
  let name: string | null = null;
  if (d.type === "ExportDefaultDeclaration") {
    const declaration = d.declaration;
    if (declaration.type === "Identifier") name = declaration.name;
    else value = declaration;
  } else {
    name = d.specifiers.find((s: any) => exportedName(s) === "default")?.local.name ?? null;
  }
  if (name !== null) value = topLevelValue(program, name);
  if (value === null) return { form: "unknown" };
  if (/^(Function|Class|ArrowFunction)(Declaration|Expression)$/.test(value.type)) return { form: "function" };
  if (value.type !== "ObjectExpression") return { form: "unknown" };
  const handlers: HandlerName[] = [];
  for (const property of value.properties) {
    if (property.type !== "Property" || property.computed) return { form: "object", handlers: null };
    const key = property.key.type === "Identifier" ? property.key.name : String(property.key.value);
    if ((HANDLER_NAMES as readonly string[]).includes(key)) handlers.push(key as HandlerName);
  }
  return { form: "object", handlers };
}

/** What a top-level declaration of `name` holds: a function or class declaration, or a variable's initial value (null if reassigned or unknown). */
function topLevelValue(program: Node & { body: Node[] }, name: string): (Node & Record<string, any>) | null {
  for (const statement of program.body) {
    const s = (statement.type === "ExportNamedDeclaration" ? (statement as any).declaration : statement) as (Node & Record<string, any>) | null;
    if (!s) continue;
    if ((s.type === "FunctionDeclaration" || s.type === "ClassDeclaration") && s.id?.name === name) return s;
    if (s.type === "VariableDeclaration" && s.kind === "const") {
      for (const declarator of s.declarations) if (declarator.id.type === "Identifier" && declarator.id.name === name) return declarator.init ?? null;
    }
  }
  return null;
}


/**
 * The rules every node of a script or module obeys (reserved names, no dynamic import, no
 * import.meta, no BigInt literals), reported through `problem`; answers whether the code
 * may reach the tenant's state (see `CompiledScript.usesCellState`) and the web groups it
 * names (see `CompiledScript.webGroups`; a name shadowed locally counts too: loading a
 * group early costs only setup time).
 */
export function scanNodes(program: Node, problem: (node: Node, message: string) => void): { usesCellState: boolean; webGroups: string[] } {
  let usesCellState = false;
  const webGroups = new Set<string>();
  const statelessIota = new Set<Node>();
  /** Identifiers that name a property, not a variable (`e.crypto`, `{ fetch() {} }`): seen before them, parents first. */
  const propertyNames = new Set<Node>();
  for (const node of allNodes(program)) {
    const n = node as Node & Record<string, any>;
    if (n.type === "MemberExpression" && !n.computed) propertyNames.add(n.property);
    const namesKey = (n.type === "Property" && !n.shorthand) || n.type === "MethodDefinition" || n.type === "PropertyDefinition";
    if (namesKey && !n.computed) propertyNames.add(n.key);
    if (n.type === "MemberExpression" && n.object?.type === "Identifier" && n.object.name === "iota" && !n.computed && STATELESS_IOTA_MEMBERS.has(n.property?.name)) {
      statelessIota.add(n.object);
    } else if (n.type === "Identifier" && n.name === "iota" && !statelessIota.has(n)) {
      usesCellState = true;
    }
    if (n.type === "Identifier" && Object.hasOwn(WEB_GLOBALS, n.name) && !propertyNames.has(n)) webGroups.add(WEB_GLOBALS[n.name]!);
    if (n.type === "Identifier" && (RESERVED_NAMES.has(n.name) || n.name.startsWith("$iota_"))) problem(n, `${n.name} is a name reserved by iota`);
    else if (n.type === "ImportExpression") problem(n, "dynamic import() is not supported: import modules and packages statically (import { x } from \"./module\")");
    else if (n.type === "MetaProperty" && n.meta?.name === "import") problem(n, "import.meta is not supported");
    else if (n.type === "Literal" && typeof n.bigint === "string") problem(n, "BigInt is not available in iota scripts");
  }

  return { usesCellState, webGroups: [...webGroups].sort() };
}

/**
 * Parses the factory module as QuickJS will (an ES module) and checks that it is the
 * wrapper and only the wrapper: one `export default async function` spanning the whole
 * text, whose body opens with the wrapper's declaration and closes with its `return`, at
 * the offsets where they were put. A source that could end the wrapper early, or put
 * anything beside it, fails here; answers why, or null when the shape holds.
 */
export function verifyFactory(factorySource: string, bodyEnd: number, defaultExport: string): string | null {
  const refused = "the script's text cannot be wrapped safely (it would reach outside its function)";
  let program: Node & Record<string, any>;
  try {
    program = parse(factorySource, { ecmaVersion: "latest", sourceType: "module" }) as never;
  } catch {
    return refused;
  }
  const [only] = program.body;
  const fn = only?.declaration;
  const statements = fn?.body?.body ?? [];
  const first = statements[0];
  const last = statements.at(-1);
  const intact =
    program.body.length === 1 &&
    only.type === "ExportDefaultDeclaration" &&
    only.start === 0 &&
    fn.type === "FunctionDeclaration" &&
    fn.id?.name === MODULE_FUNCTION &&
    fn.async === true &&
    fn.params.length === 0 &&
    fn.end === factorySource.length &&
    first?.type === "VariableDeclaration" &&
    first.end === SOURCE_PREFIX.length &&
    last?.type === "ReturnStatement" &&
    last.start === bodyEnd + BODY_END.length &&
    last.argument?.type === "Identifier" &&
    last.argument.name === defaultExport &&
    statements.slice(1, -1).every((s: Node) => s.start >= SOURCE_PREFIX.length && s.end <= bodyEnd + BODY_END.length);
  return intact ? null : refused;
}

/**
 * A guest stack trace as the author should see it: column numbers on line 1 without the
 * wrapper, the default export's internal name as `default`, top-level code as `<module>`,
 * no sandbox frames.
 */
export function mapStack(stack: string): string {
  return stack
    .split("\n")
    .filter((line) => !/iota-(bootstrap|web-[a-z]+)\.js/.test(line))
    .map((line) =>
      line
        .replace(`at ${DEFAULT_BINDING} (`, "at default (")
        .replace(`at ${MODULE_FUNCTION} (`, "at <module> (")
        .replace(new RegExp(`${SCRIPT_FILE.replace(".", "\\.")}:1:(\\d+)`), (_, column: string) => {
          return `${SCRIPT_FILE}:1:${Math.max(1, Number(column) - SOURCE_PREFIX.length)}`;
        }),
    )
    .join("\n");
}

export interface Edit {
  start: number;
  end: number;
  text: string;
}

/** Replaces a range with spaces, keeping its newlines so later lines do not move. */
export function blank(start: number, end: number): Edit {
  return { start, end, text: "" };
}

export function applyEdits(source: string, edits: Edit[]): string {
  let out = "";
  let at = 0;
  for (const edit of [...edits].sort((a, b) => a.start - b.start)) {
    out += source.slice(at, edit.start);
    const original = source.slice(edit.start, edit.end);
    out += edit.text === "" ? original.replace(/[^\n\r\u2028\u2029]/g, " ") : edit.text;
    at = edit.end;
  }
  return out + source.slice(at);
}

/** The position of the `default` keyword between `export` and the declaration (comments may sit between). */
export function defaultKeyword(source: string, exportStart: number, declarationStart: number): number {
  const between = source.slice(exportStart, declarationStart);
  for (const token of tokenizer(between, { ecmaVersion: "latest" })) {
    if (token.type.keyword === "default") return exportStart + token.start;
  }
  throw new Error("export default without a default keyword");
}

export function exportedName(specifier: { exported: { type: string; name?: string; value?: string } }): string | undefined {
  return specifier.exported.type === "Identifier" ? specifier.exported.name : specifier.exported.value;
}

/** Every node of the tree, walked without recursion (sources can nest deeply). */
export function* allNodes(root: Node): Generator<Node> {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) {
      for (const item of value) stack.push(item);
    } else if (value !== null && typeof value === "object" && typeof (value as Node).type === "string") {
      yield value as Node;
      for (const [key, child] of Object.entries(value)) {
        if (key !== "loc" && child !== null && typeof child === "object") stack.push(child);
      }
    }
  }
}

export function position(source: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    const c = source.charCodeAt(i);
    if (c === 10 || ((c === 13 || c === 0x2028 || c === 0x2029) && source.charCodeAt(i + 1) !== 10)) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

export function acornDiagnostic(error: unknown): Diagnostic {
  const e = error as { loc?: { line: number; column: number }; message?: string };
  if (e instanceof RangeError) return { line: 1, column: 1, message: "the script is nested too deeply to parse" };
  const message = (e.message ?? "syntax error").replace(/ \(\d+:\d+\)$/, "");
  return { line: e.loc?.line ?? 1, column: (e.loc?.column ?? 0) + 1, message: `SyntaxError: ${message}` };
}

export function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.sort((a, b) => a.line - b.line || a.column - b.column);
}
