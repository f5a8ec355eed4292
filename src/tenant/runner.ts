import { DurableObject } from "cloudflare:workers";
import { openDb } from "../db/client";
import { tenantLimits, type Limits } from "../domain/limits";
import type { Executor, Refusal } from "../executor/executor";
import { isolateSandbox, TENANT_SANDBOX_SHARE_BYTES } from "../executor/isolate-sandbox";
import { queueMessage, type QueueMessage } from "../events/messages";
import { newId } from "../lib/ids";
import type { JsonValue } from "../lib/json";
import { Collections } from "../host/collections";
import type { PublishedEvent } from "../host/host-api";
import { Catalogue, type InvalidateScope, type RunnableScript } from "./catalogue";
import { cellExecutor } from "./cell-executor";
import { Deliveries, type TenantCell } from "./deliveries";
import { type DeadLetterFilter, type Delivery, EventStore } from "./event-store";
import { EdgeLeases, type LeaseAnswer, type LeaseRequest, type LeaseUse } from "./edge-leases";
import { invokeEndpoint } from "./http-endpoint";
import type { HttpInvocation, HttpReply } from "./http-mapping";
import { Maintenance } from "./maintenance";
import { Outbox, type RefusalReason } from "./outbox";
import { platformRetryDelay, QueuedRuns, type QueueVerdict } from "./queued-runs";
import { CpuMeter, QUEUE_WAIT_MS, QuotaLedger } from "./quota-ledger";
import { rateBuckets } from "./rate-buckets";
import type { DeadLetter, EdgeRecord, ExecutionRecord } from "./records";
import { SecretCache } from "./secret-cache";
import { type ExecutionFilter, TenantStore } from "./store";
import { CellMetrics } from "./metrics";
import type { ScriptTotals } from "../observability/rollup";
import { parseTraceparent, publisherTraceparent, startTrace } from "../observability/trace";
import type { MetricsWindow } from "../observability/window";
import type { TailFilter } from "../observability/tail";
import { parseTicket, TAIL_HEADERS, TailTickets, Tails } from "./tails";
import { errorBody } from "../domain/errors";
import type { EdgeReport } from "../edge/reporter";

export { quotaMessage } from "./quota-ledger";
export type { QueueVerdict } from "./queued-runs";
export type { Refusal } from "../executor/executor";

/** Dead letters replayed per bulk call, at most. */
export const MAX_BULK_REPLAY = 500;

export type RunResult = { execution: ExecutionRecord } | Refusal;

export interface ManualRun {
  scriptId: string;
  version?: number;
  input?: JsonValue;
  async?: boolean;
  /** The caller's W3C `traceparent`, if it sent one. */
  traceparent?: string;
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
  /** The trace the event was published in (its deliveries' executions share it). */
  traceId: string | null;
  deliveries: Array<{ scriptId: string; status: Delivery["status"]; attempts: number; executionId: string | null }>;
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
  /** The isolate's pool, shared with every cell co-located here (executor/isolate-sandbox.ts). */
  protected readonly sandbox = isolateSandbox();
  private readonly collections: Collections;
  private readonly secrets: SecretCache;
  private readonly outbox: Outbox;
  private readonly deliveries: Deliveries;
  private readonly runs: QueuedRuns;
  private readonly maintenance: Maintenance;
  private readonly executor: Executor;
  private readonly metrics: CellMetrics;
  private readonly tails: Tails;
  private readonly tickets: TailTickets;
  private readonly leases: EdgeLeases;
  private catalogueCache: Catalogue | null = null;
  /** The tenant's `dbBytes`, as of the running execution (iota.db checks it synchronously). */
  private dbQuotaBytes = Number.MAX_SAFE_INTEGER;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    this.store = new TenantStore(sql);
    // Synchronous, before anything reads a table.
    this.store.migrate();
    this.events = new EventStore(sql);
    const transactionSync = <T>(fn: () => T): T => ctx.storage.transactionSync(fn);
    this.metrics = new CellMetrics(sql, transactionSync, { get: (key) => this.store.getMeta(key), set: (key, value) => this.store.setMeta(key, value) });
    this.tails = new Tails(ctx);
    this.tickets = new TailTickets(sql);
    this.ledger = new QuotaLedger(Date.now, QUEUE_WAIT_MS, { executions: rateBuckets(sql, "executions"), outbound: rateBuckets(sql, "outbound") });
    this.leases = new EdgeLeases(this.ledger);
    this.collections = new Collections(sql, () => this.dbQuotaBytes);
    this.secrets = new SecretCache(() => openDb(this.env.DB), () => this.env);
    const transaction = <T>(fn: () => T): T => ctx.storage.transactionSync(fn);
    const cell = { transaction, env: () => this.env, wakeBy: (at: number) => this.maintenance.wakeBy(at), sendSoon: () => this.ctx.waitUntil(this.outbox.flush()) };
    this.outbox = new Outbox({ sql, queue: () => this.env.EVENTS, transaction, refused: (body, reason) => this.abandon(body, reason) });
    this.deliveries = new Deliveries({ ...cell, events: this.events, outbox: this.outbox });
    this.runs = new QueuedRuns({ ...cell, store: this.store, outbox: this.outbox });
    this.executor = cellExecutor({
      sandbox: this.sandbox,
      store: this.store,
      ledger: this.ledger,
      cpu: new CpuMeter(),
      collections: this.collections,
      deliveries: this.deliveries,
      catalogue: () => this.knownCatalogue()!,
      transaction,
      secret: (tenantId, name) => this.secrets.get(tenantId, name),
      secretNames: (tenantId) => this.secrets.names(tenantId),
      setDbQuota: (bytes) => (this.dbQuotaBytes = bytes),
      afterExecution: () => this.maintenance.afterExecution(),
      metrics: this.metrics,
      finished: (record) => this.tails.publish(record),
    });
    this.maintenance = new Maintenance({
      store: this.store,
      events: this.events,
      outbox: this.outbox,
      deliveries: this.deliveries,
      runs: this.runs,
      metrics: this.metrics,
      storage: ctx.storage,
      env: () => this.env,
      catalogue: () => this.knownCatalogue(),
      tenantCell: (catalogue) => this.tenantCell(catalogue),
      executor: () => this.executor,
    });
    void ctx.blockConcurrencyWhile(async () => {
      // Nothing survives a restart: what was running belongs to a previous life.
      this.store.failOrphanedExecutions(Date.now(), () => this.metrics.nextSeq());
      this.deliveries.recoverInterrupted();
      await this.maintenance.start();
    });
  }

  // ---- RPC: http, manual runs, executions ----

  /** A request to one of the tenant's http endpoints (`ANY /t/:tenant/*`). */
  async invokeHttp(tenantId: string, invocation: HttpInvocation): Promise<HttpReply> {
    const catalogue = this.catalogue(tenantId);
    const tenant = await this.tenantRow(catalogue);
    return invokeEndpoint(tenant, catalogue, this.executor, invocation, {
      forRequest: (runnable, request) => this.forRequest(runnable, request),
      afterRequest: (runnable) => this.afterRequest(runnable),
      // The RPC answers with the response; the execution's waitUntil work goes on in the cell.
      background: (rest) => this.ctx.waitUntil(rest),
    });
  }

  /**
   * `POST /api/scripts/:id/run`: runs now and answers the record (failures included), or
   * with `async` records it `pending` and queues it. Only admission refuses.
   */
  async runManual(tenantId: string, run: ManualRun): Promise<RunResult | { pending: ExecutionRecord } | { notFound: true } | { noRunHandler: string[] }> {
    const catalogue = this.catalogue(tenantId);
    const runnable = await catalogue.script(run.scriptId, run.version);
    if (!runnable) return { notFound: true };
    // A handler object without `run` cannot be run by hand (API.md §13): refused before anything is recorded.
    const shape = runnable.compiled.ok ? runnable.compiled.script.shape : undefined;
    if (shape?.form === "object" && shape.handlers !== null && !shape.handlers.includes("run")) return { noRunHandler: shape.handlers };
    const tenant = await this.tenantRow(catalogue);
    const event = { input: run.input ?? null };
    const trace = parseTraceparent(run.traceparent);
    if (run.async) {
      const traceId = (trace ?? startTrace()).traceId;
      return { pending: await this.runs.accept(tenant.slug, { scriptId: runnable.script.id, version: runnable.version.version, input: event, traceId }) };
    }
    const outcome = await this.executor.execute(tenant, { runnable, trigger: "manual", event, recordedInput: event, trace });
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
    if (scope.secrets) this.secrets.clear();
    // A saved, paused or archived scheduled script moves the next alarm.
    await this.maintenance.scheduleAlarm();
  }

  // ---- RPC: events (the logic is in deliveries.ts) ----

  /**
   * `POST /api/events`: records the event and its deliveries (with their messages) in one
   * transaction. The same idempotency key within 24 h answers the first event's id and
   * sends nothing.
   */
  async acceptEvent(tenantId: string, input: { type: string; payload: JsonValue; idempotencyKey?: string; traceparent?: string }): Promise<{ eventId: string; replayed: boolean }> {
    const tenant = await this.tenantCell(this.catalogue(tenantId));
    const now = Date.now();
    const event = { id: newId("evt", now), type: input.type, payload: input.payload, publishedAt: now, source: "api", depth: 0, traceparent: publisherTraceparent(input.traceparent) };
    return this.deliveries.accept(tenant, event, input.idempotencyKey);
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
      traceId: parseTraceparent(event.traceparent)?.traceId ?? null,
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

  // ---- RPC: observability (metrics.ts, tails.ts) ----

  /**
   * The rollups of one script (or, for `TENANT_SCOPE`, the whole tenant) over a window, as
   * the JSON text of the points: 1 440 of them cross to the Worker as one string, not as
   * thousands of objects to clone and serialise again.
   */
  async metricsJson(tenantId: string, scope: string, window: MetricsWindow): Promise<string> {
    this.catalogue(tenantId);
    return this.metrics.pointsJson(scope, window);
  }

  /** Each script's totals over a window, the busiest or the most failing first. */
  async scriptTotals(tenantId: string, window: MetricsWindow, sort: "invocations" | "errors", limit: number): Promise<ScriptTotals[]> {
    this.catalogue(tenantId);
    return this.metrics.topScripts(window, sort, limit);
  }

  /** A single-use ticket for a WebSocket tail (TAIL_TICKET_TTL_MS). */
  async issueTailTicket(tenantId: string): Promise<{ ticket: string; expiresAt: string }> {
    this.catalogue(tenantId);
    return this.tickets.issue(tenantId);
  }

  /**
   * A live tail (`GET /api/tail`, handed over by the Worker with TAIL_HEADERS): an SSE
   * stream, or a WebSocket (with a ticket, redeemed here once). The only request the cell
   * takes by fetch: streams and sockets do not cross RPC.
   */
  override async fetch(request: Request): Promise<Response> {
    const tenantId = request.headers.get(TAIL_HEADERS.tenant);
    if (!tenantId) return Response.json(errorBody("not_found", "no such route"), { status: 404 });
    this.catalogue(tenantId);
    const ticket = request.headers.get(TAIL_HEADERS.ticket);
    if (ticket !== null) {
      const parsed = parseTicket(ticket);
      if (!parsed || parsed.tenantId !== tenantId || !(await this.tickets.redeem(parsed.secret))) {
        return Response.json(errorBody("unauthorized", "the tail ticket is unknown, used or expired"), { status: 401 });
      }
    }
    const filter = JSON.parse(request.headers.get(TAIL_HEADERS.filter) ?? "{}") as TailFilter;
    return this.tails.open(request, filter);
  }

  /** A tail's socket only listens (`ping` is answered by the runtime); anything else it sends is ignored. */
  override async webSocketMessage(): Promise<void> {}

  override async webSocketClose(ws: WebSocket): Promise<void> {
    this.tails.closed(ws);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.tails.closed(ws);
  }

  // ---- RPC: the edge (API.md §14; edge-leases.ts, src/edge/) ----

  /** An edge isolate asks for allowances: executions, concurrency slots and outbound requests. */
  async edgeLease(tenantId: string, want: LeaseRequest): Promise<LeaseAnswer> {
    const tenant = await this.tenantRow(this.catalogue(tenantId));
    return this.leases.grant(tenantLimits(tenant.limits), want);
  }

  /** An edge isolate's lease ran out of outbound requests: up to `want` more, from what the minute has left. */
  async edgeOutbound(tenantId: string, leaseId: string, want: number): Promise<number> {
    const tenant = await this.tenantRow(this.catalogue(tenantId));
    return this.leases.topUpOutbound(tenantLimits(tenant.limits), leaseId, want);
  }

  /** An edge isolate's report, after its responses: the executions it ran, those it refused, and the leases it is done with. */
  async edgeReport(tenantId: string, report: EdgeReport): Promise<void> {
    this.catalogue(tenantId);
    for (const use of report.settled) this.leases.settle(use);
    const stored = this.ctx.storage.transactionSync(() => report.records.filter((record) => this.store.insertFinished(record, () => this.metrics.nextSeq())));
    for (const { scriptId, at } of report.refused) this.metrics.recordRefusal(scriptId, at);
    if (stored.length > 0 || report.refused.length > 0) this.metrics.soon();
    // The tails see edge executions as they reach the cell (after their responses); read back only when someone watches.
    if (this.tails.count > 0) for (const record of stored) this.tails.publish(this.store.getExecution(record.id)!);
    await this.maintenance.afterExecution();
  }

  /** Events an edge execution published: recorded and fanned out before its response leaves the Worker. */
  async edgePublish(tenantId: string, events: PublishedEvent[], source: string): Promise<void> {
    const tenant = await this.tenantCell(this.catalogue(tenantId));
    const subscriptions = await this.deliveries.subscriptionsOf(tenant.catalogue);
    const now = Date.now();
    const created = this.ctx.storage.transactionSync(() => this.deliveries.recordPublished(tenant.slug, subscriptions, events, source, now));
    await this.deliveries.afterFanOut(created, subscriptions !== null, now);
  }

  /** One `iota.db` operation of a script placed at the edge by choice. */
  async edgeDb(tenantId: string, op: "query" | "get" | "insert" | "update" | "delete" | "count", args: unknown[], dbBytes: number): Promise<unknown> {
    this.catalogue(tenantId);
    this.dbQuotaBytes = dbBytes;
    return this.collections[op](args);
  }

  // ---- alarm (maintenance.ts) ----

  override async alarm(): Promise<void> {
    await this.maintenance.alarm();
  }

  /**
   * The script as one http request runs it: the cached, compiled one. The benchmark's
   * subclass (bench/worker.ts) overrides these two to measure cold starts.
   */
  protected forRequest(runnable: RunnableScript, _invocation: HttpInvocation): RunnableScript {
    return runnable;
  }

  protected afterRequest(_runnable: RunnableScript): void {}

  // ---- the tenant this cell serves ----

  /** The tenant's catalogue; the first call names the tenant, which the cell then keeps for its alarms. */
  private catalogue(tenantId: string): Catalogue {
    if (this.catalogueCache?.tenantId === tenantId) return this.catalogueCache;
    const known = this.store.getMeta("tenant_id");
    if (known !== null && known !== tenantId) throw new Error("this runner belongs to another tenant");
    if (known === null) this.store.setMeta("tenant_id", tenantId);
    this.catalogueCache = new Catalogue(openDb(this.env.DB), tenantId);
    return this.catalogueCache;
  }

  /** The catalogue of the tenant this cell already serves (for its alarm), or null. */
  private knownCatalogue(): Catalogue | null {
    const tenantId = this.catalogueCache?.tenantId ?? this.store.getMeta("tenant_id");
    return tenantId === null ? null : this.catalogue(tenantId);
  }

  private async tenantRow(catalogue: Catalogue) {
    const tenant = await catalogue.tenant();
    if (!tenant) throw new Error("tenant not found");
    return tenant;
  }

  /** The tenant as deliveries see it: its slug, catalogue, concurrency, and the executor. */
  private async tenantCell(catalogue: Catalogue): Promise<TenantCell> {
    const tenant = await this.tenantRow(catalogue);
    const limits = tenantLimits(tenant.limits);
    return {
      slug: tenant.slug,
      catalogue,
      // As many as the tenant may run at once and its share of sandbox memory holds: a queued delivery does not wait on admission.
      lanes: Math.max(1, Math.min(limits.concurrency, Math.floor(TENANT_SANDBOX_SHARE_BYTES / limits.memoryBytes))),
      run: (runnable, attempt) =>
        this.executor.execute(tenant, {
          runnable,
          trigger: "event",
          event: attempt.event,
          recordedInput: attempt.event,
          attempt: attempt.attempt,
          eventDepth: attempt.eventDepth,
          trace: attempt.trace,
          recorded: attempt.finished,
        }),
    };
  }

  private tenantRuns(tenant: TenantCell) {
    return {
      slug: tenant.slug,
      catalogue: tenant.catalogue,
      run: async (runnable: RunnableScript, pending: { id: string; input: JsonValue; traceId: string | null }) =>
        this.executor.execute(await this.tenantRow(tenant.catalogue), {
          runnable,
          trigger: "manual",
          event: pending.input,
          recordedInput: pending.input,
          pendingId: pending.id,
          // The trace the run was accepted in (a new one for runs accepted before traces existed).
          trace: pending.traceId ? { traceId: pending.traceId, parentSpanId: null, sampled: true } : null,
        }),
    };
  }

  /** A message the outbox will never get onto the queue: a dead letter (or a cancelled run) with the reason. Inside the outbox's transaction. */
  private abandon(body: unknown, reason: RefusalReason) {
    const parsed = queueMessage.safeParse(body);
    if (parsed.success && parsed.data.kind === "run") this.runs.abandon(parsed.data, reason.message);
    else this.deliveries.abandon(body, reason);
  }
}
