import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import tsBlankSpace from "ts-blank-space";
import { describe, expect, it } from "vitest";
import { fiftyKilobyteTypeScript } from "../../bench/scripts.ts";
import { stripTypes } from "../../src/sandbox/typescript.ts";

// A second opinion on the stripper (src/sandbox/typescript.ts): ts-blank-space, which blanks
// types over the `typescript` package's own parser, in Node only (a dev dependency, never in
// the Worker). On real TypeScript (the project's own sources, the 50 KB benchmark script) the
// two must produce the same JavaScript, or refuse the same files.

const root = join(import.meta.dirname, "..", "..");

/** What runs: the text without the spaces and `;` that either stripper may place differently. */
const tokens = (code: string) => code.replace(/[\s;]/g, "");

function compare(source: string) {
  let oracleErrors = 0;
  const oracle = tsBlankSpace(source, () => oracleErrors++);
  const ours = stripTypes(source);
  return { oracle, oracleErrors, ours };
}

describe("the stripper agrees with ts-blank-space", () => {
  const files = execFileSync("git", ["ls-files", "*.ts"], { cwd: root, encoding: "utf8" })
    .split("\n")
    .filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"));

  it("on the project's own TypeScript: the same JavaScript, or both refuse", () => {
    expect(files.length).toBeGreaterThan(100);
    let same = 0;
    for (const file of files) {
      const { oracle, oracleErrors, ours } = compare(readFileSync(join(root, file), "utf8"));
      if (!ours.ok) {
        // We refuse only what ts-blank-space cannot erase either (parameter properties, here).
        expect(oracleErrors, `${file}: ${JSON.stringify(ours.diagnostics)}`).toBeGreaterThan(0);
        continue;
      }
      expect(oracleErrors, file).toBe(0);
      expect(tokens(ours.code), file).toBe(tokens(oracle));
      same++;
    }
    expect(same).toBeGreaterThan(100);
  }, 120_000);

  // Where a parser could read `<`, `>` or a line break differently from TypeScript's.
  const ambiguous = [
    "f<T>(x);",
    "a < b > (c);",
    "a < b >> c;",
    "f<T>\n(x);",
    "const n = new A<B>;",
    "const g = f<string>;\n[1].map(g);",
    "x = y as any\n(z);",
    "x = y!\n(z);",
    "if (a < b) c = d > (e);",
    "const t = f<T>`x`;",
    "const r = a satisfies B ? c : d;",
    "for (const k of ks as string[]) {}",
    "let v = <T,>(x: T) => x;",
    "class C { m?(): void; n() {} }",
    "let o = { async *m<T>(this: W, a?: T): AsyncGenerator<T> {} };",
    "type A = { [K in keyof B as `x${K & string}`]: B[K] };\nexport {};",
  ];
  it.each(ambiguous)("on %j", (source) => {
    const { oracle, oracleErrors, ours } = compare(source);
    if (!ours.ok) {
      expect(oracleErrors, JSON.stringify(ours.diagnostics)).toBeGreaterThan(0);
      return;
    }
    expect(oracleErrors).toBe(0);
    expect(tokens(ours.code)).toBe(tokens(oracle));
  });

  it("on the 50 KB benchmark script", () => {
    const { oracle, oracleErrors, ours } = compare(fiftyKilobyteTypeScript());
    expect(oracleErrors).toBe(0);
    expect(ours.ok && tokens(ours.code)).toBe(tokens(oracle));
  }, 60_000);
});
