/**
 * A realm: one QuickJS runtime in an engine (engine.ts), with one hardened context holding
 * one compiled script. It runs one execution at a time; the pool (pool.ts) keeps idle ones
 * warm. Many realms share an engine's WebAssembly instance: each has its own runtime, so its
 * own interrupt handler, stack limit and garbage collector, and nothing of one is reachable
 * from another.
 */
import {
  Scope,
  type QuickJSContext,
  type QuickJSDeferredPromise,
  type QuickJSHandle,
  type QuickJSRuntime,
} from "quickjs-emscripten-core";
import { BOOTSTRAP_SOURCE } from "./bootstrap";
import { compactSource } from "./source";
import { guestUtf8, newGuestString } from "./strings";
import { ExecutionBudget } from "./budget";
import { type CompiledScript, type Diagnostic, mapStack, SCRIPT_FILE, SOURCE_PREFIX } from "./compile";
import { type ExecutionError, sandboxError } from "./errors";
import { evaluateFreeze, installModuleLoader } from "./linking";
import { mapLinkedStack } from "./modules";
import type { Engine } from "./engine";
import type { HostApi, LogEntry, LogLevel } from "./host";
import {
  ChargeRefused,
  errorRecord,
  ExecutionChannel,
  MAX_HELD_BYTES,
  MAX_PENDING_OPERATIONS,
  MAX_WEB_ARGUMENT_CHARS,
  type ErrorRecord,
  PlainText,
  RawText,
  type WebContext,
} from "./web/channel";
import { WEB_ASYNC_FUNCTIONS, WEB_GLOBALS, WEB_SOURCES, WEB_SYNC_FUNCTIONS } from "./web/index";
import { CONSOLE_METHODS } from "./web/console";
import { type HeapMeasure, HeapGauge } from "./heap-gauge";

/**
 * Longest single log entry the host accepts. The guest cuts longer entries to 16 Ki
 * characters plus a marker (bootstrap.ts); anything longer did not come from it.
 */
const MAX_LOG_ENTRY_CHARS = 16 * 1024 + 64;
/**
 * Building a realm (the bootstrap, then evaluating the factory module) runs under these
 * limits. It takes a few milliseconds; the limits only exist so that nothing, ever, runs
 * in a runtime without an interrupt handler.
 */
export const SETUP_LIMITS = { timeoutMs: 2_000, cpuMs: 2_000 };
/** QuickJS's stack while the packages are frozen (linking.ts). */
const FREEZE_STACK_BYTES = 64 * 1024;
/**
 * Web groups a realm holding a handler object (or a script whose shape only running tells)
 * loads while it is built: what `request` and a `Response` need. Cold, they cost a new realm
 * ~40 ms of interpreter time, near the edge's whole CPU slice (API.md §14); loaded here they
 * are setup work, and warm executions never pay it again anyway.
 */
const HANDLER_GROUPS = ["url", "encoding", "fetch"];

/** A web group's source compiled in `context` (nothing runs): the guest calls the function it evaluates to. */
function compileGroup(context: QuickJSContext, nameHandle: QuickJSHandle) {
  const name = context.getString(nameHandle);
  const source = Object.hasOwn(WEB_SOURCES, name) ? WEB_SOURCES[name] : undefined;
  return source === undefined ? undefined : context.evalCode(source, `iota-web-${name}.js`);
}

/** The bootstrap as QuickJS gets it (see source.ts). */
const BOOTSTRAP = compactSource(BOOTSTRAP_SOURCE);
/** Largest JSON argument list one SDK call may send. */
export const MAX_SDK_ARGUMENT_CHARS = 1024 * 1024;
/** A thrown error's message and stack are cut to this many characters. */
const MAX_ERROR_TEXT = 8 * 1024;

export interface RealmLimits {
  memoryBytes: number;
  stackBytes: number;
}

export interface RunLimits {
  timeoutMs: number;
  cpuMs: number;
  outputBytes: number;
  logBytes: number;
  sdkCallsPerExecution: number;
}

export interface RunRequest {
  eventJson: string;
  ctxJson: string;
  limits: RunLimits;
  host: HostApi;
  budget: ExecutionBudget;
  /** What only a handler object receives (API.md §13): the web Request, env, basePath. */
  call?: HandlerCall;
}

/** The request a fetch handler receives, as the platform got it. */
export interface HandlerRequest {
  /** The URL as received. */
  url: string;
  method: string;
  headers: Array<[string, string]>;
  /** The raw body; null when there is none. */
  body: Uint8Array | null;
}

/** The tenant's secrets as a handler's `env`: names known up front, a value handed over when read. */
export interface HandlerEnv {
  names: readonly string[];
  read(name: string): string | undefined;
}

/** The Response a fetch handler answered, as plain data. */
export interface ScriptResponse {
  status: number;
  statusText: string;
  /** Lower-case names, Set-Cookie one pair per cookie. */
  headers: Array<[string, string]>;
  body: string | Uint8Array | null;
}

export interface HandlerCall {
  request?: HandlerRequest;
  env?: HandlerEnv;
  basePath?: string;
  /**
   * Called once, as soon as a fetch handler's Response is ready (the execution may go on:
   * waitUntil), with the milliseconds since the sandbox call began (as `durationMs` counts).
   */
  onResponse?: (response: ScriptResponse, sandboxMs: number) => void;
}

export interface RunOutcome {
  status: "completed" | "failed" | "timeout";
  /** The result as JSON text; undefined when the script returned nothing. */
  resultJson: string | undefined;
  error: ExecutionError | null;
  logs: LogEntry[];
  sdkCalls: number;
  /** Heap bytes the QuickJS runtime used when the execution ended. */
  memoryBytes: number;
  /** When a fetch handler's Response was handed over (performance.now()); null when none was. */
  respondedAt: number | null;
}

/** Raised by `Realm.create` when building the realm ran past `SETUP_LIMITS`. */
export class SetupLimitError extends Error {
  override readonly name = "SetupLimitError";
}

/** Raised by `Realm.create` when QuickJS refuses the compiled script. */
export class SandboxCompileError extends Error {
  override readonly name = "SandboxCompileError";
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`).join("; "));
  }
}

/** The execution a realm is running, with what the host functions record for it. */
interface Running {
  request: RunRequest;
  logs: LogEntry[];
  logBytes: number;
  logsTruncated: boolean;
  sdkCalls: number;
  /** SDK calls whose host work has not finished. */
  inFlight: Set<Promise<void>>;
  /** Deferred promises handed to the guest and not yet settled. */
  deferreds: Set<QuickJSDeferredPromise>;
  /** Bytes and host objects of this execution (web/channel.ts); closed when it ends. */
  channel: ExecutionChannel;
  /** What host-backed functions get: the channel and the budget. */
  web: WebContext;
  /** Host-backed asynchronous operations not finished yet (not SDK calls). */
  pendingOperations: number;
  respondedAt: number | null;
}

export class Realm {
  private current: Running | null = null;
  /** False once anything happened that makes reuse unsafe (the pool then drops it). */
  reusable = true;
  alive = true;
  /** QuickJS's heap in use when last measured (after creation, after each execution). */
  heapBytes = 0;
  /** Linked files' line-1 prefixes, taken out of stack traces (modules.ts). */
  linePrefixes: Record<string, number> | undefined;
  /** The engine's count of refused growths when the current execution started. */
  private refusedGrowthsAtStart = 0;
  private readonly gauge: HeapGauge;

  private constructor(
    readonly engine: Engine,
    private readonly runtime: QuickJSRuntime,
    private readonly context: QuickJSContext,
    private readonly guestRun: QuickJSHandle,
    private readonly guestDescribe: QuickJSHandle,
    private readonly guestNextTimer: QuickJSHandle,
    private readonly guestFireTimer: QuickJSHandle,
    private readonly factory: QuickJSHandle,
    private readonly owned: QuickJSHandle[],
  ) {
    this.gauge = new HeapGauge(runtime, context, () => heapOf(runtime, context));
  }

  /**
   * A new realm in `engine` holding `script`. Throws `SandboxCompileError` when QuickJS refuses the
   * script, `SetupLimitError` when the realm could not be built within `SETUP_LIMITS`; any
   * other throw is a platform failure. Nothing runs in the new runtime (the bootstrap and
   * the factory module included) before its memory limit, stack limit and interrupt
   * handler are in place, and a failed creation frees what it made.
   */
  static create(engine: Engine, script: CompiledScript, limits: RealmLimits, sdkNames: readonly string[]): Realm {
    const setup = new ExecutionBudget(SETUP_LIMITS);
    const runtime = engine.quickjs.newRuntime();
    let context: QuickJSContext | undefined;
    try {
      runtime.setMemoryLimit(limits.memoryBytes);
      runtime.setMaxStackSize(limits.stackBytes);
      runtime.setInterruptHandler(() => setup.tick());
      // Imports are served while the realm is built, and only then (linking.ts).
      if (script.linked) installModuleLoader(runtime, script.linked);
      const realm = (context = runtime.newContext());
      // The host functions exist before the instance does; they reach it through this.
      const ref: { instance?: Realm } = {};
      let preloading = false;
      const [guestRun, guestDescribe, guestNextTimer, guestFireTimer, factory] = Scope.withScope((scope) => {
        const host = scope.manage(realm.newObject());
        // The only functions of the host the guest can call; the bootstrap captures them
        // and no script can reach them. None of them runs guest code.
        const hostFunctions = {
          call: realm.newFunction("call", (name, json) => ref.instance?.hostCall(name!, json!)),
          log: realm.newFunction("log", (level, text) => ref.instance?.hostLog(level!, text!)),
          // Before the instance exists (packages evaluated while the realm is built), the setup budget pays.
          charge: realm.newFunction("charge", (ns) => (ref.instance ? ref.instance.hostCharge(ns!) : setup.charge(realm.getNumber(ns!)) ? realm.true : realm.false)),
          sync: realm.newFunction("sync", (name, json, text) => ref.instance?.hostSync(name!, json!, text)),
          compute: realm.newFunction("compute", (name, json) => ref.instance?.hostCompute(name!, json!)),
          put: realm.newFunction("put", (buffer) => ref.instance?.hostPut(buffer!)),
          take: realm.newFunction("take", (id) => ref.instance?.hostTake(id!)),
          // While the realm is built, only the groups it preloads (below); then during executions.
          load: realm.newFunction("load", (name) => (ref.instance ? ref.instance.hostLoad(name!) : preloading ? compileGroup(realm, name!) : undefined)),
          respond: realm.newFunction("respond", (meta, bytes) => ref.instance?.hostRespond(meta!, bytes)),
          env: realm.newFunction("env", (name) => ref.instance?.hostEnv(name!)),
        };
        for (const [name, fn] of Object.entries(hostFunctions)) fn.consume((handle) => realm.setProp(host, name, handle));
        realm.newString(JSON.stringify(sdkNames)).consume((names) => realm.setProp(host, "names", names));
        realm.newString(JSON.stringify(WEB_GLOBALS)).consume((globals) => realm.setProp(host, "globals", globals));
        realm.newString(JSON.stringify(CONSOLE_METHODS)).consume((methods) => realm.setProp(host, "consoleMethods", methods));
        realm.newNumber(MAX_HELD_BYTES).consume((cap) => realm.setProp(host, "maxHeldBytes", cap));
        const bootstrap = scope.manage(unwrapSetup(realm, setup, realm.evalCode(BOOTSTRAP, "iota-bootstrap.js"), bootstrapFailure));
        const api = scope.manage(unwrapSetup(realm, setup, realm.callFunction(bootstrap, realm.undefined, host), bootstrapFailure));
        const guestApi = ["run", "describe", "nextTimer", "fireTimer"].map((name) => scope.manage(realm.getProp(api, name)));
        const factory = scope.manage(loadFactory(realm, runtime, setup, script));
        if (script.linked && script.linked.packages.length > 0) {
          // The freezer calls packages' constructors and getters: a shallow stack makes any
          // recursion there QuickJS's own (caught) error, never the host's stack running out.
          runtime.setMaxStackSize(FREEZE_STACK_BYTES);
          freezePackages(realm, runtime, setup, script.linked.packages);
          runtime.setMaxStackSize(limits.stackBytes);
        }
        // The web groups the script names, and for a handler object those of the Request and
        // Response it gets on every run, load with the realm (setup limits), not in its first
        // execution's CPU time (at the edge's 50 ms slice, crypto's loading alone could pass it).
        const groups = new Set([...(script.webGroups ?? []), ...(script.shape?.form === "function" ? [] : HANDLER_GROUPS)]);
        if (groups.size > 0) {
          const preload = scope.manage(realm.getProp(api, "preload"));
          preloading = true;
          const names = scope.manage(realm.newString(JSON.stringify([...groups])));
          scope.manage(unwrapSetup(realm, setup, realm.callFunction(preload, realm.undefined, names), bootstrapFailure));
          preloading = false;
        }
        // Created: the instance owns copies; the scope frees the rest.
        return [...guestApi.map((handle) => handle.dup()), factory.dup()] as const;
      });
      runtime.removeInterruptHandler();
      if (script.linked) runtime.removeModuleLoader();
      const owned = [guestRun!, guestDescribe!, guestNextTimer!, guestFireTimer!, factory!];
      ref.instance = new Realm(engine, runtime, realm, guestRun!, guestDescribe!, guestNextTimer!, guestFireTimer!, factory!, owned);
      ref.instance.linePrefixes = script.linked?.linePrefixes;
      ref.instance.heapBytes = ref.instance.gauge.measureNow();
      return ref.instance;
    } catch (error) {
      if (!(error instanceof SandboxCompileError || error instanceof SetupLimitError)) engine.crashed = true;
      abandonFailedRuntime(engine, runtime, context);
      throw error;
    }
  }

  /**
   * Runs one execution of the script. Never throws: every ending is an outcome. After a
   * timeout, an out-of-memory, a stack overflow, a crash, or leftover work (pending jobs,
   * SDK calls still in flight), `reusable` is false.
   */
  async run(request: RunRequest): Promise<RunOutcome> {
    const channel = new ExecutionChannel();
    const running: Running = {
      request,
      logs: [],
      logBytes: 0,
      logsTruncated: false,
      sdkCalls: 0,
      inFlight: new Set(),
      deferreds: new Set(),
      channel,
      web: {
        channel,
        charge: (ns) => {
          if (!request.budget.charge(ns)) throw new ChargeRefused();
        },
      },
      pendingOperations: 0,
      respondedAt: null,
    };
    this.current = running;
    this.refusedGrowthsAtStart = this.engine.refusedGrowths;
    const budget = request.budget;
    this.runtime.setInterruptHandler(() => budget.tick());
    let outcome: Pick<RunOutcome, "status" | "resultJson" | "error">;
    try {
      outcome = await this.drive(running);
    } catch (error) {
      // A failure of the sandbox itself (a WebAssembly trap, the host's own stack): the
      // engine's state can no longer be trusted.
      this.reusable = false;
      this.engine.crashed = true;
      outcome = hostFailure(error);
    }
    const memoryBytes = this.heapAfterRun();
    if (memoryBytes > 0) this.heapBytes = memoryBytes;
    this.finish(running);
    return { ...outcome, logs: running.logs, sdkCalls: running.sdkCalls, memoryBytes, respondedAt: running.respondedAt };
  }

  private async drive(running: Running): Promise<Pick<RunOutcome, "status" | "resultJson" | "error">> {
    const { budget } = running.request;
    const { context, runtime } = this;
    const bodyBytes = String(running.request.limits.outputBytes);
    const callJson = handlerCallJson(running);
    const args = [running.request.eventJson, running.request.ctxJson, randomSeed(), bodyBytes, String(budget.epochStart), callJson].map((text) => context.newString(text));
    const called = this.inInterpreter(budget, () => context.callFunction(this.guestRun, context.undefined, this.factory, ...args));
    for (const arg of args) arg.dispose();
    if (called.error) return this.failure(running, called.error);
    const promise = called.value;
    try {
      for (;;) {
        const jobs = this.inInterpreter(budget, () => runtime.executePendingJobs());
        if (jobs.error) return this.failure(running, jobs.error);
        jobs.dispose();
        const state = context.getPromiseState(promise);
        if (state.type === "fulfilled") {
          return state.value.consume((value) => this.fulfilled(running, value));
        }
        if (state.type === "rejected") return this.failure(running, state.error);
        if (budget.check()) return this.exhausted(running);
        if (runtime.hasPendingJob()) continue;
        // Nothing runnable: a due timer fires (one per turn, its jobs run after it), or the
        // host waits for an SDK call or the next timer, never past the deadline.
        const due = this.inInterpreter(budget, () => context.callFunction(this.guestNextTimer, context.undefined));
        if (due.error) return this.failure(running, due.error);
        const dueMs = due.value.consume((h) => context.getNumber(h));
        // The guest's clock (timers, performance.now): Date.now() since the execution began.
        const now = Date.now() - budget.epochStart;
        if (dueMs >= 0 && dueMs <= now) {
          const fired = this.inInterpreter(budget, () => context.newNumber(now).consume((at) => context.callFunction(this.guestFireTimer, context.undefined, at)));
          if (fired.error) return this.failure(running, fired.error);
          fired.value.dispose();
          continue;
        }
        if (running.inFlight.size === 0) {
          // Nothing can settle the script's promise in time: no job is queued, no SDK call is
          // pending, and no timer is due before the deadline. Waiting would only hold a slot.
          if (dueMs < 0) return this.neverSettles("the script's promise can never settle: it awaits something that nothing will resolve");
          if (dueMs - now > budget.remainingMs()) {
            // With its time all but spent (timers kept it busy to the end), it simply ran out of time.
            if (budget.remainingMs() <= 5 && budget.check(dueMs - now)) return this.exhausted(running);
            return this.neverSettles("the script awaits a timer due after its deadline");
          }
        }
        await waitForAny(running.inFlight, dueMs >= 0 ? Math.min(dueMs - now, budget.remainingMs()) : budget.remainingMs());
      }
    } finally {
      promise.dispose();
    }
  }

  private neverSettles(message: string): Pick<RunOutcome, "status" | "resultJson" | "error"> {
    this.reusable = false;
    return { status: "timeout", resultJson: undefined, error: sandboxError("TimeoutError", message) };
  }

  /** Runs synchronous interpreter work, counting it as CPU time. */
  private inInterpreter<T>(budget: ExecutionBudget, work: () => T): T {
    budget.enter();
    try {
      return work();
    } finally {
      budget.leave();
    }
  }

  private fulfilled(running: Running, value: QuickJSHandle): Pick<RunOutcome, "status" | "resultJson" | "error"> {
    const { limits, budget } = running.request;
    if (budget.exhausted) return this.exhausted(running);
    // The memory limit refused an allocation: even if the script carried on, QuickJS may have
    // dropped work on the way (a promise reaction it could not queue), so the result cannot
    // be trusted. As in Workers, running out of memory ends the execution.
    if (this.growthRefused()) return outOfMemory(this);
    const length = this.context.getProp(value, "length").consume((h) => this.context.getNumber(h));
    // Characters are at most 3 UTF-8 bytes each; count exactly only when it could matter.
    if (length > limits.outputBytes) return outputTooLarge(limits.outputBytes);
    const text = this.context.getString(value);
    if (length * 3 > limits.outputBytes && new TextEncoder().encode(text).byteLength > limits.outputBytes) {
      return outputTooLarge(limits.outputBytes);
    }
    return { status: "completed", resultJson: text === "" ? undefined : text, error: null };
  }

  private failure(running: Running, thrown: QuickJSHandle): Pick<RunOutcome, "status" | "resultJson" | "error"> {
    const { budget } = running.request;
    try {
      if (budget.exhausted) return this.exhausted(running);
      // Out of memory even for the error object, QuickJS throws null: a null thrown after the
      // engine refused to grow is taken for that.
      if (this.context.sameValue(thrown, this.context.null) && this.growthRefused()) return outOfMemory(this);
      const error = this.describe(budget, thrown);
      if (budget.exhausted) return this.exhausted(running);
      const limitError = engineLimitError(error);
      if (limitError) {
        this.reusable = false;
        return { status: "failed", resultJson: undefined, error: limitError };
      }
      return { status: "failed", resultJson: undefined, error };
    } finally {
      thrown.dispose();
    }
  }

  private exhausted(running: Running): Pick<RunOutcome, "status" | "resultJson" | "error"> {
    this.reusable = false;
    const { budget } = running.request;
    const limit = budget.exhausted === "CpuLimitError" ? `${budget.limits.cpuMs} ms of CPU time` : `${budget.limits.timeoutMs} ms time limit`;
    const message = budget.refusedOperation
      ? `the script started an operation too large to finish within its ${limit}`
      : budget.exhausted === "CpuLimitError"
        ? `the script used more than its ${limit}`
        : `the script ran longer than its ${limit}`;
    return { status: "timeout", resultJson: undefined, error: sandboxError(budget.exhausted ?? "TimeoutError", message) };
  }

  /** `{name, message, stack}` of a thrown value, read inside the guest under the same budget. */
  private describe(budget: ExecutionBudget, thrown: QuickJSHandle): ExecutionError {
    const unreadable = { name: "NonErrorThrown", message: "the script threw a value that could not be read", stack: "" };
    let described;
    try {
      described = this.inInterpreter(budget, () => this.context.callFunction(this.guestDescribe, this.context.undefined, thrown));
    } catch (error) {
      // Reading it recursed until the host's stack ran out before QuickJS's own check (the
      // host's stack is smaller in workerd than in Node): the same unreadable value. The
      // interrupted engine is not trusted again.
      if (!isHostStackOverflow(error)) throw error;
      this.reusable = false;
      this.engine.crashed = true;
      return unreadable;
    }
    if (described.error) {
      described.error.dispose();
      return unreadable;
    }
    const parsed = JSON.parse(described.value.consume((h) => this.context.getString(h))) as ExecutionError;
    return {
      name: parsed.name.slice(0, 200),
      message: parsed.message.slice(0, MAX_ERROR_TEXT),
      stack: mapStack(mapLinkedStack(parsed.stack.slice(0, MAX_ERROR_TEXT), this.linePrefixes)),
    };
  }

  /**
   * The heap when the execution ended, 0 when it cannot be measured safely: after the memory
   * limit refused an allocation, QuickJS can be left with half-built structures that crash
   * whoever walks them (seen: a Map growing under the limit), so such a runtime is not
   * touched again; it is abandoned, not reused.
   */
  private heapAfterRun(): number {
    if (!this.usable() || this.growthRefused()) return 0;
    try {
      return this.measureHeap();
    } catch (error) {
      this.reusable = false;
      this.engine.crashed = true;
      console.error("measuring a realm's heap failed; its engine is dropped", error);
      return 0;
    }
  }

  /**
   * Ends an execution: decides reuse, and drops any promise the guest still waits on. A call
   * still in flight (an SDK call or `fetch` the script did not await) does not cost the realm:
   * its promise's resolvers are freed here and its late answer is dropped (`reply` checks the
   * execution), so nothing of it ever runs in the next execution. Discarding the realm for it
   * made every such run a cold build, thread time the tenant was not charged for.
   */
  private finish(running: Running) {
    this.current = null;
    running.channel.close();
    for (const deferred of running.deferreds) deferred.dispose();
    running.deferreds.clear();
    if (this.usable()) {
      this.runtime.removeInterruptHandler();
      // An execution that hit the memory limit may have left QuickJS's state half-built.
      if (this.growthRefused()) this.reusable = false;
      else if (this.runtime.hasPendingJob()) this.reusable = false;
    } else {
      this.reusable = false;
    }
  }

  /** Whether the realm can still be called into (alive, and its engine has not crashed). */
  private usable(): boolean {
    return this.alive && !this.engine.crashed;
  }

  /** Whether the engine refused to grow during the current execution (the memory limit). */
  private growthRefused(): boolean {
    return this.engine.refusedGrowths > this.refusedGrowthsAtStart;
  }

  /** QuickJS's own account of its heap: bytes in use and live objects. */
  heapStats(): { memoryUsedBytes: number; objects: number } {
    return heapOf(this.runtime, this.context);
  }

  /** The heap now; walked only when the allocation count says it may have changed (heap-gauge.ts). */
  private measureHeap(): number {
    return this.gauge.heapBytes();
  }

  // ---- host functions the guest calls ----

  private hostCall(nameHandle: QuickJSHandle, jsonHandle: QuickJSHandle): QuickJSHandle | undefined {
    const running = this.current;
    if (!running) return undefined;
    const { context } = this;
    const deferred = context.newPromise();
    const reply = (body: unknown) => {
      running.deferreds.delete(deferred);
      if (!this.usable() || this.current !== running) return deferred.dispose();
      newGuestString(context, JSON.stringify(body)).consume((text) => deferred.resolve(text));
    };
    const fail = (name: string, message: string) => ({ error: { name, message } });

    const name = context.getString(nameHandle);
    const length = context.getProp(jsonHandle, "length").consume((h) => context.getNumber(h));
    running.sdkCalls += 1;
    running.deferreds.add(deferred);
    let immediate: unknown = null;
    if (running.sdkCalls > running.request.limits.sdkCallsPerExecution) {
      immediate = fail("QuotaExceededError", `more than ${running.request.limits.sdkCallsPerExecution} SDK calls in one execution`);
    } else if (length > MAX_SDK_ARGUMENT_CHARS) {
      immediate = fail("QuotaExceededError", `SDK call arguments larger than ${MAX_SDK_ARGUMENT_CHARS} characters`);
    } else if (!running.request.host.functions[name]) {
      immediate = fail("NotImplementedError", `${name} is not available here`);
    }
    if (immediate) {
      reply(immediate);
    } else {
      const args = JSON.parse(context.getString(jsonHandle)) as unknown[];
      const work = (async () => {
        try {
          const info = { remainingMs: running.request.budget.remainingMs(), bytes: running.channel };
          const value = await running.request.host.functions[name]!(args, info);
          reply({ ok: value === undefined ? null : value });
        } catch (error) {
          const e = error as { name?: unknown; message?: unknown };
          reply(fail(typeof e?.name === "string" ? e.name : "Error", typeof e?.message === "string" ? e.message : String(error)));
        }
      })();
      running.inFlight.add(work);
      void work.finally(() => running.inFlight.delete(work));
    }
    return deferred.handle;
  }

  /**
   * A fetch handler's Response (bootstrap.ts, `respond`): its status, headers and text as
   * JSON, its bytes as an ArrayBuffer (copied out). Handed to the platform at once, once.
   */
  private hostRespond(metaHandle: QuickJSHandle, bytesHandle: QuickJSHandle | undefined): QuickJSHandle | undefined {
    const running = this.current;
    if (!running || running.respondedAt !== null) return undefined;
    const { context } = this;
    const meta = JSON.parse(context.getString(metaHandle)) as { status: number; statusText: string; headers: Array<[string, string]>; text: string | null };
    let body: string | Uint8Array | null = meta.text;
    if (bytesHandle !== undefined && context.typeof(bytesHandle) === "object") {
      const view = context.getArrayBuffer(bytesHandle);
      body = view.value.slice();
      view.dispose();
    }
    running.respondedAt = performance.now();
    const sandboxMs = Math.round((running.respondedAt - running.request.budget.startedAt) * 1000) / 1000;
    running.request.call?.onResponse?.({ status: meta.status, statusText: meta.statusText, headers: meta.headers, body }, sandboxMs);
    return undefined;
  }

  /** A secret's value for `env` (not an SDK call), or undefined. */
  private hostEnv(nameHandle: QuickJSHandle): QuickJSHandle | undefined {
    const running = this.current;
    if (!running) return undefined;
    const value = running.request.call?.env?.read(this.context.getString(nameHandle));
    return value === undefined ? undefined : newGuestString(this.context, value);
  }

  /** Appends a log entry; answers whether the guest should keep sending them. */
  private hostLog(levelHandle: QuickJSHandle, textHandle: QuickJSHandle): QuickJSHandle {
    const running = this.current;
    if (!running || running.logsTruncated) return this.context.false;
    const { context } = this;
    const level = context.getString(levelHandle) as LogLevel;
    const length = context.getProp(textHandle, "length").consume((h) => context.getNumber(h));
    // The guest cuts long entries itself; a longer one is refused without being copied out.
    const message = length > MAX_LOG_ENTRY_CHARS ? "[log entry over the size limit dropped]" : context.getString(textHandle);
    appendLog(running, { level, message, at: new Date().toISOString() });
    return running.logsTruncated ? this.context.false : this.context.true;
  }

  private hostCharge(nsHandle: QuickJSHandle): QuickJSHandle {
    const running = this.current;
    const ns = this.context.getNumber(nsHandle);
    const allowed = running !== null && Number.isFinite(ns) && running.request.budget.charge(ns);
    return allowed ? this.context.true : this.context.false;
  }

  /**
   * A synchronous host-backed computation (web/*.ts): JSON arguments in, `{ok}` or
   * `{error}` out as JSON text. Not an SDK call; its cost is charged to the budget.
   *
   * Large text does not go through JSON, which QuickJS reads and writes at ~10-25 ns a
   * character: the guest may pass a text argument as a plain string (`text`, appended to the
   * arguments here), and a function may answer `RawText`, sent back as the string itself
   * behind a `~` (JSON replies start with `{`). Plain strings cross as NUL-terminated UTF-8,
   * so only well-formed strings without NUL go that way; the others take JSON.
   */
  private hostSync(nameHandle: QuickJSHandle, jsonHandle: QuickJSHandle, textHandle: QuickJSHandle | undefined): QuickJSHandle | undefined {
    const running = this.current;
    if (!running) return undefined;
    const { context } = this;
    let reply: string;
    try {
      const name = context.getString(nameHandle);
      const fn = Object.hasOwn(WEB_SYNC_FUNCTIONS, name) ? WEB_SYNC_FUNCTIONS[name] : undefined;
      if (!fn) throw new TypeError("no such host function");
      const args = this.webArguments(jsonHandle);
      if (textHandle !== undefined && context.typeof(textHandle) === "string") args.push(this.plainText(textHandle));
      const value = fn(args, running.web);
      reply = value instanceof RawText && !value.text.includes("\0") ? `~${value.text}` : JSON.stringify({ ok: value instanceof RawText ? value.text : (value ?? null) });
    } catch (error) {
      reply = JSON.stringify({ error: errorRecord(error) });
    }
    return newGuestString(context, reply);
  }

  /** A plain string argument, within the same size cap as JSON arguments; its UTF-8 bytes read as QuickJS has them. */
  private plainText(textHandle: QuickJSHandle): PlainText {
    const { context } = this;
    const length = context.getProp(textHandle, "length").consume((h) => context.getNumber(h));
    if (length > MAX_WEB_ARGUMENT_CHARS) throw new RangeError(`text larger than ${MAX_WEB_ARGUMENT_CHARS} characters for a host-backed operation`);
    return new PlainText(guestUtf8(context, textHandle), () => context.getString(textHandle));
  }

  /** An asynchronous host-backed computation: like an SDK call, but not counted as one (API.md §9). */
  private hostCompute(nameHandle: QuickJSHandle, jsonHandle: QuickJSHandle): QuickJSHandle | undefined {
    const running = this.current;
    if (!running) return undefined;
    const { context } = this;
    const deferred = context.newPromise();
    running.deferreds.add(deferred);
    const reply = (body: unknown) => {
      running.deferreds.delete(deferred);
      if (!this.usable() || this.current !== running) return deferred.dispose();
      newGuestString(context, JSON.stringify(body)).consume((text) => deferred.resolve(text));
    };
    let started: Promise<unknown>;
    try {
      const name = context.getString(nameHandle);
      const fn = Object.hasOwn(WEB_ASYNC_FUNCTIONS, name) ? WEB_ASYNC_FUNCTIONS[name] : undefined;
      if (!fn) throw new TypeError("no such host function");
      if (running.pendingOperations >= MAX_PENDING_OPERATIONS) {
        throw Object.assign(new Error(`more than ${MAX_PENDING_OPERATIONS} host operations (crypto, form parsing) pending at once`), { name: "QuotaExceededError" });
      }
      // Arguments are read (and bytes taken) now, while the call is made.
      started = fn(this.webArguments(jsonHandle), running.web);
    } catch (error) {
      reply({ error: errorRecord(error) });
      return deferred.handle;
    }
    running.pendingOperations += 1;
    const work = started.then(
      (value) => reply({ ok: value === undefined ? null : value }),
      (error: unknown) => reply({ error: errorRecord(error) }),
    ).finally(() => {
      running.pendingOperations -= 1;
    });
    running.inFlight.add(work);
    void work.finally(() => running.inFlight.delete(work));
    return deferred.handle;
  }

  /** The JSON argument list of a host-backed computation, refused past its size cap. */
  private webArguments(jsonHandle: QuickJSHandle): unknown[] {
    const { context } = this;
    if (context.typeof(jsonHandle) !== "string") throw new TypeError("arguments must be JSON text");
    const length = context.getProp(jsonHandle, "length").consume((h) => context.getNumber(h));
    if (length > MAX_WEB_ARGUMENT_CHARS) throw new RangeError(`arguments larger than ${MAX_WEB_ARGUMENT_CHARS} characters for a host-backed operation`);
    const args = JSON.parse(context.getString(jsonHandle)) as unknown;
    if (!Array.isArray(args)) throw new TypeError("arguments must be a list");
    return args;
  }

  /** Copies a guest ArrayBuffer out into this execution's channel; answers its id, or an error record as JSON text. */
  private hostPut(bufferHandle: QuickJSHandle): QuickJSHandle | undefined {
    const running = this.current;
    if (!running) return undefined;
    const { context } = this;
    try {
      // The core group (web/core.ts) passes only ArrayBuffers it checked, never larger than the cap.
      const view = context.getArrayBuffer(bufferHandle);
      const copy = view.value.slice();
      view.dispose();
      return context.newNumber(running.channel.put(copy));
    } catch (error) {
      return context.newString(JSON.stringify(errorRecord(error)));
    }
  }

  /** The bytes under an id as a new guest ArrayBuffer (removed from the channel); undefined when there are none. */
  private hostTake(idHandle: QuickJSHandle): QuickJSHandle | undefined {
    const running = this.current;
    if (!running) return undefined;
    const { context } = this;
    if (context.typeof(idHandle) !== "number") return undefined;
    let bytes: Uint8Array;
    try {
      bytes = running.channel.take(context.getNumber(idHandle));
    } catch {
      return undefined;
    }
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    return context.newArrayBuffer(whole ? (bytes.buffer as ArrayBuffer) : bytes.slice().buffer);
  }

  /**
   * Compiles a web group's source (web/index.ts), answering the function it evaluates to.
   * Compiling runs no code: the guest calls the function itself. Only the platform's own
   * sources, by name; during an execution only (under its limits).
   */
  private hostLoad(nameHandle: QuickJSHandle) {
    if (!this.current) return undefined;
    return compileGroup(this.context, nameHandle);
  }

  /**
   * Frees the realm's runtime inside its engine, giving its heap back to the engine. Only a
   * clean realm (reusable, engine healthy) is freed: QuickJS aborts freeing a runtime that
   * still references an object, and an abort would take the whole engine down. An unclean
   * realm is abandoned instead: its heap stays in the engine until the engine is dropped.
   * Answers whether it was freed.
   */
  dispose(): boolean {
    if (!this.alive) return false;
    this.alive = false;
    if (!this.reusable || this.engine.crashed) return false;
    try {
      for (const handle of this.owned) if (handle.alive) handle.dispose();
      this.context.dispose();
      this.runtime.dispose();
      return true;
    } catch (error) {
      // QuickJS aborted: the engine's state is gone; the pool drops the engine.
      this.engine.crashed = true;
      console.error("freeing a realm failed; its engine is dropped", error);
      return false;
    }
  }
}

/** `callJson` for the guest's run (bootstrap.ts): the request (its body put in the channel), env's names, basePath. */
function handlerCallJson(running: Running): string {
  const call = running.request.call;
  const request = call?.request;
  return JSON.stringify({
    request: request ? { url: request.url, method: request.method, headers: request.headers, body: request.body === null ? null : { $b: running.channel.put(request.body) } } : null,
    env: call?.env?.names ?? [],
    basePath: call?.basePath ?? "",
  });
}

/** Appends a log entry within the execution's `logBytes`, ending with one "logs truncated" warning. */
function appendLog(running: Running, entry: LogEntry) {
  const size = new TextEncoder().encode(entry.message).byteLength;
  const cap = running.request.limits.logBytes;
  if (running.logBytes + size > cap) {
    running.logsTruncated = true;
    running.logs.push({ level: "warn", message: "logs truncated", at: entry.at });
    return;
  }
  running.logBytes += size;
  running.logs.push(entry);
}

function outOfMemory(realm: Realm): Pick<RunOutcome, "status" | "resultJson" | "error"> {
  realm.reusable = false;
  return { status: "failed", resultJson: undefined, error: sandboxError("OutOfMemoryError", "the script ran out of memory") };
}

function outputTooLarge(outputBytes: number): Pick<RunOutcome, "status" | "resultJson" | "error"> {
  return {
    status: "failed",
    resultJson: undefined,
    error: sandboxError("OutputTooLargeError", `the result is larger than the ${outputBytes}-byte output limit`),
  };
}

/** Waits until one of the SDK calls finishes, or `ms` pass. */
async function waitForAny(inFlight: Set<Promise<void>>, ms: number) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(1, Math.ceil(ms)));
  });
  try {
    await Promise.race([...inFlight, timeout]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

export function quickjsDiagnostic(error: { message?: string; stack?: string }): Diagnostic {
  const at = /script\.js:(\d+):(\d+)/.exec(error.stack ?? "");
  const line = at ? Number(at[1]) : 1;
  const rawColumn = at ? Number(at[2]) : 1;
  const column = line === 1 ? Math.max(1, rawColumn - SOURCE_PREFIX.length) : rawColumn;
  return { line, column, message: `SyntaxError: ${error.message ?? "the script does not compile"}` };
}

/** QuickJS's own limit errors, under the names of API.md §8; null for an ordinary error. */
function engineLimitError(error: ExecutionError): ExecutionError | null {
  if (error.message === "out of memory") return { ...error, name: "OutOfMemoryError", message: "the script ran out of memory" };
  if (error.message === "string too long") {
    return { ...error, name: "OutOfMemoryError", message: "the script built a string longer than the engine allows" };
  }
  if (error.message === "stack overflow") return { ...error, name: "StackOverflowError", message: "maximum call stack size exceeded" };
  return null;
}

/** An exception thrown by QuickJS's WebAssembly itself, as an outcome. */
function hostFailure(error: unknown): Pick<RunOutcome, "status" | "resultJson" | "error"> {
  // Deep native recursion (JSON of deeply nested values) can exhaust the host's stack
  // before QuickJS's own check: the same limit, reached from the other side.
  if (isHostStackOverflow(error)) {
    return { status: "failed", resultJson: undefined, error: sandboxError("StackOverflowError", "maximum call stack size exceeded") };
  }
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { status: "failed", resultJson: undefined, error: sandboxError("SandboxError", `the sandbox failed: ${text}`) };
}

/**
 * Four unsigned 32-bit integers from the host's CSPRNG: the seed of one execution's
 * `Math.random`. Read in blocks of 256 seeds (a call to the CSPRNG cost ~20 µs in Node, a
 * seventh of a warm execution); no word is handed out twice, and the block never reaches a guest.
 */
const SEED_WORDS = 4;
let seedBlock = new Uint32Array(0);
let seedAt = 0;

function randomSeed(): string {
  if (seedAt + SEED_WORDS > seedBlock.length) {
    seedBlock = crypto.getRandomValues(new Uint32Array(256 * SEED_WORDS));
    seedAt = 0;
  }
  const seed = seedBlock.subarray(seedAt, seedAt + SEED_WORDS).join(",");
  seedAt += SEED_WORDS;
  return seed;
}

function bootstrapFailure(error: { message?: string }): Error {
  return new Error(`the sandbox bootstrap failed: ${error.message ?? "unknown error"}`);
}

/**
 * The value of a call made while building a realm. A failure becomes a thrown error: the
 * setup limits' `SetupLimitError` when they ran out, else what `failure` makes of it.
 */
function unwrapSetup<T>(
  context: QuickJSContext,
  setup: ExecutionBudget,
  result: { value: T; error?: undefined } | { error: QuickJSHandle },
  failure: (error: { message?: string; stack?: string }) => Error,
): T {
  if (!result.error) return result.value;
  const described = result.error.consume((error) => context.dump(error) as { message?: string; stack?: string });
  if (setup.exhausted) throw new SetupLimitError(`building the sandbox took longer than ${SETUP_LIMITS.cpuMs} ms`);
  throw failure(described);
}

/**
 * Evaluates the factory module (compile.ts) and answers its default export. A module's
 * evaluation may answer a promise of its namespace; the jobs that settle it run under the
 * setup limits too.
 */
function loadFactory(context: QuickJSContext, runtime: QuickJSRuntime, setup: ExecutionBudget, script: CompiledScript): QuickJSHandle {
  const compileFailure = (error: { message?: string; stack?: string }) => new SandboxCompileError([quickjsDiagnostic(error)]);
  return Scope.withScope((scope) => {
    const evaluated = scope.manage(unwrapSetup(context, setup, context.evalCode(script.factorySource, SCRIPT_FILE, { type: "module" }), compileFailure));
    let namespace = evaluated;
    const state = context.getPromiseState(evaluated);
    if (state.type === "fulfilled" && state.notAPromise) {
      // The namespace itself.
    } else {
      if (state.type === "fulfilled") state.value.dispose();
      if (state.type === "rejected") state.error.dispose();
      unwrapSetup(context, setup, runtime.executePendingJobs(), compileFailure);
      const settled = context.getPromiseState(evaluated);
      if (settled.type === "pending") throw new SandboxCompileError([{ line: 1, column: 1, message: "the script's module did not finish loading" }]);
      namespace = scope.manage(unwrapSetup(context, setup, settled.type === "fulfilled" ? { value: settled.value } : { error: settled.error }, compileFailure));
    }
    const factory = context.getProp(namespace, "default");
    if (context.typeof(factory) !== "function") {
      factory.dispose();
      throw new SandboxCompileError([{ line: 1, column: 1, message: "the script's module has no factory" }]);
    }
    return factory;
  });
}

/**
 * Deep-freezes the packages the script imports (linking.ts), once, before any execution:
 * nothing an execution does to a package's objects can be seen by the next.
 */
function freezePackages(context: QuickJSContext, runtime: QuickJSRuntime, setup: ExecutionBudget, packages: string[]) {
  const failure = (error: { message?: string }) => new SandboxCompileError([{ line: 1, column: 1, message: `a package could not be loaded: ${error.message ?? "unknown error"}` }]);
  Scope.withScope((scope) => {
    const evaluated = scope.manage(unwrapSetup(context, setup, evaluateFreeze(context, packages), failure));
    const state = context.getPromiseState(evaluated);
    if (state.type === "fulfilled" && state.notAPromise) return;
    if (state.type === "fulfilled") state.value.dispose();
    if (state.type === "rejected") state.error.dispose();
    unwrapSetup(context, setup, runtime.executePendingJobs(), failure);
    const settled = context.getPromiseState(evaluated);
    if (settled.type === "pending") throw failure({ message: "freezing did not finish" });
    scope.manage(unwrapSetup(context, setup, settled.type === "fulfilled" ? { value: settled.value } : { error: settled.error }, failure));
  });
}

/**
 * A runtime whose realm could not be built. Its handles were freed by their scope; the
 * runtime itself is not freed: after QuickJS refused a module it keeps a few objects
 * referenced, and freeing it would abort, taking the engine down. Its heap is left to the
 * engine as abandoned (the pool drops an engine that holds too much of it).
 */
function abandonFailedRuntime(engine: Engine, runtime: QuickJSRuntime, context: QuickJSContext | undefined) {
  if (!runtime.alive || engine.crashed) return;
  runtime.removeInterruptHandler();
  engine.abandonedBytes += context?.alive ? heapOf(runtime, context).memoryUsedBytes : ABANDONED_RUNTIME_ESTIMATE_BYTES;
}

/** What a runtime with no context yet holds, about (it was measured at ~90 KiB). */
const ABANDONED_RUNTIME_ESTIMATE_BYTES = 128 * 1024;

/** QuickJS's own account of a runtime's heap: bytes in use and live objects (it walks them all), and its allocation count and limit. */
function heapOf(runtime: QuickJSRuntime, context: QuickJSContext): HeapMeasure & { objects: number } {
  return runtime.computeMemoryUsage().consume((usage) => {
    const stats = context.dump(usage) as { memory_used_size: number; obj_count: number; malloc_count: number; malloc_limit: number };
    return { memoryUsedBytes: stats.memory_used_size, objects: stats.obj_count, mallocCount: stats.malloc_count, mallocLimit: stats.malloc_limit };
  });
}

function isHostStackOverflow(error: unknown): boolean {
  return error instanceof RangeError && /call stack/i.test(error.message);
}
