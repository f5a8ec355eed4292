/**
 * The executor as the tenant's cell lends it its ports: admission by the cell's quota
 * ledger and the isolate pool's room, records in the cell's SQLite (with the delivery
 * outcome and the events an execution published, in one transaction), `iota.*` backed by
 * the cell's collections, secrets and outbound window, and turns on the thread for tenants
 * that kept it busy.
 */
import type { TenantRow } from "../db/schema";
import type { Limits } from "../domain/limits";
import { Executor, type ExecutionOutcome, type ExecutionRequest } from "../executor/executor";
import { TENANT_SANDBOX_SHARE_BYTES } from "../executor/isolate-sandbox";
import type { Sandbox } from "../sandbox/sandbox";
import type { Collections } from "../host/collections";
import type { Catalogue } from "./catalogue";
import type { Deliveries } from "./deliveries";
import type { CellMetrics } from "./metrics";
import type { CpuMeter, QuotaLedger } from "./quota-ledger";
import type { ExecutionRecord } from "./records";
import type { TenantStore } from "./store";

export interface CellParts {
  sandbox: Sandbox;
  store: TenantStore;
  ledger: QuotaLedger;
  cpu: CpuMeter;
  collections: Collections;
  deliveries: Deliveries;
  catalogue: () => Catalogue;
  transaction: <T>(fn: () => T) => T;
  /** A secret of the tenant, decrypted once per change. */
  secret: (tenantId: string, name: string) => Promise<string | null>;
  /** The names of the tenant's secrets, read once per change. */
  secretNames: (tenantId: string) => Promise<string[]>;
  /** Sets the `dbBytes` that iota.db checks synchronously (the running execution's). */
  setDbQuota: (bytes: number) => void;
  /** After every execution (the first of a fresh cell arms retention). */
  afterExecution: () => Promise<void>;
  metrics: CellMetrics;
  /** Every finished execution, as recorded: to the live tails. */
  finished: (record: ExecutionRecord) => void;
}

export function cellExecutor(cell: CellParts): Executor {
  return new Executor({
    sandbox: cell.sandbox,
    admit: async (tenant, limits) => {
      // Reserved with the admission: executions admitted together, not yet in the pool, cannot count on the same room.
      const memory = { bytes: limits.memoryBytes, budgetBytes: TENANT_SANDBOX_SHARE_BYTES };
      const admission = await cell.ledger.admit(limits, () => cell.sandbox.pool.hasRoomFor(tenant.id, limits), memory);
      return admission.admitted ? admission : { admitted: false, reason: admission.reason, retryAfterSeconds: admission.retryAfterSeconds };
    },
    services: (tenant: TenantRow, limits: Limits) => {
      cell.setDbQuota(limits.dbBytes);
      return { collections: cell.collections, secret: (name) => cell.secret(tenant.id, name), secretNames: () => cell.secretNames(tenant.id), outbound: { take: (limit: number) => cell.ledger.takeOutbound(limit) }, fetch: (input, init) => fetch(input, init) };
    },
    turn: async () => {
      // A tenant that kept the thread busy takes turns, letting whatever else waits go first.
      const endTurn = await cell.cpu.turn((ms) => scheduler.wait(ms));
      return (cpuMs) => {
        cell.cpu.record(cpuMs);
        endTurn();
      };
    },
    records: {
      started: (row, pending) => {
        if (pending) cell.store.markRunning(row.id, row.startedAt);
        else cell.store.insertExecution({ ...row, status: "running" });
      },
      finished: (id, request, outcome) => recordFinished(cell, id, request, outcome),
    },
    onFinished: (record) => {
      cell.metrics.soon();
      cell.finished(record);
    },
    onRefused: (scriptId, at) => cell.metrics.recordRefusal(scriptId, at),
  });
}

/**
 * The record, the delivery outcome it carries and the events it published (fanned out)
 * land in one transaction; then the outbox is on its way.
 */
async function recordFinished(cell: CellParts, id: string, request: ExecutionRequest, outcome: ExecutionOutcome): Promise<ExecutionRecord> {
  const { script } = request.runnable;
  const publishes = outcome.published.length > 0;
  const subscriptions = publishes ? await cell.deliveries.subscriptionsOf(cell.catalogue()) : null;
  const tenantSlug = (await cell.catalogue().tenant())?.slug;
  const created = cell.transaction(() => {
    cell.store.finishExecution(id, cell.metrics.nextSeq(), outcome);
    request.recorded?.({ executionId: id, status: outcome.status, error: outcome.error }, outcome.finishedAt);
    return publishes && tenantSlug ? cell.deliveries.recordPublished(tenantSlug, subscriptions, outcome.published, `script:${script.id}:${id}`, outcome.finishedAt) : 0;
  });
  if (publishes) await cell.deliveries.afterFanOut(created, subscriptions !== null, outcome.finishedAt);
  await cell.afterExecution();
  return cell.store.getExecution(id)!;
}
