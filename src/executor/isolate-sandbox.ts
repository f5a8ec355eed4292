/**
 * The isolate's one sandbox pool (API.md §14: "one pool per isolate"), made on first use in
 * module scope, so the Worker and every tenant cell that share this isolate share its
 * engines, its warm realms and one memory budget.
 */
import { loadQuickJSWasm } from "../lib/quickjs-wasm";
import { Sandbox } from "../sandbox/sandbox";

/**
 * The linear memory all sandboxes of the isolate may hold together. The isolate has 128 MB
 * in all; the rest is the Worker's and the Durable Objects' own JavaScript heap and code.
 */
export const ISOLATE_SANDBOX_BUDGET_BYTES = 96 * 1024 * 1024;
/**
 * What one tenant's running executions may commit of it (the pool's `tenantShareBytes`); its
 * cell's admission reserves against it too. 80 MiB is the default `concurrency` (5) at the
 * default `memoryBytes` (16 MiB), so the defaults of API.md §8 hold for a tenant alone, and
 * 16 MiB stays for every other tenant of the isolate.
 */
export const TENANT_SANDBOX_SHARE_BYTES = 80 * 1024 * 1024;

let sandbox: Sandbox | undefined;

export function isolateSandbox(): Sandbox {
  sandbox ??= new Sandbox({ wasmModule: loadQuickJSWasm, memoryBudgetBytes: ISOLATE_SANDBOX_BUDGET_BYTES, tenantShareBytes: TENANT_SANDBOX_SHARE_BYTES });
  return sandbox;
}
