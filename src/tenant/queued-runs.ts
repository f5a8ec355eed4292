/**
 * Manual runs accepted with `?async=true` (API.md §7): recorded `pending` together with a
 * `run` message in the outbox, run once when a message for them arrives (a copy arriving
 * while one runs is acknowledged), retried after Retry-After when admission refuses them,
 * and `cancelled` after MAX_RETRIES refusals. The alarm's sweep sends the message again for
 * a run still pending SWEEP_GRACE_MS after it was accepted (lost by the queue, or by a crash).
 */
import type { RunMessage } from "../events/messages";
import { afterFailure, MAX_RETRIES, retryBase } from "../events/retry-policy";
import { newId } from "../lib/ids";
import type { JsonValue } from "../lib/json";
import { sandboxError } from "../sandbox/errors";
import type { Catalogue, RunnableScript } from "./catalogue";
import { SWEEP_GRACE_MS } from "./deliveries";
import type { Outbox } from "./outbox";
import { quotaMessage } from "./quota-ledger";
import type { ExecutionRecord } from "./records";
import type { TenantStore } from "./store";

/** What the queue consumer does with a message once the cell has handled it. */
export type QueueVerdict = { action: "ack" } | { action: "retry"; delaySeconds: number };

const SWEEP_BATCH = 500;

export interface RunServices {
  store: TenantStore;
  outbox: Outbox;
  transaction: <T>(fn: () => T) => T;
  env: () => { RETRY_BASE_SECONDS?: string };
  wakeBy: (at: number) => Promise<void>;
  sendSoon: () => void;
}

export interface TenantRuns {
  slug: string;
  catalogue: Catalogue;
  /** Runs the pending execution `pendingId` (its record becomes running, then ends). */
  run: (runnable: RunnableScript, pending: { id: string; input: JsonValue; traceId: string | null }) => Promise<{ refused: { reason: "rate" | "concurrency" | "memory"; retryAfterSeconds: number } } | object>;
}

export class QueuedRuns {
  /** Runs being handled by this object now: a copy of their message arriving meanwhile is acknowledged. */
  private readonly inFlight = new Set<string>();

  constructor(private readonly services: RunServices) {}

  /** Records the run pending and its message, together; answers the record. */
  async accept(slug: string, run: { scriptId: string; version: number; input: JsonValue; traceId: string }): Promise<ExecutionRecord> {
    const now = Date.now();
    const id = newId("exe", now);
    const message: RunMessage = { kind: "run", tenant: slug, executionId: id };
    this.services.transaction(() => {
      this.services.store.insertExecution({ id, scriptId: run.scriptId, version: run.version, trigger: "manual", status: "pending", attempt: 1, input: run.input, startedAt: now, traceId: run.traceId });
      this.services.outbox.add([message], now);
    });
    await this.services.wakeBy(now + SWEEP_GRACE_MS);
    this.services.sendSoon();
    return this.services.store.getExecution(id)!;
  }

  /** A `run` message: runs the execution if it is still pending and not already being run here. */
  async receive(tenant: TenantRuns, message: RunMessage, attempts: number): Promise<QueueVerdict> {
    const { store } = this.services;
    const id = message.executionId;
    const pending = store.getExecution(id);
    if (!pending || pending.status !== "pending" || this.inFlight.has(id)) return { action: "ack" };
    this.inFlight.add(id);
    try {
      const runnable = await tenant.catalogue.script(pending.scriptId, pending.version);
      if (!runnable) {
        store.cancelExecution(id, sandboxError("SandboxError", "the script version no longer exists"), Date.now());
        return { action: "ack" };
      }
      const outcome = await tenant.run(runnable, { id, input: pending.input, traceId: pending.traceId });
      if (!("refused" in outcome)) return { action: "ack" };
      if (attempts > MAX_RETRIES) {
        store.cancelExecution(id, sandboxError("SandboxError", `never admitted: ${quotaMessage(outcome.refused.reason)}`), Date.now());
        return { action: "ack" };
      }
      return { action: "retry", delaySeconds: outcome.refused.retryAfterSeconds };
    } finally {
      this.inFlight.delete(id);
    }
  }

  /** A run message the queue gave up on or would not take: the run ends cancelled. */
  abandon(message: RunMessage, reason: string) {
    this.services.store.cancelExecution(message.executionId, sandboxError("SandboxError", reason), Date.now());
  }

  /** Sends again the message of every run pending for longer than SWEEP_GRACE_MS. */
  async sweep(slug: string) {
    const now = Date.now();
    const ids = this.services.store.pendingRunsBefore(now - SWEEP_GRACE_MS, SWEEP_BATCH).filter((id) => !this.inFlight.has(id));
    if (ids.length === 0) return;
    this.services.outbox.add(
      ids.map((executionId): RunMessage => ({ kind: "run", tenant: slug, executionId })),
      now,
    );
    await this.services.wakeBy(now + SWEEP_GRACE_MS);
  }

  /** When a pending run next needs the sweep, or null. */
  nextSweepAt(): number | null {
    const oldest = this.services.store.oldestPendingRun();
    return oldest === null ? null : Math.max(oldest + SWEEP_GRACE_MS, Date.now() + SWEEP_GRACE_MS / 2);
  }
}

/** How long the queue waits before redelivering a message the cell failed to handle (a platform error). */
export function platformRetryDelay(attempts: number, env: { RETRY_BASE_SECONDS?: string }): number {
  const decision = afterFailure(attempts, retryBase(env));
  return decision.action === "retry" ? decision.delaySeconds : 0;
}
