import { DurableObject } from "cloudflare:workers";
import { openDb } from "../db/client";
import { effectiveLimits, tenantLimits, type Limits } from "../domain/limits";
import type { DeliveryMessage, EventMessage, QueueMessage, RunMessage } from "../events/messages";
import { afterFailure, MAX_RETRIES, retryBase } from "../events/retry-policy";
import { subscribesAny } from "../events/subscriptions";
import { newId } from "../lib/ids";
import type { JsonValue } from "../lib/json";
import { sandboxError } from "../sandbox/errors";
import type { LogEntry } from "../sandbox/host";
import { isolateSandbox } from "../executor/isolate-sandbox";
import type { ExecutionResult } from "../sandbox/sandbox";
import { Collections } from "../sdk/collections";
import { executionHost, type PublishedEvent, redactSecrets } from "../sdk/host-api";
import { readSecret } from "../services/secrets";
import { Catalogue, type InvalidateScope, type RunnableScript } from "./catalogue";
import { type DeadLetterFilter, type Delivery, EventStore } from "./event-store";
import type { DeadLetter, ExecutionRecord, TriggerKind } from "./records";
import { buildEvent, buildReply, type HttpInvocation, type HttpReply, redactEvent, withPlatformHeaders } from "./http-mapping";
import { CpuMeter, QuotaLedger } from "./quota-ledger";
import { dueAt, minuteOf, nextDueMinute } from "./schedules";
import { type ExecutionFilter, TenantStore } from "./store";

/** Retention runs at most this often, deleting at most PURGE_BATCHES batches of PURGE_BATCH_SIZE rows a run. */
const PURGE_INTERVAL_MS = 60 * 60 * 1000;
const PURGE_BATCH_SIZE = 500;
const PURGE_BATCHES = 10;
/** Outbox messages sent per queue batch, within the queue's 256 KB per batch. */
const OUTBOX_BATCH = 100;
const OUTBOX_BATCH_BYTES = 200 * 1024;
const OUTBOX_RETRY_MS = 5_000;
/** How long an idempotency key answers with its first event. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** A delivery already running elsewhere in this object is looked at again after this. */
const BUSY_DELIVERY_RETRY_SECONDS = 5;
/** Dead letters replayed per bulk call, at most. */
export const MAX_BULK_REPLAY = 500;

export interface Refusal {
  refused: { reason: "rate" | "concurrency" | "memory"; retryAfterSeconds: number };
}

export type RunResult = { execution: ExecutionRecord } | Refusal;
/** A run as the runner sees it: the record, and the script's result as it produced it (not cut for storage). */
type LiveRun = { execution: ExecutionRecord; resultJson: string | undefined; sandboxMs: number } | Refusal;

/** What the queue consumer does with a message once the runner has handled it. */
export type QueueVerdict = { action: "ack" } | { action: "retry"; delaySeconds: number };

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
  /** The event delivery this execution is: completed in the same transaction as the record. */
  delivery?: { eventId: string; scriptId: string; deadLetterId?: string };
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
  private readonly ledger = new QuotaLedger();
  private readonly cpu = new CpuMeter();
  /** The isolate's pool, shared with every cell co-located here (executor/isolate-sandbox.ts). */
  protected readonly sandbox = isolateSandbox();
  private readonly collections: Collections;
  private catalogueCache: Catalogue | null = null;
  /** The tenant's `dbBytes`, as of the last execution (iota.db checks it synchronously). */
  private dbQuotaBytes = Number.MAX_SAFE_INTEGER;
  /** Decrypted secrets, by name; dropped when the tenant's secrets change. */
  private secretCache = new Map<string, Promise<string | null>>();
  /** Deliveries running in this object now, as `eventId/scriptId`. */
  private readonly deliveriesInFlight = new Set<string>();
  /** Whether an alarm is known to be set (saves a storage read per execution). */
  private alarmArmed = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new TenantStore(ctx.storage.sql);
    this.events = new EventStore(ctx.storage.sql);
    this.collections = new Collections(ctx.storage.sql, () => this.dbQuotaBytes);
    void ctx.blockConcurrencyWhile(async () => {
      this.store.migrate();
      // Nothing survives a restart: what was running belongs to a previous life.
      this.store.failOrphanedExecutions(Date.now());
      this.events.releaseOrphanedDeliveries(Date.now());
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
      const id = newId("exe");
      const message: RunMessage = { kind: "run", tenant: tenant.slug, executionId: id };
      this.ctx.storage.transactionSync(() => {
        this.store.insertExecution({ id, scriptId: runnable.script.id, version: runnable.version.version, trigger: "manual", status: "pending", attempt: 1, input: event, startedAt: Date.now() });
        this.store.addToOutbox([JSON.stringify(message)], Date.now());
      });
      await this.flushOutbox();
      return { pending: this.store.getExecution(id)! };
    }
    const outcome = await this.execute(catalogue, runnable, { trigger: "manual", event, recordedInput: event });
    return "refused" in outcome ? outcome : { execution: outcome.execution };
  }

  /** A queued async run: runs it if still pending; a refusal waits for its Retry-After. */
  async runQueued(tenantId: string, message: RunMessage, attempt: number): Promise<QueueVerdict> {
    const catalogue = this.catalogue(tenantId);
    const pending = this.store.getExecution(message.executionId);
    if (!pending || pending.status !== "pending") return { action: "ack" };
    const runnable = await catalogue.script(pending.scriptId, pending.version);
    if (!runnable) {
      this.store.cancelExecution(pending.id, sandboxError("SandboxError", "the script version no longer exists"), Date.now());
      return { action: "ack" };
    }
    const outcome = await this.execute(catalogue, runnable, { trigger: "manual", event: pending.input, recordedInput: pending.input, pendingId: pending.id });
    if (!("refused" in outcome)) return { action: "ack" };
    if (attempt > MAX_RETRIES) {
      this.store.cancelExecution(pending.id, sandboxError("SandboxError", `never admitted: ${quotaMessage(outcome.refused.reason)}`), Date.now());
      return { action: "ack" };
    }
    return { action: "retry", delaySeconds: outcome.refused.retryAfterSeconds };
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

  // ---- RPC: events ----

  /**
   * `POST /api/events`: records the event and queues it for fan-out. The same idempotency key
   * within 24 h answers the first event's id and sends nothing.
   */
  async acceptEvent(tenantId: string, input: { type: string; payload: JsonValue; idempotencyKey?: string }): Promise<{ eventId: string; replayed: boolean }> {
    const tenant = await this.tenantRow(this.catalogue(tenantId));
    const now = Date.now();
    if (input.idempotencyKey !== undefined) {
      const first = this.events.eventForKey(input.idempotencyKey, now);
      if (first) return { eventId: first, replayed: true };
    }
    const message: EventMessage = { kind: "event", tenant: tenant.slug, id: newId("evt", now), type: input.type, payload: input.payload, depth: 0, publishedAt: now, source: "api", ...(input.idempotencyKey === undefined ? {} : { idempotencyKey: input.idempotencyKey }) };
    this.ctx.storage.transactionSync(() => {
      this.events.insertEvent({ id: message.id!, type: message.type, payload: message.payload as JsonValue, publishedAt: now, source: "api", depth: 0 });
      if (input.idempotencyKey !== undefined) this.events.rememberKey(input.idempotencyKey, message.id!, now + IDEMPOTENCY_TTL_MS);
      this.store.addToOutbox([JSON.stringify(message)], now);
    });
    await this.flushOutbox();
    return { eventId: message.id!, replayed: false };
  }

  /**
   * An `event` message from the queue: records the event (once), creates one delivery per
   * subscribed active script, and queues a `delivery` message for each new one. Safe to
   * receive twice.
   */
  async fanOut(tenantId: string, message: EventMessage): Promise<QueueVerdict> {
    const catalogue = this.catalogue(tenantId);
    const now = Date.now();
    let id = message.id;
    if (message.idempotencyKey !== undefined) {
      const first = this.events.eventForKey(message.idempotencyKey, now);
      if (first && first !== id) return { action: "ack" };
      id ??= first ?? undefined;
    }
    id ??= newId("evt", now);
    const eventId = id;
    const subscribers = (await catalogue.subscriptions()).filter((s) => subscribesAny(s.eventTypes, message.type));
    this.ctx.storage.transactionSync(() => {
      this.events.insertEvent({ id: eventId, type: message.type, payload: message.payload as JsonValue, publishedAt: message.publishedAt ?? now, source: message.source ?? "queue", depth: message.depth ?? 0 });
      if (message.idempotencyKey !== undefined) this.events.rememberKey(message.idempotencyKey, eventId, now + IDEMPOTENCY_TTL_MS);
      const deliveries = subscribers
        .filter((s) => this.events.insertDelivery(eventId, s.scriptId, now))
        .map((s): DeliveryMessage => ({ kind: "delivery", tenant: message.tenant, eventId, scriptId: s.scriptId }));
      this.store.addToOutbox(deliveries.map((d) => JSON.stringify(d)), now);
    });
    await this.flushOutbox();
    return { action: "ack" };
  }

  /**
   * A `delivery` message: runs the script for the event once. Completed deliveries are
   * acknowledged without running again; failures retry with backoff; NonRetriableError, a
   * missing or inactive script, or a sixth failed attempt become a dead letter.
   */
  async deliver(tenantId: string, message: DeliveryMessage, attempt: number): Promise<QueueVerdict> {
    const catalogue = this.catalogue(tenantId);
    const { eventId, scriptId } = message;
    const event = this.events.getEvent(eventId);
    const delivery = this.events.getDelivery(eventId, scriptId);
    if (!event || !delivery) return { action: "ack" };
    if (delivery.status === "completed" || delivery.status === "dead_lettered") return { action: "ack" };
    const key = `${eventId}/${scriptId}`;
    if (this.deliveriesInFlight.has(key)) return { action: "retry", delaySeconds: BUSY_DELIVERY_RETRY_SECONDS };
    // Claimed before the first await, so a copy of this message arriving meanwhile waits.
    this.deliveriesInFlight.add(key);
    try {
      const now = Date.now();
      const runnable = await catalogue.script(scriptId);
      if (!runnable || runnable.script.status !== "active") {
        const why = runnable ? `the script is ${runnable.script.status}` : "the script no longer exists";
        this.deadLetter(event, delivery, attempt, { name: "ScriptUnavailable", message: why });
        return { action: "ack" };
      }
      this.events.updateDelivery(eventId, scriptId, { status: "running", attempts: attempt }, now);
      const payload = { id: event.id, type: event.type, payload: event.payload, publishedAt: new Date(event.publishedAt).toISOString(), source: event.source };
      const outcome = await this.execute(catalogue, runnable, {
        trigger: "event",
        event: payload,
        recordedInput: payload,
        attempt,
        eventDepth: event.depth,
        delivery: { eventId, scriptId, deadLetterId: message.deadLetterId },
      });
      if ("refused" in outcome) {
        const refusal = { name: "QuotaExceededError", message: quotaMessage(outcome.refused.reason) };
        this.events.updateDelivery(eventId, scriptId, { status: "retrying", lastError: refusal }, Date.now());
        return this.retryOrDeadLetter(event, scriptId, attempt, refusal, outcome.refused.retryAfterSeconds);
      }
      const { execution } = outcome;
      if (execution.status === "completed") return { action: "ack" };
      const error = { name: execution.error?.name ?? "Error", message: execution.error?.message ?? execution.status };
      if (error.name === "NonRetriableError") {
        this.deadLetter(event, this.events.getDelivery(eventId, scriptId)!, attempt, error);
        return { action: "ack" };
      }
      this.events.updateDelivery(eventId, scriptId, { status: "retrying", lastError: error }, Date.now());
      return this.retryOrDeadLetter(event, scriptId, attempt, error);
    } finally {
      this.deliveriesInFlight.delete(key);
    }
  }

  /** The dead-letter queue's consumer: a delivery (or event) the queue gave up on. */
  async deadLettered(tenantId: string, message: QueueMessage, attempts: number): Promise<void> {
    this.catalogue(tenantId);
    const now = Date.now();
    if (message.kind === "delivery") {
      const event = this.events.getEvent(message.eventId);
      const delivery = this.events.getDelivery(message.eventId, message.scriptId);
      if (!event || !delivery || delivery.status === "completed" || delivery.status === "dead_lettered") return;
      this.deadLetter(event, delivery, attempts, delivery.lastError ?? { name: "DeliveryFailed", message: "the delivery failed every attempt" });
    } else if (message.kind === "event") {
      this.recordUndeliverable(message.id ?? newId("evt", now), message.type, message.payload as JsonValue, attempts, { name: "FanOutFailed", message: "the event could not be fanned out" });
    } else {
      this.store.cancelExecution(message.executionId, sandboxError("SandboxError", "the queued run could not be started"), now);
    }
  }

  /** A message naming this tenant that is not valid: kept as a dead letter with the reason. */
  async rejectMessage(tenantId: string, body: JsonValue, reason: string): Promise<void> {
    this.catalogue(tenantId);
    const type = body !== null && typeof body === "object" && !Array.isArray(body) && typeof body.type === "string" ? body.type.slice(0, 200) : null;
    this.recordUndeliverable(newId("evt"), type, body, 1, { name: "InvalidMessage", message: reason });
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

  /** Sends a dead letter again with a fresh retry budget; answers it as it is now. */
  async replayDeadLetter(tenantId: string, id: string): Promise<DeadLetter | null> {
    const tenant = await this.tenantRow(this.catalogue(tenantId));
    const replayed = this.replay(tenant.slug, [id]);
    await this.flushOutbox();
    return replayed === 0 ? null : this.events.getDeadLetter(id);
  }

  /** Bulk replay, by ids or by script and time: at most MAX_BULK_REPLAY a call. */
  async replayDeadLetters(tenantId: string, selection: { ids?: string[]; scriptId?: string; since?: number }): Promise<number> {
    const tenant = await this.tenantRow(this.catalogue(tenantId));
    const ids = selection.ids ?? this.events.listDeadLetters({ scriptId: selection.scriptId, since: selection.since, limit: MAX_BULK_REPLAY - 1 }).map((d) => d.id);
    const replayed = this.replay(tenant.slug, ids.slice(0, MAX_BULK_REPLAY));
    await this.flushOutbox();
    return replayed;
  }

  async deleteDeadLetter(tenantId: string, id: string): Promise<boolean> {
    this.catalogue(tenantId);
    return this.events.deleteDeadLetter(id);
  }

  // ---- alarm ----

  /** Due schedules, the outbox, then retention; then the next alarm. */
  override async alarm(): Promise<void> {
    this.alarmArmed = false;
    await this.runSchedules();
    await this.flushOutbox();
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

  /**
   * Admits, records `running`, runs in the sandbox, records the outcome (with the delivery
   * it completes and the events it published, in one transaction). Refused executions
   * record nothing.
   */
  private async execute(catalogue: Catalogue, runnable: RunnableScript, request: RunRequest): Promise<LiveRun> {
    const tenant = await this.tenantRow(catalogue);
    const limits = effectiveLimits(tenantLimits(tenant.limits), runnable.version.limits);
    this.dbQuotaBytes = limits.dbBytes;
    const admission = await this.ledger.admit(limits, () => this.sandbox.pool.hasRoomFor(tenant.id, limits));
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
      const completed = outcome.status === "completed";
      const published = completed ? host.outbox.map((event) => JSON.stringify(this.publishedMessage(tenant.slug, id, script.id, event))) : [];
      // The record, the delivery it completes and the events it published land together.
      this.ctx.storage.transactionSync(() => {
        this.store.finishExecution(id, { ...outcome, finishedAt, durationMs: finishedAt - startedAt });
        if (published.length > 0) this.store.addToOutbox(published, finishedAt);
        const delivery = request.delivery;
        if (delivery) {
          this.events.updateDelivery(delivery.eventId, delivery.scriptId, { status: completed ? "completed" : "running", executionId: id }, finishedAt);
          if (delivery.deadLetterId) this.events.setReplayExecution(delivery.deadLetterId, id);
        }
      });
      if (published.length > 0) await this.flushOutbox();
      // The first execution of a fresh runner arms retention.
      if (!this.alarmArmed) await this.scheduleAlarm();
      return { execution: this.store.getExecution(id)!, resultJson: result?.resultJson, sandboxMs: result?.durationMs ?? 0 };
    } finally {
      admission.release();
    }
  }

  private publishedMessage(tenant: string, executionId: string, scriptId: string, event: PublishedEvent): EventMessage {
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

  /** After a failed attempt: retry with backoff (at least `atLeastSeconds`), or, out of attempts, a dead letter. */
  private retryOrDeadLetter(event: { id: string; type: string; payload: JsonValue }, scriptId: string, attempt: number, error: { name: string; message: string }, atLeastSeconds = 0): QueueVerdict {
    const decision = afterFailure(attempt, retryBase(this.env));
    if (decision.action === "retry") return { action: "retry", delaySeconds: Math.max(decision.delaySeconds, atLeastSeconds) };
    this.deadLetter(event, this.events.getDelivery(event.id, scriptId)!, attempt, error);
    return { action: "ack" };
  }

  private deadLetter(event: { id: string; type: string; payload: JsonValue }, delivery: Delivery, attempts: number, error: { name: string; message: string }) {
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      this.events.recordDeadLetter({ id: newId("dlq", now), scriptId: delivery.scriptId, eventId: event.id, eventType: event.type, payload: event.payload, attempts, error, firstFailedAt: delivery.firstFailedAt ?? now, now });
      this.events.updateDelivery(event.id, delivery.scriptId, { status: "dead_lettered", attempts, lastError: error }, now);
    });
  }

  private recordUndeliverable(eventId: string, type: string | null, payload: JsonValue, attempts: number, error: { name: string; message: string }) {
    const now = Date.now();
    this.events.recordDeadLetter({ id: newId("dlq", now), scriptId: null, eventId, eventType: type, payload, attempts, error, firstFailedAt: now, now });
  }

  /** Queues dead letters again (delivery or, for an event that never fanned out, the event). */
  private replay(tenant: string, ids: string[]): number {
    const now = Date.now();
    let replayed = 0;
    this.ctx.storage.transactionSync(() => {
      for (const id of ids) {
        const letter = this.events.getDeadLetter(id);
        if (!letter) continue;
        let message: QueueMessage;
        if (letter.scriptId) {
          // A replay that already completed is not run again.
          if (this.events.getDelivery(letter.eventId, letter.scriptId)?.status === "completed") continue;
          this.events.resetDelivery(letter.eventId, letter.scriptId, now);
          message = { kind: "delivery", tenant, eventId: letter.eventId, scriptId: letter.scriptId, deadLetterId: letter.id };
        } else {
          if (letter.eventType === null) continue;
          message = { kind: "event", tenant, id: letter.eventId, type: letter.eventType, payload: letter.payload, source: "replay" };
        }
        this.events.markReplayed(id, now);
        this.store.addToOutbox([JSON.stringify(message)], now);
        replayed++;
      }
    });
    return replayed;
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
        await this.env.EVENTS.sendBatch(batch.map((row) => ({ body: JSON.parse(row.message) as QueueMessage, contentType: "json" as const })));
      } catch (error) {
        console.error("sending the outbox failed; the next alarm retries", error);
        await this.scheduleAlarm();
        return;
      }
      this.store.removeFromOutbox(batch.map((row) => row.seq));
    }
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

  /** Arms the alarm for the earliest of: the next due schedule, unsent outbox, retention. */
  private async scheduleAlarm() {
    const now = Date.now();
    const tenantId = this.store.getMeta("tenant_id");
    const schedules = tenantId ? await this.catalogue(tenantId).schedules().catch(() => []) : [];
    const nextSchedule = nextDueMinute(schedules, now);
    if (nextSchedule !== null) this.store.setMeta("schedule_minute", String(nextSchedule));
    const unsent = this.store.outboxBatch(1).length > 0 ? now + OUTBOX_RETRY_MS : undefined;
    const last = Number(this.store.getMeta("last_purge") ?? "0");
    const backlog = this.store.getMeta("purge_backlog") === "1";
    const purge = backlog ? now + 1_000 : this.store.hasExecutions() ? last + PURGE_INTERVAL_MS : undefined;
    const candidates = [nextSchedule ?? undefined, unsent, purge].filter((t): t is number => t !== undefined);
    if (candidates.length === 0) return;
    const next = Math.max(now, Math.min(...candidates));
    const current = await this.ctx.storage.getAlarm();
    // Keep an earlier alarm unless it is for a schedule minute that has passed unfired.
    if (current === null || current > next || current < minuteOf(now)) await this.ctx.storage.setAlarm(next);
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
