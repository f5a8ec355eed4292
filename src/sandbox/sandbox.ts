/**
 * The sandbox's one entry point: `execute()` runs a compiled script under hard limits and
 * answers `{status, result, error, logs, cpuMs, memoryBytes, sdkCalls}`. It never throws:
 * every failure is a value with a name. Knows QuickJS and nothing about Workers, so it runs
 * (and is tested) in Node and in workerd alike.
 */
import { ExecutionBudget } from "./budget";
import type { CompiledScript } from "./compile";
import { type ExecutionError, sandboxError } from "./errors";
import { SDK_FUNCTIONS, type HostApi, type LogEntry, NO_HOST } from "./host";
import { PoolCapacityError, type PoolOptions, type PoolStats, SandboxPool } from "./pool";
import { type HandlerCall, SandboxCompileError, SetupLimitError } from "./realm";

/** The per-execution limits of API.md §8 that the sandbox enforces. */
export interface ExecutionLimits {
  timeoutMs: number;
  cpuMs: number;
  memoryBytes: number;
  stackBytes: number;
  outputBytes: number;
  logBytes: number;
  sdkCallsPerExecution: number;
}

export interface ExecuteRequest {
  /** Whose execution this is: while it runs, its engine runs no other tenant's code. */
  tenant: string;
  /** Identifies the compiled code, e.g. `scriptId:version:sha256`; warm realms are kept per key. */
  scriptKey: string;
  script: CompiledScript;
  event: unknown;
  ctx: Record<string, unknown>;
  limits: ExecutionLimits;
  host?: HostApi;
  /** What a handler object receives beyond the event (API.md §13): request, env, basePath, and who takes its Response. */
  call?: HandlerCall;
}

/** How a sandbox run ended (the record adds pending, running and cancelled: tenant/records.ts). */
export type SandboxStatus = "completed" | "failed" | "timeout";

export interface ExecutionResult {
  status: SandboxStatus;
  /** The script's return value (JSON); undefined when it returned nothing or did not complete. */
  result: unknown;
  /** The same value as the JSON text the script produced. */
  resultJson: string | undefined;
  error: ExecutionError | null;
  logs: LogEntry[];
  /** Measured where the clock advances during execution, else estimated from operation counts. */
  cpuMs: number;
  cpuMeasured: boolean;
  /** Heap the execution's runtime used when it ended. */
  memoryBytes: number;
  sdkCalls: number;
  durationMs: number;
  /** Whether a warm realm (no new runtime, no parse) ran it. */
  warm: boolean;
  /** Milliseconds spent getting a realm (building one when cold): thread time the tenant used beyond `cpuMs`. */
  setupMs: number;
  /** Milliseconds from the start to when a fetch handler's Response was handed over; null when none was. */
  responseMs: number | null;
}

export interface SandboxOptions extends PoolOptions {
  /** QuickJS's compiled WebAssembly module (imported by wrangler in workerd, read from disk in Node). */
  wasmModule: WebAssembly.Module | (() => WebAssembly.Module | Promise<WebAssembly.Module>);
  /** All engines together hold (or may grow to) at most this much linear memory. */
  memoryBudgetBytes: number;
}

export class Sandbox {
  readonly pool: SandboxPool;

  constructor(options: SandboxOptions) {
    const source = options.wasmModule;
    let loaded: Promise<WebAssembly.Module> | undefined;
    const wasmModule = () => (loaded ??= Promise.resolve(typeof source === "function" ? source() : source));
    this.pool = new SandboxPool(wasmModule, options.memoryBudgetBytes, SDK_FUNCTIONS, options);
  }

  async execute(request: ExecuteRequest): Promise<ExecutionResult> {
    const budget = new ExecutionBudget({ timeoutMs: request.limits.timeoutMs, cpuMs: request.limits.cpuMs });
    const realmLimits = { memoryBytes: request.limits.memoryBytes, stackBytes: request.limits.stackBytes };
    const base = { budget, started: performance.now() };
    let lease;
    try {
      lease = await this.pool.acquire(request.tenant, request.scriptKey, request.script, realmLimits);
    } catch (error) {
      // A realm that failed to build still took its time: `ended` reports it as setup.
      if (error instanceof SandboxCompileError) return ended(base, "failed", sandboxError("CompileError", error.message));
      if (error instanceof PoolCapacityError || error instanceof SetupLimitError) return ended(base, "failed", sandboxError("SandboxError", error.message));
      return ended(base, "failed", sandboxError("SandboxError", `could not start a sandbox: ${String(error)}`));
    }
    const setupMs = round(performance.now() - base.started);
    try {
      const outcome = await lease.realm.run({
        eventJson: JSON.stringify(request.event ?? null),
        ctxJson: JSON.stringify({ ...request.ctx, deadline: budget.deadline }),
        limits: request.limits,
        host: request.host ?? NO_HOST,
        budget,
        call: request.call,
      });
      return {
        status: outcome.status,
        result: outcome.resultJson === undefined ? undefined : JSON.parse(outcome.resultJson),
        resultJson: outcome.resultJson,
        error: outcome.error,
        logs: outcome.logs,
        cpuMs: round(budget.cpuMs()),
        cpuMeasured: budget.cpuMeasured(),
        memoryBytes: outcome.memoryBytes,
        sdkCalls: outcome.sdkCalls,
        durationMs: round(performance.now() - base.started),
        warm: lease.warm,
        setupMs,
        responseMs: outcome.respondedAt === null ? null : round(outcome.respondedAt - base.started),
      };
    } finally {
      this.pool.release(lease);
    }
  }

  stats(): PoolStats {
    return this.pool.stats();
  }

  dispose() {
    this.pool.dispose();
  }
}

function ended(base: { budget: ExecutionBudget; started: number }, status: SandboxStatus, error: ExecutionError): ExecutionResult {
  return {
    status,
    result: undefined,
    resultJson: undefined,
    error,
    logs: [],
    cpuMs: 0,
    cpuMeasured: false,
    memoryBytes: 0,
    sdkCalls: 0,
    durationMs: round(performance.now() - base.started),
    warm: false,
    setupMs: round(performance.now() - base.started),
    responseMs: null,
  };
}

function round(ms: number) {
  return Math.round(ms * 1000) / 1000;
}
