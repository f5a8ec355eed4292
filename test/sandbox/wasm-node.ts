import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";

/** QuickJS's WebAssembly module, compiled from the package's .wasm file (Node). */
export async function loadQuickJSWasm(): Promise<WebAssembly.Module> {
  const path = createRequire(import.meta.url).resolve("@jitl/quickjs-wasmfile-release-sync/wasm");
  return new WebAssembly.Module(await readFile(path));
}
