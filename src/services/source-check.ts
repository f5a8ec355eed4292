import { loadQuickJSWasm } from "../lib/quickjs-wasm";
import { SyntaxChecker } from "../sandbox/checker";
import { compileScript, type Diagnostic, type HandlerName } from "../sandbox/compile";
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

/** The handler of a handler object each script type's trigger calls (API.md §13). */
export const TRIGGER_HANDLER: Record<string, HandlerName> = { http: "fetch", event: "event", scheduled: "scheduled", manual: "run" };

/**
 * Compile-on-save: a source that would not run is a 400 with its diagnostics; so is a handler
 * object (its names read from the text) without the handler its script type's trigger calls.
 */
export async function checkSource(source: string, language: Language, type?: string): Promise<void> {
  const diagnostics = await diagnose(source, language);
  if (diagnostics.length > 0) throw ApiError.invalid("the script does not compile", diagnostics);
  const missing = type === undefined ? null : missingHandler(source, language, type);
  if (missing) throw ApiError.invalid("the script does not compile", [{ line: 1, column: 1, message: missing }]);
}

/** Why a handler object cannot serve a script type's trigger, or null when it can (or its handlers cannot be told from the text). */
export function missingHandler(source: string, language: Language, type: string): string | null {
  const compiled = compileScript(source, language);
  const shape = compiled.ok ? compiled.script.shape : undefined;
  const needed = TRIGGER_HANDLER[type];
  if (shape?.form !== "object" || shape.handlers === null || needed === undefined || shape.handlers.includes(needed)) return null;
  const has = shape.handlers.length === 0 ? "none" : shape.handlers.join(", ");
  return `a ${type} script's default export needs a ${needed} handler (it has: ${has})`;
}
