/**
 * QuickJS's own verdict on a compiled script, without running it: a bare context parses the
 * factory module (compile only, as a module: the grammar the sandbox evaluates it in).
 * Catches syntax the engine lacks that the standard parser accepts (`using` declarations,
 * for one).
 *
 * Each check gets a fresh context, freed afterwards: a compiled module stays registered in
 * its context until the context goes. QuickJS still keeps a few bytes per refused module in
 * the runtime, so a checker is `spent` after CHECKS_PER_CHECKER checks and its owner
 * (services/source-check.ts) replaces it; dropping it gives its WebAssembly memory back.
 */
import releaseSyncVariant from "@jitl/quickjs-wasmfile-release-sync";
import { newQuickJSWASMModuleFromVariant, newVariant, type QuickJSRuntime } from "quickjs-emscripten-core";
import { type CompiledScript, type Diagnostic, SCRIPT_FILE } from "./compile";
import { ENGINE_INITIAL_BYTES } from "./engine";
import { quickjsDiagnostic } from "./realm";

/** Parsing the largest allowed source fits well within this. */
const CHECKER_MEMORY_BYTES = 64 * 1024 * 1024;
const CHECKS_PER_CHECKER = 1_000;

export class SyntaxChecker {
  private checks = 0;
  /** False after a refused module (QuickJS keeps a few bytes of it) or a crash: freeing would abort. */
  private freeable = true;

  private constructor(private readonly runtime: QuickJSRuntime) {}

  static async create(wasmModule: WebAssembly.Module): Promise<SyntaxChecker> {
    const wasmMemory = new WebAssembly.Memory({ initial: ENGINE_INITIAL_BYTES / 65536, maximum: CHECKER_MEMORY_BYTES / 65536 });
    const quickjs = await newQuickJSWASMModuleFromVariant(newVariant(releaseSyncVariant, { wasmModule, wasmMemory }));
    const runtime = quickjs.newRuntime();
    runtime.setMemoryLimit(CHECKER_MEMORY_BYTES / 2);
    runtime.setMaxStackSize(256 * 1024);
    // Compiling a module with imports loads them; a checker only parses the file it is
    // given, so every import is an empty stand-in (modules.ts checks the graph itself).
    runtime.setModuleLoader(() => "export default 0;", (_base, requested) => requested);
    return new SyntaxChecker(runtime);
  }

  /** True once the checker should be replaced (see above). */
  get spent(): boolean {
    return this.checks >= CHECKS_PER_CHECKER;
  }

  /** The engine's diagnostics for a compiled script; empty when it accepts it. */
  check(script: CompiledScript): Diagnostic[] {
    this.checks += 1;
    const wasFreeable = this.freeable;
    this.freeable = false;
    const context = this.runtime.newContext();
    const result = context.evalCode(script.factorySource, SCRIPT_FILE, { type: "module", compileOnly: true });
    let diagnostics: Diagnostic[] = [];
    if (result.error) {
      const error = result.error.consume((e) => context.dump(e) as { message?: string; stack?: string });
      diagnostics = [quickjsDiagnostic(error)];
    } else {
      result.value.dispose();
    }
    context.dispose();
    this.freeable = wasFreeable && diagnostics.length === 0;
    return diagnostics;
  }

  /**
   * Frees the checker's engine when QuickJS can. After a refused module or a crash it
   * cannot (it would abort); then dropping the checker frees it: its WebAssembly instance,
   * and all its memory, go with the last reference.
   */
  dispose() {
    if (this.freeable && this.runtime.alive) this.runtime.dispose();
  }
}
