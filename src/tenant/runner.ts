import { DurableObject } from "cloudflare:workers";
import { openDb } from "../db/client";
import { effectiveLimits, tenantLimits, type Limits } from "../domain/limits";
import { queueMessage, type QueueMessage } from "../events/messages";
import { newId } from "../lib/ids";
import type { JsonValue } from "../lib/json";
import { sandboxError } from "../sandbox/errors";
import type { LogEntry } from "../sandbox/host";
import { isolateSandbox, TENANT_SANDBOX_SHARE_BYTES } from "../executor/isolate-sandbox";
import type { ExecutionResult } from "../sandbox/sandbox";
import { Collections } from "../sdk/collections";
import { executionHost, redactSecrets } from "../sdk/host-api";
import { readSecret } from "../services/secrets";
import { Catalogue, type InvalidateScope, type RunnableScript } from "./catalogue";
import { type AttemptEnd, Deliveries, type TenantCell } from "./deliveries";
import { type DeadLetterFilter, type Delivery, EventStore } from "./event-store";
import type { DeadLetter, ExecutionRecord, TriggerKind } from "./records";
import { buildEvent, buildReply, type HttpInvocation, type HttpReply, redactEvent, withPlatformHeaders } from "./http-mapping";
import { Outbox, type RefusalReason } from "./outbox";
import { platformRetryDelay, QueuedRuns, type QueueVerdict } from "./queued-runs";
import { CpuMeter, QUEUE_WAIT_MS, QuotaLedger, quotaMessage } from "./quota-ledger";
import { rateBuckets } from "./rate-buckets";
import { dueAt, minuteOf, nextDueMinute } from "./schedules";
import { type ExecutionFilter, TenantStore } from "./store";

export { quotaMessage } from "./quota-ledger";
export type { QueueVerdict } from "./queued-runs";

/** Retention runs at most this often, deleting at most PURGE_BATCHES batches of PURGE_BATCH_SIZE rows a run. */
const PURGE_INTERVAL_MS = 60 * 60 * 1000;
const PURGE_BATCH_SIZE = 500;
const PURGE_BATCHES = 10;
/** An outbox that could not be sent is tried again by the alarm this soon, at the earliest. */
const OUTBOX_RETRY_MS = 5_000;
/** Dead letters replayed per bulk call, at most. */
export const MAX_BULK_REPLAY = 500;

export interface Refusal {
  refused: { reason: "rate" | "concurrency" | "memory"; retryAfterSeconds: number };
}

export type RunResult = { execution: ExecutionRecord } | Refusal;
/** A run as the runner sees it: the record, and the script's result as it produced it (not cut for storage). */
type LiveRun = { execution: ExecutionRecord; resultJson: string | undefined; sandboxMs: number } | Refusal;

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

export interface EventView {
  id: string;
  type: string;
  payload: JsonValue;
  publishedAt: string;
  source: string;
  deliveries: Array<{ scriptId: string; status: Delivery["status"]; attempts: number; executionId: string | null }>;
}

interface RunRequest {
  trigger: TriggerKind;
  event: unknown;
  recordedInput: unknown;
  attempt?: number;
  /** Runs an execution recorded earlier as pending (an async manual run). */
  pendingId?: string;
  /** Depth of the triggering event (events published by the script go one deeper). */
  eventDepth?: number;
  /** Called inside the transaction that records the end (an event delivery records its outcome there). */
  finished?: (end: AttemptEnd, now: number) => void;
}

/**
 * One per tenant (addressed by tenant id): runs the tenant's scripts in its pool of QuickJS
 * sandboxes, under its quota ledger, and keeps the tenant's traffic in its own SQLite
 * storage: executions, events and deliveries, dead letters, idempotency keys, schedules,
 * `iota.db` collections. The Worker and the queue consumer reach it through the RPC
 * methods below; every one names the tenant, which the object remembers for its alarms.
 */
export class TenantRunner extends DurableObject<Env> {
  private readonly store: TenantStore;
  private readonly events: EventStore;
  private readonly ledger: QuotaLedger;
  private readonly cpu = new CpuMeter();
  /** The isolate's pool, shared with every cell co-located here (executor/isolate-sandbox.ts). */
  protected readonly sandbox = isolateSandbox();
  private readonly collections: Collections;
  private readonly outbox: Outbox;
  private readonly deliveries: Deliveries;
  private readonly runs: QueuedRuns;
  private catalogueCache: Catalogue | null = null;
  /** The tenant's `dbBytes`, as of the last execution (iota.db checks it synchronously). */
  private dbQuotaBytes = Number.MAX_SAFE_INTEGER;
  /** Decrypted secrets, by name; dropped when the tenant's secrets change. */
  private secretCache = new Map<string, Promise<string | null>>();
  /** The alarm as this object last set or read it (saves a storage call per event); null: none known. */
  private alarmAt: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    this.store = new TenantStore(sql);
    // Synchronous, before anything reads a table.
    this.store.migrate();
    this.events = new EventStore(sql);
    this.ledger = new QuotaLedger(Date.now, QUEUE_WAIT_MS, { executions: rateBuckets(sql, "executions"), outbound: rateBuckets(sql, "outbound") });
    this.collections = new Collections(sql, () => this.dbQuotaBytes);
    const transaction = <T>(fn: () => T): T => ctx.storage.transactionSync(fn);
    const cell = { transaction, env: () => this.env, wakeBy: (at: number) => this.wakeBy(at), sendSoon: () => this.sendSoon() };
    this.outbox = new Outbox({ sql, queue: () => this.env.EVENTS, transaction, refused: (body, reason) => this.abandon(body, reason) });
    this.deliveries = new Deliveries({ ...cell, events: this.events, outbox: this.outbox });
    this.runs = new QueuedRuns({ ...cell, store: this.store, outbox: this.outbox });
    void ctx.blockConcurrencyWhile(async () => {
      // Nothing survives a restart: what was running belongs to a previous life.
      this.store.failOrphanedExecutions(Date.now());
      this.deliveries.recoverInterrupted();
      this.alarmAt = await ctx.storage.getAlarm();
      await this.scheduleAlarm();
    });
  }

  // ---- RPC: http, manual runs, executions ----

  /** A request to one of the tenant's http endpoints (`ANY /t/:tenant/*`). */
  async invokeHttp(tenantId: string, invocation: HttpInvocation): Promise<HttpReply> {
    const catalogue = this.catalogue(tenantId);
    const found = (await catalogue.routeTable()).match(invocation.method, invocation.path);
    if (!found || !("match" in found)) {
      const answers = found ? ` (this path answers ${found.allowed.join(", ")})` : "";
      return errorReply(404, "not_found", `no route for ${invocation.method} ${invocation.path}${answers}`);
    }
    const cached = await catalogue.script(found.match.route.scriptId);
    if (!cached || cached.script.status !== "active") return errorReply(404, "not_found", `no route for ${invocation.method} ${invocation.path}`);
    const built = buildEvent(invocation, found.match.params);
    if ("error" in built) return errorReply(400, "invalid_request", built.error);

    const runnable = this.forRequest(cached, invocation);
    const outcome = await this.execute(catalogue, runnable, { trigger: "http", event: built.event, recordedInput: redactEvent(built.event) });
    this.afterRequest(runnable);
    if ("refused" in outcome) return refusalReply(outcome);
    const { execution, resultJson } = outcome;
    // The execution id, and the time spent in the sandbox (Server-Timing), on every script response.
    const withId = (reply: HttpReply): HttpReply => withPlatformHeaders(reply, { executionId: execution.id, sandboxMs: outcome.sandboxMs });
    if (execution.status === "timeout") return withId(errorReply(504, "script_timeout", "the script did not finish in time", { executionId: execution.id }));
    if (execution.status !== "completed") return withId(errorReply(500, "script_error", "the script failed", { executionId: execution.id }));
    const mapped = buildReply(resultJson === undefined ? undefined : JSON.parse(resultJson));
    if ("error" in mapped) return withId(errorReply(500, "script_error", mapped.error, { executionId: execution.id }));
    return withId(mapped.reply);
  }

  /**
   * `POST /api/scripts/:id/run`: runs now and answers the record (failures included), or
   * with `async` records it `pending` and queues it. Only admission refuses.
   */
  async runManual(tenantId: string, run: ManualRun): Promise<RunResult | { pending: ExecutionRecord } | { notFound: true }> {
    const catalogue = this.catalogue(tenantId);
    const runnable = await catalogue.script(run.scriptId, run.version);
    if (!runnable) return { notFound: true };
    const event = { input: run.input ?? null };
    if (run.async) {
      const tenant = await this.tenantRow(catalogue);
      return { pending: await this.runs.accept(tenant.slug, { scriptId: runnable.script.id, version: runnable.version.version, input: event }) };
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
    if (scope.scriptId) this.sandbox.pool.evictScript(`${scope.scriptId}:`);
    if (scope.secrets) this.secretCache = new Map();
    // A saved, paused or archived scheduled script moves the next alarm.
    await this.scheduleAlarm();
  }

  // ---- RPC: events (the logic is in deliveries.ts) ----

  /**
   * `POST /api/events`: records the event and its deliveries (with their messages) in one
   * transaction. The same idempotency key within 24 h answers the first event's id and
   * sends nothing.
   */
  async acceptEvent(tenantId: string, input: { type: string; payload: JsonValue; idempotencyKey?: string }): Promise<{ eventId: string; replayed: boolean }> {
    const tenant = await this.tenantCell(this.catalogue(tenantId));
    const now = Date.now();
    return this.deliveries.accept(tenant, { id: newId("evt", now), type: input.type, payload: input.payload, publishedAt: now, source: "api", depth: 0 }, input.idempotencyKey);
  }

  /**
   * A batch of this tenant's messages from the events queue, each handled on its own: an
   * event is fanned out, a delivery runs the attempt it asks for if due, a run runs if still
   * pending. A message whose handling failed (the platform, not a script) is retried by the queue.
   */
  async receive(tenantId: string, items: Array<{ body: QueueMessage; attempts: number }>): Promise<QueueVerdict[]> {
    const catalogue = this.catalogue(tenantId);
    const tenant = await this.tenantCell(catalogue);
    const handled = await Promise.allSettled(
      items.map(async ({ body, attempts }): Promise<QueueVerdict> => {
        if (body.kind === "run") return this.runs.receive(this.tenantRuns(tenant), body, attempts);
        if (body.kind === "event") await this.deliveries.receive(tenant, body);
        else await this.deliveries.deliver(tenant, body);
        return { action: "ack" };
      }),
    );
    return handled.map((result, i) => {
      if (result.status === "fulfilled") return result.value;
      console.error("queue message failed in the cell; the queue retries it", items[i]!.body.kind, result.reason);
      return { action: "retry", delaySeconds: platformRetryDelay(items[i]!.attempts, this.env) };
    });
  }

  /** The dead-letter queue's consumer: a message the queue gave up on. */
  async deadLettered(tenantId: string, message: QueueMessage, attempts: number): Promise<void> {
    this.catalogue(tenantId);
    this.ctx.storage.transactionSync(() => {
      if (message.kind === "run") this.runs.abandon(message, "the queued run could not be started");
      else this.deliveries.abandon(message, null, attempts);
    });
  }

  /** A message naming this tenant that is not valid: kept as a dead letter with the reason. */
  async rejectMessage(tenantId: string, body: JsonValue, reason: string): Promise<void> {
    this.catalogue(tenantId);
    this.ctx.storage.transactionSync(() => this.deliveries.abandon(body, { name: "InvalidMessage", message: reason }));
  }

  async getEvent(tenantId: string, id: string): Promise<EventView | null> {
    this.catalogue(tenantId);
    const event = this.events.getEvent(id);
    if (!event) return null;
    return {
      id: event.id,
      type: event.type,
      payload: event.payload,
      publishedAt: new Date(event.publishedAt).toISOString(),
      source: event.source,
      deliveries: this.events.deliveriesOf(id).map((d) => ({ scriptId: d.scriptId, status: d.status, attempts: d.attempts, executionId: d.executionId })),
    };
  }

  // ---- RPC: dead letters ----

  async listDeadLetters(tenantId: string, filter: DeadLetterFilter): Promise<DeadLetter[]> {
    this.catalogue(tenantId);
    return this.events.listDeadLetters(filter);
  }

  async getDeadLetter(tenantId: string, id: string): Promise<DeadLetter | null> {
    this.catalogue(tenantId);
    return this.events.getDeadLetter(id);
  }

  /** Sends a dead letter again with a fresh retry budget (unless its replay is still going); answers it as it is now. */
  async replayDeadLetter(tenantId: string, id: string): Promise<DeadLetter | null> {
    const tenant = await this.tenantCell(this.catalogue(tenantId));
    if (!this.events.getDeadLetter(id)) return null;
    await this.deliveries.replay(tenant, [id]);
    return this.events.getDeadLetter(id);
  }

  /** Bulk replay, by ids (each once) or by script and time: at most MAX_BULK_REPLAY a call. */
  async replayDeadLetters(tenantId: string, selection: { ids?: string[]; scriptId?: string; since?: number }): Promise<number> {
    const tenant = await this.tenantCell(this.catalogue(tenantId));
    const ids = selection.ids ?? this.events.listDeadLetters({ scriptId: selection.scriptId, since: selection.since, limit: MAX_BULK_REPLAY - 1 }).map((d) => d.id);
    return this.deliveries.replay(tenant, ids.slice(0, MAX_BULK_REPLAY));
  }

  async deleteDeadLetter(tenantId: string, id: string): Promise<boolean> {
    this.catalogue(tenantId);
    return this.events.deleteDeadLetter(id);
  }

  // ---- alarm ----

  /** Due schedules, the sweep (events, deliveries and runs left behind), the outbox, retention; then the next alarm. */
  override async alarm(): Promise<void> {
    this.alarmAt = null;
    await this.runSchedules();
    const tenantId = this.store.getMeta("tenant_id");
    if (tenantId !== null) {
      const tenant = await this.tenantCell(this.catalogue(tenantId));
      await this.deliveries.sweep(tenant);
      await this.runs.sweep(tenant.slug);
    }
    await this.outbox.flush();
    this.purgeRetention();
    await this.scheduleAlarm();
  }

  /**
   * The script as one http request runs it: the cached, compiled one. The benchmark's
   * subclass (bench/worker.ts) overrides these two to measure cold starts.
   */
  protected forRequest(runnable: RunnableScript, _invocation: HttpInvocation): RunnableScript {
    return runnable;
  }

  protected afterRequest(_runnable: RunnableScript): void {}

  // ---- running ----

  private catalogue(tenantId: string): Catalogue {
    if (this.catalogueCache?.tenantId === tenantId) return this.catalogueCache;
    const known = this.store.getMeta("tenant_id");
    if (known !== null && known !== tenantId) throw new Error("this runner belongs to another tenant");
    if (known === null) this.store.setMeta("tenant_id", tenantId);
    this.catalogueCache = new Catalogue(openDb(this.env.DB), tenantId);
    return this.catalogueCache;
  }

  private async tenantRow(catalogue: Catalogue) {
    const tenant = await catalogue.tenant();
    if (!tenant) throw new Error("tenant not found");
    return tenant;
  }

  /** The tenant as deliveries see it: its slug, catalogue, concurrency, and this executor. */
  private async tenantCell(catalogue: Catalogue): Promise<TenantCell> {
    const tenant = await this.tenantRow(catalogue);
    const limits = tenantLimits(tenant.limits);
    return {
      slug: tenant.slug,
      catalogue,
      // As many as the tenant may run at once and its share of sandbox memory holds: a queued delivery does not wait on admission.
      lanes: Math.max(1, Math.min(limits.concurrency, Math.floor(TENANT_SANDBOX_SHARE_BYTES / limits.memoryBytes))),
      run: (runnable, attempt) =>
        this.execute(catalogue, runnable, { trigger: "event", event: attempt.event, recordedInput: attempt.event, attempt: attempt.attempt, eventDepth: attempt.eventDepth, finished: attempt.finished }),
    };
  }

  private tenantRuns(tenant: TenantCell) {
    return {
      slug: tenant.slug,
      catalogue: tenant.catalogue,
      run: (runnable: RunnableScript, pending: { id: string; input: JsonValue }) =>
        this.execute(tenant.catalogue, runnable, { trigger: "manual", event: pending.input, recordedInput: pending.input, pendingId: pending.id }),
    };
  }

  /**
   * Admits, records `running`, runs in the sandbox, records the outcome (with the delivery
   * it completes and the events it published, in one transaction). Refused executions
   * record nothing.
   */
  private async execute(catalogue: Catalogue, runnable: RunnableScript, request: RunRequest): Promise<LiveRun> {
    const tenant = await this.tenantRow(catalogue);
    const limits = effectiveLimits(tenantLimits(tenant.limits), runnable.version.limits);
    this.dbQuotaBytes = limits.dbBytes;
    // Reserved with the admission: executions admitted together, not yet in the pool, cannot count on the same room.
    const memory = { bytes: limits.memoryBytes, budgetBytes: TENANT_SANDBOX_SHARE_BYTES };
    const admission = await this.ledger.admit(limits, () => this.sandbox.pool.hasRoomFor(tenant.id, limits), memory);
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
      // A tenant that kept the thread busy takes turns, letting whatever else waits go first.
      const endTurn = await this.cpu.turn((ms) => scheduler.wait(ms));
      let result: ExecutionResult | null = null;
      try {
        if (runnable.compiled.ok) {
          result = await this.sandbox.execute({ tenant: tenant.id, scriptKey: runnable.key, script: runnable.compiled.script, event: request.event, ctx, limits, host: host.api });
        }
      } finally {
        this.cpu.record(result?.cpuMs ?? 0);
        endTurn();
      }
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
      const publishes = outcome.status === "completed" && host.outbox.length > 0;
      const subscriptions = publishes ? await this.deliveries.subscriptionsOf(catalogue) : null;
      // The record, the delivery outcome it carries and the events it published (fanned out) land together.
      const created = this.ctx.storage.transactionSync(() => {
        this.store.finishExecution(id, { ...outcome, finishedAt, durationMs: finishedAt - startedAt });
        request.finished?.({ executionId: id, status: outcome.status, error: outcome.error }, finishedAt);
        return publishes ? this.deliveries.recordPublished(tenant.slug, subscriptions, host.outbox, `script:${script.id}:${id}`, finishedAt) : 0;
      });
      if (publishes) await this.deliveries.afterFanOut(created, subscriptions !== null, finishedAt);
      // The first execution of a fresh runner arms retention.
      if (this.alarmAt === null) await this.scheduleAlarm();
      return { execution: this.store.getExecution(id)!, resultJson: result?.resultJson, sandboxMs: result?.durationMs ?? 0 };
    } finally {
      admission.release();
    }
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

  /** A message the outbox will never get onto the queue: a dead letter (or a cancelled run) with the reason. Inside the outbox's transaction. */
  private abandon(body: unknown, reason: RefusalReason) {
    const parsed = queueMessage.safeParse(body);
    if (parsed.success && parsed.data.kind === "run") this.runs.abandon(parsed.data, reason.message);
    else this.deliveries.abandon(body, reason);
  }

  /** Starts sending the outbox; the request that wrote it does not wait (the alarm is armed for a failure). */
  private sendSoon() {
    this.ctx.waitUntil(this.outbox.flush());
  }

  /** Makes sure the alarm fires by `at`: one storage call only when no earlier alarm is known. */
  private async wakeBy(at: number) {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }

  // ---- schedules and retention ----

  /**
   * Runs each scheduled script due in the minute the alarm was armed for, once: a claim row
   * per script and minute makes a doubled alarm run nothing twice. A run still going skips
   * the next unless `allowOverlap`. A minute whose alarm came too late is not back-filled.
   */
  private async runSchedules() {
    const tenantId = this.store.getMeta("tenant_id");
    const minute = Number(this.store.getMeta("schedule_minute") ?? "NaN");
    if (!tenantId || !Number.isFinite(minute)) return;
    const now = Date.now();
    if (now < minute || now >= minute + 60_000) return;
    const catalogue = this.catalogue(tenantId);
    const due = dueAt(await catalogue.schedules(), minute);
    await Promise.allSettled(
      due.map(async (schedule) => {
        if (!schedule.allowOverlap && this.store.isRunning(schedule.scriptId)) return;
        if (!this.events.claimMinute(schedule.scriptId, minute)) return;
        const runnable = await catalogue.script(schedule.scriptId);
        if (!runnable || runnable.script.status !== "active") return;
        const event = { scheduledTime: new Date(minute).toISOString(), cron: schedule.cron };
        await this.execute(catalogue, runnable, { trigger: "scheduled", event, recordedInput: event });
      }),
    );
  }

  /** Deletes traffic past RETENTION_DAYS, a bounded number of small batches per run. */
  private purgeRetention() {
    const now = Date.now();
    const last = Number(this.store.getMeta("last_purge") ?? "0");
    const backlog = this.store.getMeta("purge_backlog") === "1";
    if (!backlog && now - last < PURGE_INTERVAL_MS) return;
    const cutoff = now - (Number(this.env.RETENTION_DAYS) || 30) * 86_400_000;
    let full = true;
    for (let batch = 0; batch < PURGE_BATCHES && full; batch++) {
      const executions = this.store.purgeExecutionsBefore(cutoff, PURGE_BATCH_SIZE);
      const traffic = this.events.purgeBefore(cutoff, PURGE_BATCH_SIZE, now);
      full = executions === PURGE_BATCH_SIZE || traffic >= PURGE_BATCH_SIZE;
    }
    this.store.setMeta("last_purge", String(now));
    // A full last batch means more is left: the next alarm comes soon and goes on.
    this.store.setMeta("purge_backlog", full ? "1" : "0");
  }

  /**
   * Arms the alarm for the earliest of: the next due schedule, the outbox, the sweep (events
   * not fanned out, deliveries and runs whose message may be lost), retention. Whenever
   * something is outstanding, an alarm is set.
   */
  private async scheduleAlarm() {
    const now = Date.now();
    const tenantId = this.store.getMeta("tenant_id");
    const schedules = tenantId ? await this.catalogue(tenantId).schedules().catch(() => []) : [];
    const nextSchedule = nextDueMinute(schedules, now);
    if (nextSchedule !== null) this.store.setMeta("schedule_minute", String(nextSchedule));
    const unsent = this.outbox.nextSendAt();
    const last = Number(this.store.getMeta("last_purge") ?? "0");
    const backlog = this.store.getMeta("purge_backlog") === "1";
    const purge = backlog ? now + 1_000 : this.store.hasExecutions() ? last + PURGE_INTERVAL_MS : null;
    const candidates = [nextSchedule, unsent === null ? null : Math.max(unsent, now + OUTBOX_RETRY_MS), this.deliveries.nextSweepAt(), this.runs.nextSweepAt(), purge].filter((t): t is number => t !== null);
    if (candidates.length === 0) return;
    const next = Math.max(now, Math.min(...candidates));
    const current = await this.ctx.storage.getAlarm();
    // Keep an earlier alarm unless it is for a schedule minute that has passed unfired.
    if (current === null || current > next || current < minuteOf(now)) {
      await this.ctx.storage.setAlarm(next);
      this.alarmAt = next;
    } else {
      this.alarmAt = current;
    }
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

