/**
 * TypeScript → JavaScript by erasure (API.md §13): every type is replaced by spaces, so each
 * line and column of the JavaScript is the line and column the author wrote, and errors,
 * stack traces and diagnostics need no source map. Types are not checked (the editor checks).
 *
 * The algorithm is ts-blank-space's, over the AST of `@sveltejs/acorn-typescript` (an acorn
 * plugin: the project's parser already, ~85 KiB gzipped in the Worker instead of the 2 MB
 * of the `typescript` package; docs/decisions.md has the measurements):
 * - type annotations, type parameters and arguments, `as`/`satisfies`/`!`, `implements`,
 *   access modifiers, `readonly`/`override`/`abstract`, `?` and definite `!` become spaces;
 * - type-only statements and class members (interfaces, type aliases, `declare …`, overloads,
 *   index signatures, `import type`/`export type`, type-only namespaces) become spaces
 *   starting with `;`, an empty statement (or class element), so the statement before them
 *   ends where TypeScript ended it;
 * - an `as`/`satisfies` that ends a statement leaves a `;` after the expression, so the next
 *   line cannot continue it (`x as T` then `[1].map(f)`);
 * - two automatic-semicolon hazards move one parenthesis, as ts-blank-space does: an arrow
 *   function's return type spanning lines moves the `)` before `=>` (a line break may not
 *   precede `=>`), and type parameters spanning lines put the `(` where the `<` was
 *   (`return <\n T\n>(x) => x` would otherwise return nothing).
 *
 * What TypeScript compiles to code cannot be erased, so it is refused at its position with a
 * way out: `enum`, namespaces with values, parameter properties, decorators,
 * `import x = require()`, `import x = N.y`, `export =`, and `<T>value` assertions.
 *
 * Then the result is checked, so what runs is what the editor showed: the JavaScript is
 * parsed again and must have exactly the TypeScript program's syntax tree with the types
 * taken out, node for node at the same offsets. A stripping that would change how the code
 * parses (an ASI or precedence hazard not handled above: `a ?? b as T && c`,
 * `1 + 1 as T / 2`) is refused with the line and column where the two differ.
 */
import { tsPlugin } from "@sveltejs/acorn-typescript";
import { Parser, parse as parseJavaScript, type Node } from "acorn";
import type { Diagnostic } from "./compile";

/** What a script is written in; `typescript` is stripped to JavaScript before anything else. */
export type Language = "javascript" | "typescript";

export type StripResult = { ok: true; code: string } | { ok: false; diagnostics: Diagnostic[] };

const TypeScriptParser = Parser.extend(tsPlugin());

/** Why each construct that TypeScript turns into code is refused, and what to write instead. */
export const REFUSED = {
  enum: "enum is not supported: TypeScript compiles it to code, so it cannot be stripped; use a const object and a union type (const Color = { Red: \"red\" } as const)",
  namespace: "a namespace with values is not supported: TypeScript compiles it to code; use top-level declarations or an object",
  parameterProperty: "parameter properties are not supported: TypeScript compiles them to assignments; declare the field and assign it in the constructor",
  decorator: "decorators are not supported (QuickJS has none, and TypeScript compiles them to code): call the decorating function yourself, e.g. const Logged = logged(class { … })",
  importRequire: "import … = require() is not supported: use import … from",
  importAlias: "import … = is not supported: use const … =",
  exportAssign: "export = is not supported: use export default",
  angleAssertion: "<T>value type assertions are not supported: write value as T",
  changed:
    "removing the types here would change how the code parses (automatic semicolon insertion or operator precedence): add a semicolon or parentheses",
} as const;

/** TypeScript-only keywords on class members; `static`, `async`, `get`, `set` and `accessor` are JavaScript. */
const MEMBER_MODIFIERS = new Set(["public", "private", "protected", "readonly", "override", "declare", "abstract"]);
const JS_MEMBER_WORDS = new Set(["static", "async", "get", "set", "accessor"]);
/** Where acorn-typescript hangs types on JavaScript nodes. */
const TYPE_KEYS = new Set(["typeAnnotation", "returnType", "typeParameters", "typeArguments", "superTypeParameters"]);
/** Wrappers around an expression that are only types. */
const TYPE_WRAPPERS = new Set(["TSAsExpression", "TSSatisfiesExpression", "TSNonNullExpression", "TSInstantiationExpression"]);

const TRIVIA = /(?:\s|\/\/[^\n\r\u2028\u2029]*|\/\*[\s\S]*?\*\/)*/y;
const IDENTIFIER = /(?:[\p{ID_Continue}$\u200c\u200d]|\\u[0-9a-fA-F]{4}|\\u\{[0-9a-fA-F]+\})+/uy;
const LINE_BREAK = /[\n\r\u2028\u2029]/;
const ERASED_TEXT = /^[\s;]*$/;

type AnyNode = Node & Record<string, any>;

/** Strips a TypeScript module to JavaScript at the same offsets, or says why it cannot. */
export function stripTypes(source: string): StripResult {
  let program: AnyNode;
  try {
    program = TypeScriptParser.parse(source, { ecmaVersion: "latest", sourceType: "module", locations: true }) as AnyNode;
  } catch (error) {
    return { ok: false, diagnostics: [parseDiagnostic(source, error)] };
  }
  try {
    const stripper = new Stripper(source);
    stripper.statements(program.body);
    if (stripper.problems.length > 0) return { ok: false, diagnostics: stripper.problems.sort((a, b) => a.line - b.line || a.column - b.column) };
    const code = stripper.output();
    let js: AnyNode;
    try {
      js = parseJavaScript(code, { ecmaVersion: "latest", sourceType: "module" }) as AnyNode;
    } catch (error) {
      // The types parsed and the JavaScript does not: either JavaScript acorn-typescript let
      // through, or a stripping hazard; next to an erased type, it is the hazard.
      const at = (error as { pos?: number }).pos ?? 0;
      if (stripper.erasedJustBefore(at)) return { ok: false, diagnostics: [{ ...position(source, at), message: REFUSED.changed }] };
      return { ok: false, diagnostics: [parseDiagnostic(code, error)] };
    }
    const differs = firstDifference(program, js, stripper.erased, code);
    if (differs !== null) return { ok: false, diagnostics: [{ ...position(source, differs), message: REFUSED.changed }] };
    return { ok: true, code };
  } catch (error) {
    if (error instanceof RangeError) return { ok: false, diagnostics: [{ line: 1, column: 1, message: "the script is nested too deeply to parse" }] };
    throw error;
  }
}

interface Mark {
  at: number;
  char: string;
}

class Stripper {
  readonly problems: Diagnostic[] = [];
  /** Nodes removed whole: statements, class members, specifiers, `this` parameters. */
  readonly erased = new Set<Node>();
  private readonly blanks: Array<[number, number]> = [];
  private readonly marks: Mark[] = [];
  /** The end of the statement (or class member) being visited. */
  private statementEnd = -1;

  constructor(private readonly source: string) {}

  output(): string {
    const codes = new Uint16Array(this.source.length);
    for (let i = 0; i < codes.length; i++) codes[i] = this.source.charCodeAt(i);
    for (const [start, end] of this.blanks) {
      for (let i = start; i < end; i++) {
        const c = codes[i]!;
        if (c !== 10 && c !== 13 && c !== 0x2028 && c !== 0x2029) codes[i] = 32;
      }
    }
    for (const mark of this.marks) codes[mark.at] = mark.char.charCodeAt(0);
    let out = "";
    for (let i = 0; i < codes.length; i += 8192) out += String.fromCharCode(...codes.subarray(i, i + 8192));
    return out;
  }

  /** True when the text just before `at` (spaces and comments aside) was erased. */
  erasedJustBefore(at: number): boolean {
    return this.blanks.some(([start, end]) => start < at && (end >= at || /^\s*$/.test(this.source.slice(end, at))));
  }

  // ---- statements ----

  statements(list: AnyNode[]) {
    for (const statement of list) this.statement(statement);
  }

  private statement(node: AnyNode) {
    const outer = this.statementEnd;
    this.statementEnd = node.end;
    if (this.typeOnly(node)) this.erase(node);
    else this.visit(node);
    this.statementEnd = outer;
  }

  /** A statement that is only types, or that only declares (TypeScript emits nothing for it). */
  private typeOnly(node: AnyNode): boolean {
    switch (node.type) {
      case "TSInterfaceDeclaration":
      case "TSTypeAliasDeclaration":
      case "TSDeclareFunction":
      case "TSNamespaceExportDeclaration":
        return true;
      case "TSEnumDeclaration":
      case "VariableDeclaration":
      case "ClassDeclaration":
        return node.declare === true;
      case "TSModuleDeclaration":
        return node.declare === true || node.global === true || node.id?.type === "Literal" || !namespaceHasValues(node);
      case "ImportDeclaration":
        return node.importKind === "type";
      case "ExportAllDeclaration":
        return node.exportKind === "type";
      case "ExportNamedDeclaration":
        return node.declaration ? this.typeOnly(node.declaration) : node.exportKind === "type";
      case "ExportDefaultDeclaration":
        return node.declaration.type === "TSInterfaceDeclaration" || node.declaration.type === "TSDeclareFunction";
    }
    return false;
  }

  // ---- the walk ----

  private visit(node: AnyNode | null | undefined): void {
    if (!node || typeof node.type !== "string") return;
    switch (node.type) {
      case "TSEnumDeclaration":
        return this.refuse(node, REFUSED.enum);
      case "TSModuleDeclaration":
        return this.refuse(node, REFUSED.namespace);
      case "TSImportEqualsDeclaration":
        return this.refuse(node, node.moduleReference?.type === "TSExternalModuleReference" ? REFUSED.importRequire : REFUSED.importAlias);
      case "TSExportAssignment":
        return this.refuse(node, REFUSED.exportAssign);
      case "TSTypeAssertion":
        return this.refuse(node, REFUSED.angleAssertion);
      case "TSParameterProperty":
        return this.refuse(node, REFUSED.parameterProperty);
      case "Decorator":
        return this.refuse(node, REFUSED.decorator);
      case "TSAsExpression":
      case "TSSatisfiesExpression": {
        this.visit(node.expression);
        // From the keyword: the expression may end inside parentheses, `(x) as T`.
        let keyword = skipTrivia(this.source, node.expression.end);
        while (this.source[keyword] === ")") keyword = skipTrivia(this.source, keyword + 1);
        const endsStatement = node.end === this.statementEnd && this.source[node.end] !== ";";
        this.blank(keyword, node.end, endsStatement ? ";" : undefined);
        return;
      }
      case "TSNonNullExpression":
        this.visit(node.expression);
        this.blank(node.end - 1, node.end);
        return;
      case "TSInstantiationExpression":
        this.visit(node.expression);
        this.blankType(node.typeArguments);
        return;
      case "ImportDeclaration":
      case "ExportNamedDeclaration":
        if (node.type === "ExportNamedDeclaration" && node.declaration) return this.visit(node.declaration);
        for (const specifier of node.specifiers ?? []) {
          if (specifier.importKind === "type" || specifier.exportKind === "type") this.eraseListItem(specifier);
        }
        return;
      case "VariableDeclarator":
        if (node.definite) this.blankTokenAfter(identifierEnd(this.source, node.id.start), "!");
        this.binding(node.id);
        this.visit(node.init);
        return;
      case "ClassDeclaration":
      case "ClassExpression":
        return this.classLike(node);
      case "FunctionDeclaration":
      case "FunctionExpression":
      case "ArrowFunctionExpression":
        return this.functionLike(node);
      case "CatchClause":
        this.binding(node.param);
        this.visit(node.body);
        return;
      case "Program":
      case "BlockStatement":
      case "StaticBlock":
        return this.statements(node.body);
      case "SwitchCase":
        this.visit(node.test);
        return this.statements(node.consequent);
    }
    if (node.type.startsWith("TS")) return this.refuse(node, `this TypeScript syntax is not supported (${node.type})`);
    this.children(node);
  }

  /** Every child of a JavaScript node: types are blanked, the rest visited. */
  private children(node: AnyNode) {
    for (const key in node) {
      if (key === "loc") continue;
      const child = node[key];
      if (child === null || typeof child !== "object") continue;
      if (TYPE_KEYS.has(key) && typeof child.type === "string" && child.type.startsWith("TS")) this.blankType(child);
      else if (key === "decorators") for (const d of child) this.refuse(d, REFUSED.decorator);
      else if (Array.isArray(child)) for (const item of child) this.visit(item);
      else this.visit(child);
    }
  }

  /** A binding (parameter, declared name, catch parameter): its `?` and type go, its defaults are visited. */
  private binding(node: AnyNode | null | undefined) {
    if (!node) return;
    if (node.decorators?.length) for (const d of node.decorators) this.refuse(d, REFUSED.decorator);
    switch (node.type) {
      case "Identifier":
        if (node.optional) this.blankTokenAfter(identifierEnd(this.source, node.start), "?");
        if (node.typeAnnotation) this.blankType(node.typeAnnotation);
        return;
      case "AssignmentPattern":
        this.binding(node.left);
        this.visit(node.right);
        return;
      case "RestElement":
        this.binding(node.argument);
        if (node.typeAnnotation) this.blankType(node.typeAnnotation);
        return;
      case "ObjectPattern":
      case "ArrayPattern": {
        const items: Array<AnyNode | null> = node.type === "ObjectPattern" ? node.properties : node.elements;
        for (const item of items) {
          if (!item) continue;
          if (item.type === "Property") {
            if (item.computed) this.visit(item.key);
            this.binding(item.value);
            // acorn-typescript hangs an arrow parameter's pattern type on its last property.
            if (item.typeAnnotation) this.blankType(item.typeAnnotation);
          } else {
            this.binding(item);
          }
        }
        // After the closing bracket: `?` and the type annotation.
        const close = closingBracket(this.source, node, items);
        if (close !== null && close + 1 < node.end) this.blank(close + 1, node.end);
        return;
      }
      case "TSParameterProperty":
        return this.refuse(node, REFUSED.parameterProperty);
    }
    this.visit(node);
  }

  private functionLike(node: AnyNode) {
    if (node.id) this.visit(node.id);
    const open = this.openParen(node);
    if (node.typeParameters) {
      if (open !== null && LINE_BREAK.test(this.source.slice(node.typeParameters.start, open))) {
        // `<` … `>(` over lines: the `(` moves to where the `<` was.
        this.blank(node.typeParameters.start, node.typeParameters.end, "(");
        this.blank(open, open + 1);
      } else {
        this.blankType(node.typeParameters);
      }
    }
    node.params.forEach((param: AnyNode, i: number) => {
      if (i === 0 && param.type === "Identifier" && param.name === "this") this.eraseListItem(param);
      else this.binding(param);
    });
    if (node.returnType) {
      const close = this.closeParen(node, open);
      if (node.type === "ArrowFunctionExpression" && close !== null && LINE_BREAK.test(this.source.slice(close, node.returnType.end))) {
        // A line break may not come before `=>`: the `)` moves to the end of the return type.
        this.blank(close, close + 1);
        this.blank(node.returnType.start, node.returnType.end, undefined, ")");
      } else {
        this.blankType(node.returnType);
      }
    }
    if (node.body?.type === "BlockStatement") this.statements(node.body.body);
    else this.visit(node.body);
  }

  /** The `(` of a function's parameters, where it is needed: after type parameters, or an arrow's. */
  private openParen(node: AnyNode): number | null {
    let at: number;
    if (node.typeParameters) at = skipTrivia(this.source, node.typeParameters.end);
    else if (node.type === "ArrowFunctionExpression") at = node.async ? skipTrivia(this.source, identifierEnd(this.source, node.start)) : node.start;
    else return null;
    return this.source[at] === "(" ? at : null;
  }

  /** The `)` closing a function's parameters. */
  private closeParen(node: AnyNode, open: number | null): number | null {
    const last = node.params.at(-1);
    let p = skipTrivia(this.source, last ? last.end : open !== null ? open + 1 : node.start);
    if (this.source[p] === ",") p = skipTrivia(this.source, p + 1);
    return this.source[p] === ")" ? p : null;
  }

  private classLike(node: AnyNode) {
    for (const d of node.decorators ?? []) this.refuse(d, REFUSED.decorator);
    if (node.abstract) {
      const word = wordAt(this.source, skipTrivia(this.source, node.start));
      if (word?.text === "abstract") this.blank(word.start, word.end);
    }
    if (node.id) this.visit(node.id);
    if (node.typeParameters) this.blankType(node.typeParameters);
    this.visit(node.superClass);
    if (node.superTypeParameters) this.blankType(node.superTypeParameters);
    if (node.implements?.length) {
      // `implements` is the last word before the first interface.
      let keyword: number | null = null;
      const from = node.superTypeParameters?.end ?? node.superClass?.end ?? node.typeParameters?.end ?? node.id?.end ?? node.start;
      for (let p = skipTrivia(this.source, from); p < node.implements[0].start; ) {
        const word = wordAt(this.source, p);
        if (!word) break;
        if (word.text === "implements") keyword = word.start;
        p = skipTrivia(this.source, word.end);
      }
      if (keyword !== null) this.blank(keyword, node.implements.at(-1).end);
      else this.refuse(node.implements[0], "this TypeScript syntax is not supported (implements)");
    }
    for (const member of node.body.body as AnyNode[]) {
      const outer = this.statementEnd;
      this.statementEnd = member.end;
      if (member.type === "TSIndexSignature" || member.declare || member.abstract || member.value?.type === "TSDeclareMethod") this.erase(member);
      else this.member(member);
      this.statementEnd = outer;
    }
  }

  private member(node: AnyNode) {
    if (node.type === "StaticBlock") return this.statements(node.body);
    for (const d of node.decorators ?? []) this.refuse(d, REFUSED.decorator);
    // Modifiers before the key: TypeScript's go (the first with a `;`, ending the member before).
    const keyStart = node.key.start;
    for (let p = skipTrivia(this.source, node.start); p < keyStart; ) {
      const word = wordAt(this.source, p);
      if (!word || word.end > keyStart) break;
      if (MEMBER_MODIFIERS.has(word.text)) this.blank(word.start, word.end, word.start === node.start ? ";" : undefined);
      else if (!JS_MEMBER_WORDS.has(word.text)) break;
      p = skipTrivia(this.source, word.end);
    }
    if (node.computed) this.visit(node.key);
    let afterKey = node.key.end;
    if (node.computed) {
      const close = skipTrivia(this.source, node.key.end);
      afterKey = this.source[close] === "]" ? close + 1 : afterKey;
    }
    if (node.optional) this.blankTokenAfter(afterKey, "?");
    if (node.definite) this.blankTokenAfter(afterKey, "!");
    if (node.type === "MethodDefinition") {
      // Method type parameters sit on the definition, before its function's `(`.
      if (node.typeParameters) {
        const open = node.value.start;
        if (LINE_BREAK.test(this.source.slice(node.typeParameters.start, open))) {
          this.blank(node.typeParameters.start, node.typeParameters.end, "(");
          this.blank(open, open + 1);
        } else {
          this.blankType(node.typeParameters);
        }
      }
      return this.functionLike(node.value);
    }
    if (node.typeAnnotation) this.blankType(node.typeAnnotation);
    this.visit(node.value);
  }

  // ---- edits ----

  private blank(start: number, end: number, first?: string, last?: string) {
    if (end <= start) return;
    this.blanks.push([start, end]);
    if (first) this.marks.push({ at: start, char: first });
    if (last) this.marks.push({ at: end - 1, char: last });
  }

  /**
   * A type node. A `TSTypeAnnotation` starts at its `:`; a bare type hung on a pattern does
   * not, so its `:` is found just before it (or the colon stays and the result fails to parse).
   */
  private blankType(node: AnyNode) {
    let start = node.start;
    if (node.type !== "TSTypeAnnotation" && node.type !== "TSTypeParameterDeclaration" && node.type !== "TSTypeParameterInstantiation") {
      let p = start - 1;
      while (p >= 0 && /\s/.test(this.source[p]!)) p--;
      if (this.source[p] === ":") start = p;
    }
    this.blank(start, node.end);
  }

  /** A statement or class member removed whole: spaces after a `;` (an empty statement). */
  private erase(node: AnyNode) {
    this.erased.add(node);
    this.blank(node.start, node.end, ";");
  }

  /** An item of a comma-separated list (`type X` specifier, `this` parameter) and its comma. */
  private eraseListItem(node: AnyNode) {
    this.erased.add(node);
    const after = skipTrivia(this.source, node.end);
    this.blank(node.start, this.source[after] === "," ? after + 1 : node.end);
  }

  /** The `?` or `!` token after a name. */
  private blankTokenAfter(from: number, token: "?" | "!") {
    const at = skipTrivia(this.source, from);
    if (this.source[at] === token) this.blank(at, at + 1);
  }

  private refuse(node: AnyNode, message: string) {
    this.problems.push({ ...position(this.source, node.start), message });
  }
}

/** A namespace that declares only types (TypeScript emits nothing for it). */
function namespaceHasValues(node: AnyNode): boolean {
  const body = node.body;
  if (!body) return false;
  if (body.type === "TSModuleDeclaration") return namespaceHasValues(body);
  return (body.body as AnyNode[]).some((statement) => {
    const s = statement.type === "ExportNamedDeclaration" && statement.declaration ? statement.declaration : statement;
    switch (s.type) {
      case "TSInterfaceDeclaration":
      case "TSTypeAliasDeclaration":
        return false;
      case "TSModuleDeclaration":
        return namespaceHasValues(s);
      case "ExportNamedDeclaration":
        return s.exportKind !== "type";
      default:
        return s.declare !== true;
    }
  });
}

/**
 * The first place where the JavaScript's syntax tree is not the TypeScript one with its types
 * taken out: an offset, or null when they are the same. Compared are each JavaScript node's
 * type, offset (later only over erased text) and every property acorn gives it; the
 * TypeScript side drops type wrappers
 * (`x as T` is `x`), erased nodes, and empty statements (both sides: erasing leaves `;`).
 */
export function firstDifference(ts: AnyNode, js: AnyNode, erased: Set<Node>, code: string): number | null {
  const stack: Array<[AnyNode, AnyNode]> = [[ts, js]];
  while (stack.length > 0) {
    let [a, b] = stack.pop()!;
    while (TYPE_WRAPPERS.has(a.type)) a = a.expression;
    if (a.type !== b.type) return Math.min(a.start, b.start);
    // A node may start later only over what was erased (`private x`, `<T>(x) => x`).
    if (a.start !== b.start && !(b.start > a.start && ERASED_TEXT.test(code.slice(a.start, b.start)))) return a.start;
    for (const key in b) {
      if (key === "start" || key === "end" || key === "loc" || key === "range") continue;
      const x = a[key];
      const y = b[key];
      if (Array.isArray(y)) {
        // (acorn-typescript leaves out some empty lists: `attributes`.)
        if (!Array.isArray(x) && !(x === undefined && y.length === 0)) return b.start;
        const left = (x ?? []).filter((item: AnyNode | null) => !item || (!erased.has(item) && item.type !== "EmptyStatement"));
        const right = y.filter((item: AnyNode | null) => !item || item.type !== "EmptyStatement");
        if (left.length !== right.length) return b.start;
        for (let i = right.length - 1; i >= 0; i--) {
          if ((left[i] === null) !== (right[i] === null)) return b.start;
          if (right[i]) stack.push([left[i], right[i]]);
        }
      } else if (y !== null && typeof y === "object" && typeof y.type === "string") {
        if (x === null || typeof x !== "object") return b.start;
        stack.push([x, y]);
      } else if (y !== null && typeof y === "object") {
        // `regex: {pattern, flags}`, or a RegExp `value`: the text decides.
        if (JSON.stringify(x) !== JSON.stringify(y) && !(y instanceof RegExp)) return b.start;
      } else if (x !== y && !(x === undefined && (y === false || y === null))) {
        // (acorn-typescript leaves out some `optional: false`.)
        return b.start;
      }
    }
  }
  return null;
}

function skipTrivia(source: string, at: number): number {
  TRIVIA.lastIndex = at;
  TRIVIA.exec(source);
  return TRIVIA.lastIndex;
}

function identifierEnd(source: string, at: number): number {
  IDENTIFIER.lastIndex = at;
  return IDENTIFIER.exec(source) ? IDENTIFIER.lastIndex : at;
}

function wordAt(source: string, at: number): { text: string; start: number; end: number } | null {
  const end = identifierEnd(source, at);
  return end > at ? { text: source.slice(at, end), start: at, end } : null;
}

/** The `}` or `]` closing a pattern, after its last item (holes and a trailing comma allowed). */
function closingBracket(source: string, node: AnyNode, items: Array<AnyNode | null>): number | null {
  const last = [...items].reverse().find((item) => item !== null);
  let p = skipTrivia(source, last ? last.end : node.start + 1);
  while (source[p] === ",") p = skipTrivia(source, p + 1);
  return source[p] === (node.type === "ObjectPattern" ? "}" : "]") ? p : null;
}

function position(source: string, offset: number): { line: number; column: number } {
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

function parseDiagnostic(source: string, error: unknown): Diagnostic {
  if (error instanceof RangeError) return { line: 1, column: 1, message: "the script is nested too deeply to parse" };
  const e = error as { pos?: number; message?: string };
  const message = (e.message ?? "syntax error").replace(/ \(\d+:\d+\)$/, "");
  return { ...position(source, e.pos ?? 0), message: `SyntaxError: ${message}` };
}
