import { describe, expect, it } from "vitest";
import { fiftyKilobyteTypeScript } from "../../bench/scripts";
import { compileScript } from "../../src/sandbox/compile";
import { REFUSED, stripTypes } from "../../src/sandbox/typescript";

// Type stripping (API.md §13), in workerd and in Node: types become spaces, so every line and
// column of the JavaScript is the TypeScript's; what cannot be erased exactly is refused.

function strip(source: string): string {
  const result = stripTypes(source);
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result.diagnostics)}`);
  return result.code;
}

/**
 * Position-preserving: same length, line breaks where they were, and every character the
 * author's or a space, except the few marks the stripper puts in blanked text (`;`, and a
 * moved `(` or `)`).
 */
function expectSamePositions(source: string, code: string) {
  expect(code.length).toBe(source.length);
  for (let i = 0; i < source.length; i++) {
    const [s, c] = [source[i]!, code[i]!];
    if (/[\n\r\u2028\u2029]/.test(s)) expect(c, `line break at ${i}`).toBe(s);
    else if (c !== s) expect(" ;()", `offset ${i}: ${JSON.stringify(s)} became ${JSON.stringify(c)}`).toContain(c);
  }
}

// Each type-only construct, and the JavaScript it must leave (a `;` starts an erased statement).
const STRIPPED: Array<[string, string, string]> = [
  ["a variable's type", "let x: number = 1;", "let x         = 1;"],
  ["a definite assignment", "let y!: string;", "let y         ;"],
  ["parameter and return types", "function f(a: string, b?: number): void {}", "function f(a        , b         )       {}"],
  ["a this parameter", "function g(this: Window, a: number) {}", "function g(              a        ) {}"],
  ["a rest parameter's type", "function h(...r: string[]) {}", "function h(...r          ) {}"],
  ["generics on a function and a call", "function id<T>(x: T): T { return x } id<number>(1);", "function id   (x   )    { return x } id        (1);"],
  ["generics on an arrow", "const k = <T,>(x: T) => x;", "const k =     (x   ) => x;"],
  ["an interface", "interface I { a: number }", ";                        "],
  ["a type alias", "type A<T> = T | null;", ";                    "],
  ["import type", 'import type { A } from "a";', ";                          "],
  ["an inline type import", 'import { type A, b } from "a";', 'import {         b } from "a";'],
  ["export type", 'export type { A } from "a";', ";                          "],
  ["an exported interface", "export interface E {}", ";                    "],
  ["declare", "declare const c: number;", ";                       "],
  ["declare global", "declare global { var g: number }", ";                               "],
  ["declare enum", "declare enum D { A }", ";                   "],
  ["a type-only namespace", "namespace N { export type T = 1 }", ";                                "],
  ["function overloads", "function o(a: string): void;\nfunction o(a: any) {}", ";                           \nfunction o(a     ) {}"],
  ["as", "const v = w as unknown as string;", "const v = w                     ;"],
  ["satisfies", "const s = { a: 1 } satisfies object;", "const s = { a: 1 }                 ;"],
  ["a non-null assertion", "const n = m!.p!;", "const n = m .p ;"],
  ["an instantiation expression", "const e = id<string>;", "const e = id        ;"],
  ["class generics, implements and superclass type arguments", "class C<T> extends B<T> implements I, J<T> {}", "class C    extends B                       {}"],
  ["an abstract class and members", "abstract class M { abstract m(): void; n() {} }", "         class M { ;                   n() {} }"],
  [
    "access modifiers, readonly, override, optional and definite members",
    "class P extends B { private readonly a?: number = 1; protected b!: string; public override c() {} }",
    "class P extends B { ;                a          = 1; ;         b         ; ;               c() {} }",
  ],
  ["a declared field and an index signature", "class Q { declare d: number; [k: string]: unknown }", "class Q { ;                  ;                    }"],
  ["an optional method", "class R { m?(): void {} }", "class R { m ()       {} }"],
  ["method overloads", "class S { m(a: string): void; m(a: any) {} }", "class S { ;                   m(a     ) {} }"],
  ["type predicates and assertions", "function is(x: unknown): x is string { return true }", "function is(x         )              { return true }"],
  ["a catch clause's type", "try {} catch (e: unknown) {}", "try {} catch (e         ) {}"],
  ["a destructured parameter's type", "const p = ({ a }: { a: number }) => a;", "const p = ({ a }               ) => a;"],
];

// What TypeScript compiles to code: refused at the construct, with a way out.
const REFUSALS: Array<[string, string, { line: number; column: number }, string]> = [
  ["enum", "let a = 1;\nenum Color { Red }", { line: 2, column: 1 }, REFUSED.enum],
  ["const enum", "const enum Size { S, M }", { line: 1, column: 1 }, REFUSED.enum],
  ["an exported enum", "export enum Color { Red }", { line: 1, column: 8 }, REFUSED.enum],
  ["a namespace with values", "namespace N {\n  export const x = 1;\n}", { line: 1, column: 1 }, REFUSED.namespace],
  ["a module with values", "module M { export function f() {} }", { line: 1, column: 1 }, REFUSED.namespace],
  ["a parameter property", "class K {\n  constructor(private a: number) {}\n}", { line: 2, column: 15 }, REFUSED.parameterProperty],
  ["a readonly parameter property", "class K { constructor(readonly a = 1) {} }", { line: 1, column: 23 }, REFUSED.parameterProperty],
  ["a class decorator", "@sealed class D {}", { line: 1, column: 1 }, REFUSED.decorator],
  ["a member decorator", "class D {\n  @log m() {}\n}", { line: 2, column: 3 }, REFUSED.decorator],
  ["import = require()", 'import fs = require("fs");', { line: 1, column: 1 }, REFUSED.importRequire],
  ["an import alias", "import X = N.x;", { line: 1, column: 1 }, REFUSED.importAlias],
  ["export =", "const v = 1;\nexport = v;", { line: 2, column: 1 }, REFUSED.exportAssign],
  ["an angle-bracket assertion", "const o = () => <any>{ a: 1 };", { line: 1, column: 17 }, REFUSED.angleAssertion],
];

describe("TypeScript stripping", () => {
  describe("erases each type-only construct in place", () => {
    it.each(STRIPPED)("%s", (_what, source, expected) => {
      const code = strip(source);
      expect(code).toBe(expected);
      expectSamePositions(source, code);
    });
  });

  describe("refuses what TypeScript compiles to code, at its line and column", () => {
    it.each(REFUSALS)("%s", (_what, source, at, message) => {
      const result = stripTypes(source);
      expect(result).toEqual({ ok: false, diagnostics: [{ ...at, message }] });
    });
  });

  describe("keeps what TypeScript meant across automatic-semicolon hazards", () => {
    it("ends the statement before an erased one (no call across an interface)", () => {
      expect(strip("let x = y\ninterface I {}\n(z)")).toBe("let x = y\n;             \n(z)");
    });
    it("ends a statement whose last expression had `as` (no indexing into the next line)", () => {
      expect(strip("x = y as T\n[1].map(f)")).toBe("x = y ;   \n[1].map(f)");
      expect(strip("x = (y) as T\n[1]")).toBe("x = (y) ;   \n[1]");
    });
    it("ends the member before a computed one whose modifier was erased", () => {
      expect(strip('class C {\n  a = 1\n  public ["b"] = 2\n}')).toBe('class C {\n  a = 1\n  ;      ["b"] = 2\n}');
    });
    it("moves `)` to the line of `=>` when an arrow's return type spans lines", () => {
      const source = "let f = (a: string): Array<\n  string\n> => [a];";
      const code = strip(source);
      expect(code).toBe("let f = (a                 \n        \n) => [a];");
      expectSamePositions(source, code);
    });
    it("moves `(` to where `<` was when type parameters span lines (after return and async)", () => {
      expect(strip("function r() {\n  return <\n    T\n  >(x: T) => x\n}")).toBe("function r() {\n  return (\n     \n    x   ) => x\n}");
      expect(strip("let g = async <\n  T\n>(v: T) => v;")).toBe("let g = async (\n   \n  v   ) => v;");
    });
    it("refuses, at the expression, an `as` whose removal would regroup operators", () => {
      expect(stripTypes("const q =\n  1 + 1 as any / 2;")).toEqual({ ok: false, diagnostics: [{ line: 2, column: 3, message: REFUSED.changed }] });
    });
    it("refuses `??` mixed with `&&` around an `as` (no parentheses would survive erasure)", () => {
      const result = stripTypes("const v = a ?? b as any && c;");
      expect(result.ok).toBe(false);
    });
  });

  it("reports a TypeScript syntax error at its TypeScript position", () => {
    expect(stripTypes("interface I {\n  a: number\n}\nconst x: number = ;")).toEqual({
      ok: false,
      diagnostics: [{ line: 4, column: 19, message: expect.stringContaining("SyntaxError") }],
    });
  });

  it("strips the 50 KB benchmark script in place, and it compiles as a script", () => {
    const source = fiftyKilobyteTypeScript();
    const code = strip(source);
    expectSamePositions(source, code);
    expect(code).not.toMatch(/\binterface\b|: number|satisfies|private /);
    const compiled = compileScript(source, "typescript");
    expect(compiled.ok).toBe(true);
    if (compiled.ok) expect(compiled.script.sourceBytes).toBe(new TextEncoder().encode(source).byteLength);
  });

  it("compiles TypeScript to the same factory as the JavaScript it strips to", () => {
    const source = "type In = { n: number };\nexport default (event: { input: In }): number => event.input.n * 2;\n";
    const ts = compileScript(source, "typescript");
    const js = compileScript(strip(source));
    expect(ts.ok && js.ok && ts.script.factorySource === js.script.factorySource).toBe(true);
    // The same text as JavaScript is a syntax error on its first line.
    expect(compileScript(source)).toMatchObject({ ok: false, diagnostics: [{ line: 1, message: expect.stringContaining("SyntaxError") }] });
  });
});
