declare module "#quickjs-wasm" {
  /** QuickJS's WebAssembly module for the runtime the test runs in (see vitest.config.ts). */
  export function loadQuickJSWasm(): Promise<WebAssembly.Module>;
}
