/**
 * What a Worker isolate tells a tenant's cell about the tenant's edge executions: their
 * records and refusals (for the tenant's history and metrics) and the leases it is done with. Sent after
 * the responses, batched per tenant — at most one cell call per FLUSH_INTERVAL_MS under
 * steady traffic, or sooner when MAX_BATCH records wait — so no request waits for its record. A crash of the isolate
 * loses at most the batch not sent yet (API.md §14).
 */
import type { LeaseUse } from "../tenant/edge-leases";
import type { EdgeRecord } from "../tenant/records";

/** A report after a quiet spell leaves this soon, so a lone request's record is in the history at once. */
export const FIRST_FLUSH_MS = 5;
/**
 * Under steady traffic, at most one report per this. Locally the cell shares the Worker's
 * thread and each report is a cell call and a commit: one every 5 ms (a report per request
 * at 1 in flight) cost 3–4 ms of every request's latency, one every 250 ms about half a
 * millisecond (bench scenario 16a). Still well inside the tail's 1 s and the history's 5 s.
 */
export const FLUSH_INTERVAL_MS = 250;

/** How long what is waiting stays before its report leaves: a moment after a quiet spell, else until FLUSH_INTERVAL_MS after the last report. */
export function flushDelay(now: number, lastSentAt: number | null): number {
  if (lastSentAt === null) return FIRST_FLUSH_MS;
  return Math.max(FIRST_FLUSH_MS, lastSentAt + FLUSH_INTERVAL_MS - now);
}

export const MAX_BATCH = 100;
/** Records kept while the cell cannot be reached; past this the oldest are dropped. */
const MAX_WAITING = 2_000;

export interface EdgeReport {
  records: EdgeRecord[];
  /** Executions refused here (for the cell's metrics: refusals count like in the cell). */
  refused: EdgeRefusal[];
  settled: LeaseUse[];
}

export interface EdgeRefusal {
  scriptId: string;
  at: number;
}

export class EdgeReporter {
  private records: EdgeRecord[] = [];
  private refused: EdgeRefusal[] = [];
  private flushing: Promise<void> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** The report timer's moment and the promise of its sending. */
  private scheduled: { at: number; sent: Promise<void>; resolve: () => void } | null = null;
  private lastSentAt: number | null = null;

  constructor(
    private readonly send: (report: EdgeReport) => Promise<void>,
    /** Leases to hand back with a report; `idle` when nothing of the tenant runs here. */
    private readonly settlements: (idle: boolean) => LeaseUse[],
    private readonly idle: () => boolean,
    private readonly now: () => number = Date.now,
  ) {}

  /** Queues a record; answers the promise of its sending (for `ctx.waitUntil`). */
  add(record: EdgeRecord): Promise<void> {
    this.records.push(record);
    return this.records.length >= MAX_BATCH ? this.flush() : this.flushSoon();
  }

  /** Queues a refusal (no record: nothing ran); kept like the records, at most MAX_WAITING. */
  addRefusal(refusal: EdgeRefusal): Promise<void> {
    if (this.refused.length < MAX_WAITING) this.refused.push(refusal);
    return this.flushSoon();
  }

  /**
   * Sends whatever is waiting (records, or only leases to settle) after `flushDelay`, or
   * `promptly` (FIRST_FLUSH_MS: an ended lease, whose slots the cell holds until it is settled).
   */
  flushSoon(promptly = false): Promise<void> {
    const delay = promptly ? FIRST_FLUSH_MS : flushDelay(this.now(), this.lastSentAt);
    const at = this.now() + delay;
    if (this.scheduled && this.scheduled.at <= at) return this.scheduled.sent;
    if (this.timer) clearTimeout(this.timer);
    let resolve!: () => void;
    const scheduled = this.scheduled ?? { at, sent: new Promise<void>((r) => (resolve = r)), resolve: () => resolve() };
    scheduled.at = at;
    this.scheduled = scheduled;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.scheduled = null;
      void this.flush().finally(scheduled.resolve);
    }, delay);
    return scheduled.sent;
  }

  /** Sends what is waiting now, one report at a time; a failed report's records are kept for the next. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    const records = this.records.splice(0, MAX_BATCH);
    const refused = this.refused.splice(0, this.refused.length);
    const settled = this.settlements(this.idle());
    if (records.length === 0 && refused.length === 0 && settled.length === 0) return;
    this.lastSentAt = this.now();
    this.flushing = this.send({ records, refused, settled }).catch((error) => {
      console.error("reporting edge executions to the cell failed; they are sent with the next report", error);
      this.records.unshift(...records);
      this.refused.unshift(...refused.slice(0, MAX_WAITING - this.refused.length));
      if (this.records.length > MAX_WAITING) {
        const dropped = this.records.splice(0, this.records.length - MAX_WAITING);
        console.error(`dropped ${dropped.length} edge execution records: the cell could not be reached`);
      }
    });
    try {
      await this.flushing;
    } finally {
      this.flushing = null;
    }
    if (this.records.length > 0) void this.flushSoon();
  }
}
