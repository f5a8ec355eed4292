/**
 * QuickJS's own verdict on a compiled script, without running it: a bare context parses the
 * factory (compile only). Catches syntax the engine lacks that the standard parser accepts
 * (`using` declarations, for one). One checker serves many checks.
 */
import releaseSyncVariant from "@jitl/quickjs-wasmfile-release-sync";
import { newQuickJSWASMModuleFromVariant, newVariant, type QuickJSContext } from "quickjs-emscripten-core";
import { type CompiledScript, type Diagnostic, SCRIPT_FILE } from "./compile";
import { MIN_INSTANCE_BYTES, quickjsDiagnostic } from "./instance";

/** Parsing the largest allowed source fits well within this. */
const CHECKER_MEMORY_BYTES = 64 * 1024 * 1024;

export class SyntaxChecker {
  private constructor(private readonly context: QuickJSContext) {}

  static async create(wasmModule: WebAssembly.Module): Promise<SyntaxChecker> {
    const wasmMemory = new WebAssembly.Memory({ initial: MIN_INSTANCE_BYTES / 65536, maximum: CHECKER_MEMORY_BYTES / 65536 });
    const quickjs = await newQuickJSWASMModuleFromVariant(newVariant(releaseSyncVariant, { wasmModule, wasmMemory }));
    const runtime = quickjs.newRuntime();
    runtime.setMemoryLimit(CHECKER_MEMORY_BYTES / 2);
    runtime.setMaxStackSize(256 * 1024);
    return new SyntaxChecker(runtime.newContext());
  }

  /** The engine's diagnostics for a compiled script; empty when it accepts it. */
  check(script: CompiledScript): Diagnostic[] {
    const result = this.context.evalCode(script.factorySource, SCRIPT_FILE, { compileOnly: true });
    if (!result.error) {
      result.value.dispose();
      return [];
    }
    const error = this.context.dump(result.error) as { message?: string; stack?: string };
    result.error.dispose();
    return [quickjsDiagnostic(error)];
  }
}
