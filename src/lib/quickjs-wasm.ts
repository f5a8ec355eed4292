import wasmModule from "@jitl/quickjs-wasmfile-release-sync/wasm";

/** QuickJS's WebAssembly module, compiled by wrangler at build time (workerd). */
export async function loadQuickJSWasm(): Promise<WebAssembly.Module> {
  return wasmModule;
}
