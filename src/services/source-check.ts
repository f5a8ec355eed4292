import { loadQuickJSWasm } from "../lib/quickjs-wasm";
import { SyntaxChecker } from "../sandbox/checker";
import { compileScript, type CompileResult, type Diagnostic, type HandlerName, type HandlerShape } from "../sandbox/compile";
import { checkModule, compileLinked, type ModuleLookup } from "../sandbox/modules";
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
  return engineCheck(compileScript(source, language));
}

/** Where a source is checked with its imports (API.md §13): the tenant's modules, and whether it is a module itself. */
export interface ImportContext {
  modules: ModuleLookup;
  /** The script's type; a `module` is checked as a module (named exports, no default rule). */
  isModule: boolean;
  /** A module's own name: a save that closes a cycle through it is refused. */
  name?: string;
  /** The script's type, when known: a handler object must have its trigger's handler. */
  type?: string;
}

/**
 * `diagnose` with imports resolved: the diagnostics (empty when it compiles and links) and
 * the UTF-8 size of the source plus every module it reaches (the total the source cap applies to).
 */
export async function diagnoseLinked(source: string, language: Language, context: ImportContext): Promise<{ diagnostics: Diagnostic[]; totalBytes: number; shape?: HandlerShape }> {
  if (context.isModule) {
    const checked = checkModule(source, language, context.modules, context.name ?? "");
    if (checked.diagnostics.length > 0 || !checked.factory) return { diagnostics: checked.diagnostics, totalBytes: checked.sourceBytes };
    return { diagnostics: await engineCheck({ ok: true, script: { factorySource: checked.factory, sourceBytes: checked.sourceBytes, usesCellState: false } }), totalBytes: checked.sourceBytes };
  }
  const linked = compileLinked(source, language, context.modules);
  if (!linked.ok) return { diagnostics: linked.diagnostics, totalBytes: new TextEncoder().encode(source).byteLength };
  return { diagnostics: await engineCheck({ ok: true, script: linked.script }), totalBytes: linked.sourceBytes, shape: linked.script.shape };
}

/** QuickJS's own verdict on a compiled script (the standard parser's came first). */
async function engineCheck(compiled: CompileResult): Promise<Diagnostic[]> {
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
 * Compile-on-save: a source that would not run (or link) is a 400 with its diagnostics; so is
 * a handler object (its names read from the text) without the handler its script type's
 * trigger calls. Answers the UTF-8 size of the source plus the modules it imports.
 */
export async function checkSource(source: string, language: Language, context: ImportContext): Promise<number> {
  const { diagnostics, totalBytes, shape } = await diagnoseLinked(source, language, context);
  if (diagnostics.length > 0) throw ApiError.invalid(context.isModule ? "the module does not compile" : "the script does not compile", diagnostics);
  const missing = context.type === undefined ? null : missingHandler(shape, context.type);
  if (missing) throw ApiError.invalid("the script does not compile", [{ line: 1, column: 1, message: missing }]);
  return totalBytes;
}

/** Why a handler object cannot serve a script type's trigger, or null when it can (or its handlers cannot be told from the text). */
export function missingHandler(shape: HandlerShape | undefined, type: string): string | null {
  const needed = TRIGGER_HANDLER[type];
  if (shape?.form !== "object" || shape.handlers === null || needed === undefined || shape.handlers.includes(needed)) return null;
  const has = shape.handlers.length === 0 ? "none" : shape.handlers.join(", ");
  return `a ${type} script's default export needs a ${needed} handler (it has: ${has})`;
}
