import { loadQuickJSWasm } from "../lib/quickjs-wasm";
import { SyntaxChecker } from "../sandbox/checker";
import { compileScript, type Diagnostic } from "../sandbox/compile";
import type { Language } from "../sandbox/typescript";
import { ApiError } from "../domain/errors";

/** One QuickJS checker per isolate, made on first use; a spent or crashed checker is replaced. */
let checker: Promise<SyntaxChecker> | undefined;

/**
 * Everything wrong with a source, as `[{line, column, message}]`: the standard parser's
 * verdict (TypeScript: the stripping's first, §13) and the script rules (API.md §7) first,
 * then QuickJS's own. Positions are the author's, in TypeScript too.
 */
export async function diagnose(source: string, language: Language = "javascript"): Promise<Diagnostic[]> {
  const compiled = compileScript(source, language);
  if (!compiled.ok) return compiled.diagnostics;
  const current = (checker ??= loadQuickJSWasm().then((wasm) => SyntaxChecker.create(wasm)));
  try {
    const engine = await current;
    const found = engine.check(compiled.script);
    if (engine.spent && checker === current) {
      checker = undefined;
      engine.dispose();
    }
    return found;
  } catch {
    // The engine's parser can exhaust the host's stack on extreme nesting; a fresh checker
    // serves the next request, and the crashed one is freed.
    if (checker === current) checker = undefined;
    void current.then((crashed) => crashed.dispose(), () => undefined);
    return [{ line: 1, column: 1, message: "the script is nested too deeply to compile" }];
  }
}

/** Compile-on-save: a source that would not run is a 400 with its diagnostics. */
export async function checkSource(source: string, language: Language): Promise<void> {
  const diagnostics = await diagnose(source, language);
  if (diagnostics.length > 0) throw ApiError.invalid("the script does not compile", diagnostics);
}
