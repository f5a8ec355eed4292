import { DurableObject } from "cloudflare:workers";
import { openDb } from "../db/client";
import { effectiveLimits, tenantLimits, type Limits } from "../domain/limits";
import { newId } from "../lib/ids";
import type { JsonValue } from "../lib/json";
import { loadQuickJSWasm } from "../lib/quickjs-wasm";
import type { EventMessage } from "../events/messages";
import { sandboxError } from "../sandbox/errors";
import type { LogEntry } from "../sandbox/host";
import { Sandbox, type ExecutionResult } from "../sandbox/sandbox";
import { Collections } from "../sdk/collections";
import { executionHost, type PublishedEvent, redactSecrets } from "../sdk/host-api";
import { readSecret } from "../services/secrets";
import { Catalogue, type InvalidateScope, type RunnableScript } from "./catalogue";
import { buildEvent, buildReply, type HttpInvocation, type HttpReply, redactEvent } from "./http-mapping";
import { QuotaLedger } from "./quota-ledger";
import { type ExecutionFilter, type ExecutionRecord, TenantStore, type Trigger } from "./store";

/**
 * The linear memory all of a tenant's sandboxes may hold together. The isolate has 128 MB
 * in all; the rest is the Durable Object's own JavaScript heap and code.
 */
export const SANDBOX_MEMORY_BUDGET_BYTES = 96 * 1024 * 1024;
/** Retention runs at most this often, deleting at most PURGE_BATCHES × PURGE_BATCH_SIZE rows a run. */
const PURGE_INTERVAL_MS = 60 * 60 * 1000;
const PURGE_BATCH_SIZE = 500;
const PURGE_BATCHES = 10;
/** Pending (async) executions started per alarm, and the pause before retrying refused ones. */
const PENDING_PER_ALARM = 20;
const PENDING_RETRY_MS = 1_000;
/** Outbox messages sent per queue batch, within the queue's 256 KB per batch. */
const OUTBOX_BATCH = 100;
const OUTBOX_BATCH_BYTES = 200 * 1024;
const OUTBOX_RETRY_MS = 5_000;

export interface Refusal {
  refused: { reason: "rate" | "concurrency" | "memory"; retryAfterSeconds: number };
}

export type RunResult = { execution: ExecutionRecord } | Refusal;
/** A run as the runner sees it: the record, and the script's result as it produced it (not cut for storage). */
type LiveRun = { execution: ExecutionRecord; resultJson: string | undefined } | Refusal;

export interface ManualRun {
  scriptId: string;
  version?: number;
  input?: JsonValue;
  async?: boolean;
}

export interface Usage {
  limits: Limits;
  current: { running: number; executionsLastMinute: number; outboundRequestsLastMinute: number; dbBytes: number };
}

/**
 * One per tenant (addressed by tenant id): runs the tenant's scripts in its pool of QuickJS
 * sandboxes, under its quota ledger, and keeps the tenant's traffic in its own SQLite
 * storage. The Worker reaches it through the RPC methods below; every one names the tenant,
 * which the object remembers for its alarms.
 */
export class TenantRunner extends DurableObject<Env> {
  private readonly store: TenantStore;
  private readonly ledger = new QuotaLedger();
  private readonly sandbox = new Sandbox({ wasmModule: loadQuickJSWasm, memoryBudgetBytes: SANDBOX_MEMORY_BUDGET_BYTES });
  private catalogueCache: Catalogue | null = null;
  /** The tenant's `dbBytes`, as of the last execution (iota.db checks it synchronously). */
  private dbQuotaBytes = Number.MAX_SAFE_INTEGER;
  private readonly collections: Collections;
  /** Decrypted secrets, by name; dropped when the tenant's secrets change. */
  private secretCache = new Map<string, Promise<string | null>>();
  /** Whether an alarm is known to be set (saves a storage read per execution). */
  private alarmArmed = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new TenantStore(ctx.storage.sql);
    this.collections = new Collections(ctx.storage.sql, () => this.dbQuotaBytes);
    void ctx.blockConcurrencyWhile(async () => {
      this.store.migrate();
      // Nothing survives a restart: rows still `running` belong to a previous life.
      this.store.failOrphanedExecutions(Date.now());
      await this.scheduleAlarm();
    });
  }

  // ---- RPC ----

  /** A request to one of the tenant's http endpoints (`ANY /t/:tenant/*`). */
  async invokeHttp(tenantId: string, invocation: HttpInvocation): Promise<HttpReply> {
    const catalogue = this.catalogue(tenantId);
    const found = (await catalogue.routeTable()).match(invocation.method, invocation.path);
    if (!found || !("match" in found)) {
      const answers = found ? ` (this path answers ${found.allowed.join(", ")})` : "";
      return errorReply(404, "not_found", `no route for ${invocation.method} ${invocation.path}${answers}`);
    }
    const runnable = await catalogue.script(found.match.route.scriptId);
    if (!runnable || runnable.script.status !== "active") return errorReply(404, "not_found", `no route for ${invocation.method} ${invocation.path}`);
    const built = buildEvent(invocation, found.match.params);
    if ("error" in built) return errorReply(400, "invalid_request", built.error);

    const outcome = await this.execute(catalogue, runnable, { trigger: "http", event: built.event, recordedInput: redactEvent(built.event) });
    if ("refused" in outcome) return refusalReply(outcome);
    const { execution, resultJson } = outcome;
    const withId = (reply: HttpReply): HttpReply => ({ ...reply, headers: [...reply.headers, ["x-iota-execution-id", execution.id]] });
    if (execution.status === "timeout") return withId(errorReply(504, "script_timeout", "the script did not finish in time", { executionId: execution.id }));
    if (execution.status !== "completed") return withId(errorReply(500, "script_error", "the script failed", { executionId: execution.id }));
    const mapped = buildReply(resultJson === undefined ? undefined : JSON.parse(resultJson));
    if ("error" in mapped) return withId(errorReply(500, "script_error", mapped.error, { executionId: execution.id }));
    return withId(mapped.reply);
  }

  /**
   * `POST /api/scripts/:id/run`: runs now and answers the record (failures included), or
   * with `async` records it `pending` and runs it from the alarm. Only admission refuses.
   */
  async runManual(tenantId: string, run: ManualRun): Promise<RunResult | { pending: ExecutionRecord } | { notFound: true }> {
    const catalogue = this.catalogue(tenantId);
    const runnable = await catalogue.script(run.scriptId, run.version);
    if (!runnable) return { notFound: true };
    const event = { input: run.input ?? null };
    if (run.async) {
      const id = newId("exe");
      this.store.insertExecution({ id, scriptId: runnable.script.id, version: runnable.version.version, trigger: "manual", status: "pending", attempt: 1, input: event, startedAt: Date.now() });
      await this.ctx.storage.setAlarm(Date.now());
      this.alarmArmed = true;
      return { pending: this.store.getExecution(id)! };
    }
    const outcome = await this.execute(catalogue, runnable, { trigger: "manual", event, recordedInput: event });
    return "refused" in outcome ? outcome : { execution: outcome.execution };
  }

  async listExecutions(tenantId: string, filter: ExecutionFilter): Promise<ExecutionRecord[]> {
    this.catalogue(tenantId);
    return this.store.listExecutions(filter);
  }

  async getExecution(tenantId: string, id: string): Promise<ExecutionRecord | null> {
    this.catalogue(tenantId);
    return this.store.getExecution(id);
  }

  async usage(tenantId: string): Promise<Usage> {
    const tenant = await this.catalogue(tenantId).tenant();
    return {
      limits: tenantLimits(tenant?.limits ?? {}),
      current: {
        running: this.ledger.runningCount,
        executionsLastMinute: this.ledger.executions.count(),
        outboundRequestsLastMinute: this.ledger.outbound.count(),
        dbBytes: this.collections.usedBytes(),
      },
    };
  }

  /** Called by the Worker after every catalogue write that concerns this tenant. */
  async invalidate(tenantId: string, scope: InvalidateScope): Promise<void> {
    this.catalogue(tenantId).invalidate(scope);
    if (scope.secrets) this.secretCache = new Map();
    if (scope.scriptId) this.sandbox.pool.evictScript(`${scope.scriptId}:`);
  }

  /** Async runs, then retention; then the next alarm. */
  override async alarm(): Promise<void> {
    this.alarmArmed = false;
    const retryPending = await this.runPending();
    await this.flushOutbox();
    this.purgeRetention();
    await this.scheduleAlarm(retryPending ? Date.now() + PENDING_RETRY_MS : undefined);
  }

  // ---- running ----

  private catalogue(tenantId: string): Catalogue {
    if (this.catalogueCache?.tenantId === tenantId) return this.catalogueCache;
    const known = this.store.getMeta("tenant_id");
    if (known !== null && known !== tenantId) throw new Error("this runner belongs to another tenant");
    if (known === null) this.store.setMeta("tenant_id", tenantId);
    this.catalogueCache = new Catalogue(openDb(this.env.DB), tenantId);
    return this.catalogueCache;
  }

  /**
   * Admits, records `running`, runs in the sandbox, records the outcome. Refused
   * executions record nothing. `pendingId` runs an execution recorded earlier as pending.
   */
  private async execute(
    catalogue: Catalogue,
    runnable: RunnableScript,
    request: { trigger: Trigger; event: unknown; recordedInput: unknown; attempt?: number; pendingId?: string; eventDepth?: number },
  ): Promise<LiveRun> {
    const tenant = await catalogue.tenant();
    if (!tenant) throw new Error("tenant not found");
    const limits = effectiveLimits(tenantLimits(tenant.limits), runnable.version.limits);
    this.dbQuotaBytes = limits.dbBytes;
    const admission = await this.ledger.admit(limits, () => this.sandbox.pool.hasRoomFor(limits));
    if (!admission.admitted) return { refused: { reason: admission.reason, retryAfterSeconds: admission.retryAfterSeconds } };
    try {
      const startedAt = Date.now();
      const id = request.pendingId ?? newId("exe", startedAt);
      const attempt = request.attempt ?? 1;
      const { script, version } = runnable;
      if (request.pendingId) this.store.markRunning(id, startedAt);
      else this.store.insertExecution({ id, scriptId: script.id, version: version.version, trigger: request.trigger, status: "running", attempt, input: request.recordedInput, startedAt });

      const host = executionHost(
        { limits, allowedHosts: tenant.allowedHosts ?? null, eventDepth: request.eventDepth ?? null },
        { collections: this.collections, secret: (name) => this.secret(tenant.id, name), outbound: this.ledger.outbound, fetch: (input, init) => fetch(input, init) },
      );
      const ctx = { executionId: id, scriptId: script.id, version: version.version, tenant: tenant.slug, trigger: request.trigger, attempt };
      const result: ExecutionResult | null = runnable.compiled.ok
        ? await this.sandbox.execute({ scriptKey: runnable.key, script: runnable.compiled.script, event: request.event, ctx, limits, host: host.api })
        : null;
      const finishedAt = Date.now();
      const redact = (text: string) => redactSecrets(text, host.secretValues);
      const outcome = result
        ? {
            status: result.status,
            resultJson: result.resultJson === undefined ? undefined : redact(result.resultJson),
            error: result.error && { name: result.error.name, message: redact(result.error.message), stack: redact(result.error.stack) },
            logs: result.logs.map((entry): LogEntry => ({ ...entry, message: redact(entry.message) })),
            cpuMs: result.cpuMs,
            memoryBytes: result.memoryBytes,
            sdkCalls: result.sdkCalls,
          }
        : { status: "failed" as const, resultJson: undefined, error: sandboxError("CompileError", "the saved source does not compile"), logs: [], cpuMs: 0, memoryBytes: 0, sdkCalls: 0 };
      // The record and the events it published land together, or not at all.
      const published = outcome.status === "completed" ? host.outbox.map((event) => JSON.stringify(this.eventMessage(tenant.slug, id, script.id, event))) : [];
      this.ctx.storage.transactionSync(() => {
        this.store.finishExecution(id, { ...outcome, finishedAt, durationMs: finishedAt - startedAt });
        if (published.length > 0) this.store.addToOutbox(published, finishedAt);
      });
      if (published.length > 0) await this.flushOutbox();
      // The first execution of a fresh runner arms retention.
      if (!this.alarmArmed) await this.scheduleAlarm();
      return { execution: this.store.getExecution(id)!, resultJson: result?.resultJson };
    } finally {
      admission.release();
    }
  }

  private eventMessage(tenant: string, executionId: string, scriptId: string, event: PublishedEvent): EventMessage {
    return {
      kind: "event",
      tenant,
      type: event.type,
      payload: event.payload,
      id: event.id,
      depth: event.depth,
      publishedAt: Date.now(),
      source: `script:${scriptId}:${executionId}`,
      ...(event.idempotencyKey === undefined ? {} : { idempotencyKey: event.idempotencyKey }),
    };
  }

  /** A secret for a script of this tenant, decrypted once per change. */
  private secret(tenantId: string, name: string): Promise<string | null> {
    let value = this.secretCache.get(name);
    if (!value) {
      value = readSecret(openDb(this.env.DB), this.env, tenantId, name);
      value.catch(() => this.secretCache.delete(name));
      this.secretCache.set(name, value);
    }
    return value;
  }

  /** Sends what the outbox holds to the events queue; what fails stays for the next alarm. */
  private async flushOutbox() {
    for (;;) {
      const rows = this.store.outboxBatch(OUTBOX_BATCH);
      if (rows.length === 0) return;
      const batch: typeof rows = [];
      let bytes = 0;
      for (const row of rows) {
        if (batch.length > 0 && bytes + row.message.length > OUTBOX_BATCH_BYTES) break;
        batch.push(row);
        bytes += row.message.length;
      }
      try {
        await this.env.EVENTS.sendBatch(batch.map((row) => ({ body: JSON.parse(row.message) as EventMessage, contentType: "json" as const })));
      } catch (error) {
        console.error("sending the outbox failed; the next alarm retries", error);
        await this.scheduleAlarm(Date.now() + OUTBOX_RETRY_MS);
        return;
      }
      this.store.removeFromOutbox(batch.map((row) => row.seq));
    }
  }

  /** Runs executions recorded as pending; true when some were refused and must wait. */
  private async runPending(): Promise<boolean> {
    const tenantId = this.store.getMeta("tenant_id");
    if (!tenantId) return false;
    const catalogue = this.catalogue(tenantId);
    let refused = false;
    for (const id of this.store.pendingExecutionIds(PENDING_PER_ALARM)) {
      const pending = this.store.getExecution(id)!;
      const runnable = await catalogue.script(pending.scriptId, pending.version);
      if (!runnable) {
        this.store.finishExecution(id, {
          status: "failed",
          resultJson: undefined,
          error: sandboxError("SandboxError", "the script version no longer exists"),
          logs: [],
          finishedAt: Date.now(),
          durationMs: 0,
          cpuMs: 0,
          memoryBytes: 0,
          sdkCalls: 0,
        });
        continue;
      }
      const outcome = await this.execute(catalogue, runnable, {
        trigger: pending.trigger,
        event: pending.input,
        recordedInput: pending.input,
        attempt: pending.attempt,
        pendingId: id,
      });
      if ("refused" in outcome) refused = true;
    }
    return refused || this.store.pendingExecutionIds(1).length > 0;
  }

  /** Deletes executions past RETENTION_DAYS, a bounded number of small batches per run. */
  private purgeRetention() {
    const now = Date.now();
    const last = Number(this.store.getMeta("last_purge") ?? "0");
    const backlog = this.store.getMeta("purge_backlog") === "1";
    if (!backlog && now - last < PURGE_INTERVAL_MS) return;
    const cutoff = now - (Number(this.env.RETENTION_DAYS) || 30) * 86_400_000;
    let deleted = PURGE_BATCH_SIZE;
    for (let batch = 0; batch < PURGE_BATCHES && deleted === PURGE_BATCH_SIZE; batch++) {
      deleted = this.store.purgeExecutionsBefore(cutoff, PURGE_BATCH_SIZE);
    }
    this.store.setMeta("last_purge", String(now));
    // A full last batch means more is left: the next alarm comes soon and goes on.
    this.store.setMeta("purge_backlog", deleted === PURGE_BATCH_SIZE ? "1" : "0");
  }

  private async scheduleAlarm(at?: number) {
    const pending = this.store.pendingExecutionIds(1).length > 0;
    const unsent = this.store.outboxBatch(1).length > 0 ? Date.now() + OUTBOX_RETRY_MS : undefined;
    const last = Number(this.store.getMeta("last_purge") ?? "0");
    const backlog = this.store.getMeta("purge_backlog") === "1";
    const purge = backlog ? Date.now() + PENDING_RETRY_MS : this.store.hasExecutions() ? last + PURGE_INTERVAL_MS : undefined;
    const candidates = [at, pending ? Date.now() : undefined, unsent, purge].filter((t): t is number => t !== undefined);
    if (candidates.length === 0) return;
    const next = Math.max(Date.now(), Math.min(...candidates));
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > next) await this.ctx.storage.setAlarm(next);
    this.alarmArmed = true;
  }
}

function errorReply(status: number, code: string, message: string, details?: unknown): HttpReply {
  const error = details === undefined ? { code, message } : { code, message, details };
  return { status, headers: [["content-type", "application/json; charset=utf-8"]], body: JSON.stringify({ error }) };
}

function refusalReply(outcome: Refusal): HttpReply {
  const { reason, retryAfterSeconds } = outcome.refused;
  const reply = errorReply(429, "quota_exceeded", quotaMessage(reason), { reason, retryAfterSeconds });
  return { ...reply, headers: [...reply.headers, ["retry-after", String(retryAfterSeconds)]] };
}

export function quotaMessage(reason: Refusal["refused"]["reason"]): string {
  if (reason === "rate") return "the tenant's executionsPerMinute quota is used up";
  if (reason === "memory") return "the tenant's sandboxes are using all of their memory";
  return "the tenant's concurrent executions are at their limit";
}
