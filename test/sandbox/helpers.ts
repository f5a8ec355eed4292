import { loadQuickJSWasm } from "#quickjs-wasm";
import { expect } from "vitest";
import { compileScript } from "../../src/sandbox/compile";
import type { HostApi } from "../../src/sandbox/host";
import type { HandlerCall } from "../../src/sandbox/realm";
import { type ExecutionLimits, type ExecutionResult, Sandbox } from "../../src/sandbox/sandbox";

export const LIMITS: ExecutionLimits = {
  timeoutMs: 5_000,
  cpuMs: 5_000,
  memoryBytes: 16 * 1024 * 1024,
  stackBytes: 256 * 1024,
  outputBytes: 1024 * 1024,
  logBytes: 64 * 1024,
  sdkCallsPerExecution: 100,
};

export function newSandbox(memoryBudgetBytes = 256 * 1024 * 1024, options: { tenantShareBytes?: number } = {}) {
  return new Sandbox({ wasmModule: loadQuickJSWasm, memoryBudgetBytes, ...options });
}

let counter = 0;

export interface RunOptions {
  limits?: Partial<ExecutionLimits>;
  event?: unknown;
  host?: HostApi;
  /** Runs under this cache key (warm realm reuse); a fresh key by default. */
  key?: string;
  /** The tenant it runs for; one test tenant by default. */
  tenant?: string;
  /** Added to ctx (e.g. `trigger`, which picks the handler of a handler object). */
  ctx?: Record<string, unknown>;
  /** What a handler object receives beyond the event (request, env, basePath, onResponse). */
  call?: HandlerCall;
}

/** Compiles and runs a script; a compile failure fails the test. */
export async function run(sandbox: Sandbox, source: string, options: RunOptions = {}): Promise<ExecutionResult> {
  const compiled = compileScript(source);
  if (!compiled.ok) throw new Error(`does not compile: ${JSON.stringify(compiled.diagnostics)}`);
  return sandbox.execute({
    tenant: options.tenant ?? "test-tenant",
    scriptKey: options.key ?? `script-${++counter}`,
    script: compiled.script,
    event: options.event ?? {},
    ctx: { executionId: `exec-${counter}`, ...options.ctx },
    limits: { ...LIMITS, ...options.limits },
    host: options.host,
    call: options.call,
  });
}

/** The pool still serves a benign script after whatever ran before. */
export async function expectHealthy(sandbox: Sandbox) {
  const result = await run(sandbox, "export default async (event) => ({ ok: true, echo: event.n })", { event: { n: 7 } });
  expect(result.status, JSON.stringify(result.error)).toBe("completed");
  expect(result.result).toEqual({ ok: true, echo: 7 });
}

/** Runs `body` as the body of an async default export; the execution must complete. Answers its result. */
export async function evaluate(sandbox: Sandbox, body: string, options: RunOptions = {}): Promise<any> {
  const result = await run(sandbox, `export default async (event, ctx) => {\n${body}\n};`, options);
  expect(result.status, JSON.stringify(result.error)).toBe("completed");
  return result.result;
}

/** The error `body` throws (or rejects with), as [name, message]; "no error" when it does not. */
export async function thrown(sandbox: Sandbox, body: string, options: RunOptions = {}): Promise<[string, string] | "no error"> {
  return evaluate(sandbox, `try { await (async () => {\n${body}\n})(); return "no error"; } catch (e) { return [e.name, e.message]; }`, options);
}
