/**
 * A tenant as one Worker isolate serves it at the edge (API.md §14): its catalogue and
 * secrets cached for at most CACHE_TTL_MS, its admission spent from leases of its cell, its
 * records reported to the cell after the responses, and the executor with those ports. The
 * isolate's sandbox pool is the one the cells co-located here use too.
 */
import { openDb } from "../db/client";
import type { TenantRow } from "../db/schema";
import { edgeCpuMs } from "../domain/placement";
import { Executor, type ExecutionOutcome, type ExecutionRequest } from "../executor/executor";
import { isolateSandbox } from "../executor/isolate-sandbox";
import { runnerFor } from "../services/runner";
import type { CollectionsPort } from "../host/host-api";
import { Catalogue } from "../tenant/catalogue";
import { invokeEndpoint } from "../tenant/http-endpoint";
import type { HttpInvocation, HttpReply } from "../tenant/http-mapping";
import type { EdgeRecord, ExecutionRecord } from "../tenant/records";
import { CpuMeter } from "../tenant/quota-ledger";
import { SecretCache } from "../tenant/secret-cache";
import { EdgeAllowance, IDLE_SETTLE_MS } from "./allowance";
import { EdgeReporter } from "./reporter";

/** A change (a new version, a status, a secret) reaches every isolate within this. */
export const CACHE_TTL_MS = 5_000;

/** What a request's Worker context lends: work to finish after the response. */
export interface RequestContext {
  waitUntil(promise: Promise<unknown>): void;
}

export class EdgeTenant {
  private catalogueCache: { catalogue: Catalogue; until: number } | null = null;
  private secretsUntil = 0;
  private readonly secrets: SecretCache;
  readonly allowance: EdgeAllowance;
  private readonly reporter: EdgeReporter;
  private readonly executor: Executor;
  private running = 0;
  /** How much of this isolate's thread the tenant's executions took lately (fair share). */
  private readonly cpu = new CpuMeter();
  /** An ended lease waits to be settled: the next report leaves promptly. */
  private settleSoon = false;
  /** Each running execution's trace, from its start to its record. */
  private readonly traceIds = new Map<string, string>();

  constructor(
    private readonly env: Env,
    readonly tenantId: string,
    /** What the caches' 5 s are measured by (a test passes its own). */
    private readonly clock: () => number = Date.now,
  ) {
    const cell = () => runnerFor(this.env, this.tenantId);
    this.secrets = new SecretCache(() => openDb(this.env.DB), () => this.env);
    this.allowance = new EdgeAllowance(
      (want) => cell().edgeLease(want),
      Date.now,
      (leaseId, want) => cell().edgeOutbound(leaseId, want),
      {
        // Each request's own report (handOver) takes these: a request never waits on another's timers or calls.
        onEnded: () => void (this.settleSoon = true),
        onLeasedAhead: () => {},
      },
    );
    this.reporter = new EdgeReporter(
      (report) => cell().edgeReport(report),
      (idle) => this.allowance.settlements(idle),
      () => this.running === 0,
    );
    const sandbox = isolateSandbox();
    this.executor = new Executor({
      sandbox,
      limits: (limits) => ({ ...limits, cpuMs: Math.min(limits.cpuMs, edgeCpuMs(this.env)) }),
      admit: async (tenant, limits) => {
        if (!sandbox.pool.hasRoomFor(tenant.id, limits)) return { admitted: false, reason: "memory", retryAfterSeconds: 1 };
        const admission = await this.allowance.admit(limits);
        if (!admission.admitted) return admission;
        this.running += 1;
        return {
          admitted: true,
          release: () => {
            this.running -= 1;
            admission.release();
          },
        };
      },
      turn: async () => {
        // As in the cell: a tenant that kept this isolate's thread busy takes turns, so
        // another tenant's request waits at most for the one execution already running.
        const endTurn = await this.cpu.turn((ms) => scheduler.wait(ms));
        return (cpuMs) => {
          this.cpu.record(cpuMs);
          endTurn();
        };
      },
      services: (tenant, limits) => ({
        collections: remoteCollections((op, args) => cell().edgeDb(op, args, limits.dbBytes)),
        secret: (name) => this.freshSecrets().get(tenant.id, name),
        secretNames: () => this.freshSecrets().names(tenant.id),
        // The lease's outbound allowance: counted by the cell when lent (edge-leases.ts).
        outbound: { take: () => this.allowance.takeOutbound() },
        fetch: (input, init) => fetch(input, init),
      }),
      onRefused: (scriptId, at) => this.reporter.addRefusal({ scriptId, at }),
      records: {
        started: (row) => void this.traceIds.set(row.id, row.traceId),
        finished: (id, request, outcome) => this.finished(id, request, outcome),
      },
    });
  }

  /** A request to one of the tenant's endpoints, run here. */
  async invoke(tenant: TenantRow, invocation: HttpInvocation, ctx: RequestContext): Promise<HttpReply> {
    // A response that leaves early (a fetch handler's waitUntil work): the request's waitUntil keeps the isolate on it.
    const background = (rest: Promise<unknown>) =>
      ctx.waitUntil(rest.catch((error: unknown) => console.error("an edge execution failed after its response left", error)).then(() => this.handOver()));
    const reply = await invokeEndpoint(tenant, this.catalogue(), this.executor, invocation, { placement: "edge", background });
    ctx.waitUntil(this.handOver());
    return reply;
  }

  /**
   * After a request: records and refusals of finished executions go to the cell in a report
   * sent from this request (its own timer and call: Workers cancel a request that waits on
   * another's I/O, and a report sent from a canceled request never arrives); a lease left
   * idle goes back with a report once it has been idle a while.
   */
  private handOver(): Promise<unknown> {
    const promptly = this.settleSoon;
    this.settleSoon = false;
    const work: Promise<unknown>[] = [this.reporter.flushSoon(promptly)];
    if (this.allowance.holding) work.push(this.settleWhenIdle());
    return Promise.all(work);
  }

  /** Sends a report once the current lease has been idle for IDLE_SETTLE_MS, so it is settled (the records went already). */
  private async settleWhenIdle(): Promise<void> {
    await scheduler.wait(IDLE_SETTLE_MS);
    if (this.running === 0 && this.allowance.idleForMs() >= IDLE_SETTLE_MS) await this.reporter.flush();
  }

  /** The tenant's catalogue as this isolate caches it (CACHE_TTL_MS). */
  catalogue(): Catalogue {
    const now = this.clock();
    if (!this.catalogueCache || this.catalogueCache.until <= now) {
      this.catalogueCache = { catalogue: new Catalogue(openDb(this.env.DB), this.tenantId), until: now + CACHE_TTL_MS };
    }
    return this.catalogueCache.catalogue;
  }

  /** Drops what this isolate cached for the tenant: a write handled here is served at once. */
  invalidate() {
    this.catalogueCache = null;
    this.secrets.clear();
  }

  /** The secrets cache, emptied every CACHE_TTL_MS. */
  private freshSecrets(): SecretCache {
    const now = this.clock();
    if (this.secretsUntil <= now) {
      this.secrets.clear();
      this.secretsUntil = now + CACHE_TTL_MS;
    }
    return this.secrets;
  }

  /**
   * An edge execution ended: its record goes to the cell after the response, batched. Events
   * it published go to the cell now, before the response leaves: a 2xx never hides a lost
   * event.
   */
  private async finished(id: string, request: ExecutionRequest, outcome: ExecutionOutcome): Promise<ExecutionRecord> {
    const { script, version } = request.runnable;
    const startedAt = outcome.finishedAt - outcome.durationMs;
    const traceId = this.traceIds.get(id) ?? null;
    this.traceIds.delete(id);
    if (outcome.published.length > 0) await runnerFor(this.env, this.tenantId).edgePublish(outcome.published, `script:${script.id}:${id}`);
    const record: EdgeRecord = {
      id,
      scriptId: script.id,
      version: version.version,
      trigger: request.trigger,
      attempt: request.attempt ?? 1,
      input: request.recordedInput,
      startedAt,
      traceId,
      status: outcome.status,
      resultJson: outcome.resultJson,
      error: outcome.error,
      logs: outcome.logs,
      finishedAt: outcome.finishedAt,
      durationMs: outcome.durationMs,
      cpuMs: outcome.cpuMs,
      memoryBytes: outcome.memoryBytes,
      sdkCalls: outcome.sdkCalls,
      modules: outcome.modules,
      responseMs: outcome.responseMs,
    };
    this.reporter.add(record);
    return liveRecord(record);
  }
}

/** The record as the response needs it (the cell keeps the stored one). */
function liveRecord(record: EdgeRecord): ExecutionRecord {
  return {
    id: record.id,
    scriptId: record.scriptId,
    version: record.version,
    trigger: record.trigger,
    status: record.status,
    attempt: record.attempt,
    input: record.input as ExecutionRecord["input"],
    result: record.resultJson === undefined ? null : (JSON.parse(record.resultJson) as ExecutionRecord["result"]),
    error: record.error,
    logs: record.logs,
    startedAt: new Date(record.startedAt).toISOString(),
    finishedAt: new Date(record.finishedAt).toISOString(),
    durationMs: record.durationMs,
    cpuMs: record.cpuMs,
    memoryBytes: record.memoryBytes,
    sdkCalls: record.sdkCalls,
    traceId: record.traceId,
    modules: record.modules ?? [],
    ...(record.responseMs != null && { responseMs: record.responseMs }),
  };
}

/** `iota.db` from the edge: one cell call per operation (only for scripts placed at the edge by choice). */
type CollectionOp = keyof CollectionsPort;

function remoteCollections(call: (op: CollectionOp, args: unknown[]) => Promise<unknown>): CollectionsPort {
  const op = (name: CollectionOp) => (args: unknown[]) => call(name, args) as never;
  return { query: op("query"), get: op("get"), insert: op("insert"), update: op("update"), delete: op("delete"), count: op("count") };
}
