/**
 * The executor: one execution of a tenant's script, from admission to the record, the same
 * wherever it runs (in the tenant's cell today; in the Worker for scripts placed at the
 * edge, API.md §14). What differs between placements is lent to it as ports: how admission
 * is decided, where records go, the host services behind `iota.*`, and who is told when an
 * execution ends (metrics). The executor itself decides nothing about storage or retries.
 *
 *   admit ─► record started ─► host API ─► sandbox (the isolate's pool) ─► redact ─► record finished
 *     └─ refused: nothing recorded, onRefused (metrics)                         └─ onFinished (tails)
 *
 * Every execution is one span of a W3C trace (API.md §15): the caller's (an incoming
 * `traceparent`, the event that caused it) or a new one; its outgoing requests and the
 * events it publishes carry the trace on, naming this execution as their parent.
 */
import { effectiveLimits, type Limits, tenantLimits } from "../domain/limits";
import type { TenantRow } from "../db/schema";
import { newId } from "../lib/ids";
import { sandboxError } from "../sandbox/errors";
import type { LogEntry } from "../sandbox/host";
import type { HandlerCall, HandlerEnv, HandlerRequest, ScriptResponse } from "../sandbox/realm";
import type { ExecutionResult, Sandbox } from "../sandbox/sandbox";
import { newSpanId, startTrace, type TraceContext, traceparentOf } from "../observability/trace";
import { executionHost, type HostServices, type PublishedEvent, redactSecrets } from "../host/host-api";
import type { RunnableScript } from "../tenant/catalogue";
import type { ExecutionRecord, TriggerKind } from "../tenant/records";

/** Why admission refused an execution, and when to try again. */
export interface Refusal {
  refused: { reason: "rate" | "concurrency" | "memory"; retryAfterSeconds: number };
}

export type Admitted = { admitted: true; release: () => void } | ({ admitted: false } & Refusal["refused"]);

/** One execution to run. */
export interface ExecutionRequest {
  runnable: RunnableScript;
  trigger: TriggerKind;
  /** What the script receives as its event. */
  event: unknown;
  /** What the record keeps as its input (the event with secrets and bodies as the trigger decides). */
  recordedInput: unknown;
  /** 1-based; events count their own. */
  attempt?: number;
  /** Runs an execution recorded earlier as pending (an async manual run). */
  pendingId?: string;
  /** Depth of the triggering event (events published by the script go one deeper). */
  eventDepth?: number;
  /** The trace this execution joins (the caller's); without one it starts a trace. */
  trace?: TraceContext | null;
  /**
   * Called by the records port in the same transaction that records the end (an event
   * delivery records its outcome there, so the two can never disagree).
   */
  recorded?: (end: { executionId: string; status: ExecutionOutcome["status"]; error: ExecutionOutcome["error"] }, now: number) => void;
  /** An http execution's request as a fetch handler receives it (API.md §13). */
  request?: HandlerRequest;
  /** `ctx.basePath` of a handler object: `/t/<slug>`, or "" on the tenant's host. */
  basePath?: string;
  /**
   * Told as soon as a fetch handler's Response is ready, while the execution may go on
   * (`waitUntil` work): the response can leave before the record ends.
   */
  onResponse?: (response: ScriptResponse, at: { executionId: string; sandboxMs: number }) => void;
}

/** How an execution ended, as recorded (secrets redacted). */
export interface ExecutionOutcome {
  status: "completed" | "failed" | "timeout";
  resultJson: string | undefined;
  error: { name: string; message: string; stack: string } | null;
  logs: LogEntry[];
  cpuMs: number;
  memoryBytes: number;
  sdkCalls: number;
  finishedAt: number;
  durationMs: number;
  /** Events the script published; sent only when it completed. */
  published: PublishedEvent[];
  /** The modules it ran with (API.md §13). */
  modules: Array<{ name: string; version: number }>;
  /** Milliseconds from the start until a fetch handler's response left; null when the response waited for the end (or there was none). */
  responseMs: number | null;
}

/** Where an execution's record lives (the cell's SQLite, or a batch on its way to it). */
export interface ExecutionRecords {
  started(row: { id: string; scriptId: string; version: number; trigger: TriggerKind; attempt: number; input: unknown; startedAt: number; traceId: string }, pending: boolean): void;
  /** Records the end; answers the record as it is now. */
  finished(id: string, request: ExecutionRequest, outcome: ExecutionOutcome): Promise<ExecutionRecord>;
}

/** What a placement lends the executor. */
export interface ExecutorPorts {
  sandbox: Sandbox;
  /** The limits as this placement runs them (the edge caps cpuMs at its slice). */
  limits?(limits: Limits): Limits;
  admit(tenant: TenantRow, limits: Limits): Promise<Admitted>;
  /** The host services behind `iota.*` for this tenant. */
  services(tenant: TenantRow, limits: Limits): HostServices;
  records: ExecutionRecords;
  /** Waits for this tenant's turn on the thread; answers the function that ends it with the CPU it used. */
  turn?(): Promise<(cpuMs: number) => void>;
  /** Told of every execution that ran (tails). */
  onFinished?(record: ExecutionRecord, outcome: ExecutionOutcome): void;
  /** Told of every execution admission refused, which records nothing (metrics count it). */
  onRefused?(scriptId: string, at: number): void;
}

/** A run as the caller needs it: the record, the result as the script produced it (not cut for storage), and the sandbox's time. */
export type Run = { execution: ExecutionRecord; resultJson: string | undefined; sandboxMs: number };

export class Executor {
  constructor(private readonly ports: ExecutorPorts) {}

  /** Admits, records `running`, runs in the sandbox, records the outcome. A refused execution records nothing. */
  async execute(tenant: TenantRow, request: ExecutionRequest): Promise<Run | Refusal> {
    const { runnable } = request;
    const effective = effectiveLimits(tenantLimits(tenant.limits), runnable.version.limits);
    const limits = this.ports.limits?.(effective) ?? effective;
    const admission = await this.ports.admit(tenant, limits);
    if (!admission.admitted) {
      this.ports.onRefused?.(runnable.script.id, Date.now());
      return { refused: { reason: admission.reason, retryAfterSeconds: admission.retryAfterSeconds } };
    }
    try {
      return await this.run(tenant, limits, request);
    } finally {
      admission.release();
    }
  }

  private async run(tenant: TenantRow, limits: Limits, request: ExecutionRequest): Promise<Run> {
    const { runnable } = request;
    const { script, version } = runnable;
    const startedAt = Date.now();
    const id = request.pendingId ?? newId("exe", startedAt);
    const attempt = request.attempt ?? 1;
    const trace = request.trace ?? startTrace();
    const traceparent = traceparentOf(trace, newSpanId());
    this.ports.records.started({ id, scriptId: script.id, version: version.version, trigger: request.trigger, attempt, input: request.recordedInput, startedAt, traceId: trace.traceId }, request.pendingId !== undefined);

    const host = executionHost({ limits, allowedHosts: tenant.allowedHosts ?? null, eventDepth: request.eventDepth ?? null }, traced(this.ports.services(tenant, limits), traceparent));
    const ctx = { executionId: id, scriptId: script.id, version: version.version, tenant: tenant.slug, trigger: request.trigger, attempt };
    const endTurn = this.ports.turn ? await this.ports.turn() : undefined;
    let result: ExecutionResult | null = null;
    let heldResponse: (() => void) | null = null;
    /** When an early response left (the executor's clock, as durationMs's). */
    let respondedAt: number | null = null;
    try {
      if (runnable.compiled.ok) {
        const compiled = runnable.compiled.script;
        // Only a handler object gets env and the web Request (a function's shape is known at
        // compile); a function may still answer an http request with a Response.
        const respond = request.onResponse;
        const timed: ExecutionRequest["onResponse"] = respond && ((response, at) => {
          respondedAt = Date.now();
          respond(response, at);
        });
        const onResponse = timed && heldWhilePublishing(timed, host.outbox, (send) => (heldResponse = send));
        const call = compiled.shape?.form === "function" ? functionCall(request, onResponse, id) : await this.handlerCall(tenant, limits, { ...request, onResponse }, id, host.secretValues);
        result = await this.ports.sandbox.execute({ tenant: tenant.id, scriptKey: runnable.key, script: compiled, event: request.event, ctx, limits, host: host.api, call });
      }
    } finally {
      // The thread time the tenant took: its CPU, and building its realm when it was cold (after a timeout, every time).
      endTurn?.((result?.cpuMs ?? 0) + (result?.setupMs ?? 0));
    }
    const finishedAt = Date.now();
    const published = host.outbox.map((event) => ({ ...event, traceparent }));
    const outcome: ExecutionOutcome = { ...recordedOutcome(runnable, result, host.secretValues, finishedAt, finishedAt - startedAt, published), modules: runnable.modules };
    // A response held for published events leaves at the end: it did not leave early.
    outcome.responseMs = heldResponse || respondedAt === null ? null : (respondedAt as number) - startedAt;
    const execution = await this.ports.records.finished(id, request, outcome);
    // Its events went only if it completed; otherwise the platform's error answers instead.
    if (outcome.status === "completed") (heldResponse as (() => void) | null)?.();
    this.ports.onFinished?.(execution, outcome);
    return { execution, resultJson: result?.resultJson, sandboxMs: result?.durationMs ?? 0 };
  }

  /** What a handler object receives beyond its event: the request, env (the tenant's secrets), basePath, and the early response. */
  private async handlerCall(tenant: TenantRow, limits: Limits, request: ExecutionRequest, executionId: string, secretValues: Set<string>): Promise<HandlerCall> {
    const onResponse = request.onResponse;
    return {
      request: request.request,
      env: await secretEnv(this.ports.services(tenant, limits), secretValues),
      basePath: request.basePath ?? "",
      // The time in the sandbox, as the function form's Server-Timing gives it (not the wait for admission or a turn).
      onResponse: onResponse && ((response, sandboxMs) => onResponse(response, { executionId, sandboxMs })),
    };
  }
}

/** What a function-form script gets beyond its event: only the Response path of an http request (no env, no web Request). */
function functionCall(request: ExecutionRequest, onResponse: ExecutionRequest["onResponse"], executionId: string): HandlerCall | undefined {
  if (!onResponse) return undefined;
  return { request: undefined, env: { names: [], read: () => undefined }, basePath: request.basePath ?? "", onResponse: (response, sandboxMs) => onResponse(response, { executionId, sandboxMs }) };
}

/**
 * A fetch handler's Response leaves as soon as it is ready, unless the execution published
 * events by then: those are handed over (recorded in the cell) when it ends, and a 2xx must
 * never hide a lost event (API.md §14), so that response is held (`hold`) until the record,
 * and sent only if the execution completed (else the caller answers the platform's error).
 */
function heldWhilePublishing(onResponse: NonNullable<ExecutionRequest["onResponse"]>, outbox: readonly unknown[], hold: (send: () => void) => void): ExecutionRequest["onResponse"] {
  return (response, at) => {
    if (outbox.length > 0) hold(() => onResponse(response, at));
    else onResponse(response, at);
  };
}

/**
 * The tenant's secrets as a handler's `env` (API.md §13). Reading `env.NAME` is synchronous,
 * as in Workers, so the values are ready before the handler runs: each is decrypted on its
 * first use in this isolate or cell and cached until it changes (secret-cache.ts). Not an SDK
 * call. A value enters the execution only when the script reads it, and from then on is
 * redacted from what is recorded, as `iota.secrets.get` values are.
 */
async function secretEnv(services: HostServices, secretValues: Set<string>): Promise<HandlerEnv> {
  const names = await services.secretNames();
  const values = new Map<string, string>();
  await Promise.all(
    names.map(async (name) => {
      const value = await services.secret(name);
      if (value !== null) values.set(name, value);
    }),
  );
  return {
    names: [...values.keys()],
    read: (name) => {
      const value = values.get(name);
      if (value !== undefined) secretValues.add(value);
      return value;
    },
  };
}

/**
 * The host services with this execution's `traceparent` on every outgoing request (`iota.http`
 * and `fetch` both go through `services.fetch`), unless the script set one itself.
 */
function traced(services: HostServices, traceparent: string): HostServices {
  const fetch = services.fetch;
  return {
    ...services,
    fetch: (input, init) => {
      const headers = new Headers(init?.headers);
      if (!headers.has("traceparent")) headers.set("traceparent", traceparent);
      return fetch(input, { ...init, headers });
    },
  };
}

/** The sandbox's result as it is recorded: every secret the script read redacted from what it produced. */
function recordedOutcome(
  runnable: RunnableScript,
  result: ExecutionResult | null,
  secrets: Set<string>,
  finishedAt: number,
  durationMs: number,
  published: PublishedEvent[],
): Omit<ExecutionOutcome, "modules"> {
  if (!result) {
    // E.g. a module it imports was disabled, or lost an export it uses, since it was saved.
    const first = runnable.compiled.ok ? undefined : runnable.compiled.diagnostics[0];
    const error = sandboxError("CompileError", first ? `the saved source does not compile: ${first.line}:${first.column} ${first.message}` : "the saved source does not compile");
    return { status: "failed", resultJson: undefined, error, logs: [], cpuMs: 0, memoryBytes: 0, sdkCalls: 0, finishedAt, durationMs, published: [], responseMs: null };
  }
  const redact = (text: string) => redactSecrets(text, secrets);
  return {
    status: result.status,
    resultJson: result.resultJson === undefined ? undefined : redact(result.resultJson),
    error: result.error && { name: result.error.name, message: redact(result.error.message), stack: redact(result.error.stack) },
    logs: result.logs.map((entry): LogEntry => ({ ...entry, message: redact(entry.message) })),
    cpuMs: result.cpuMs,
    memoryBytes: result.memoryBytes,
    sdkCalls: result.sdkCalls,
    finishedAt,
    durationMs,
    published: result.status === "completed" ? published : [],
    responseMs: result.responseMs === null ? null : Math.round(result.responseMs),
  };
}
