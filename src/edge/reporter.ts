/**
 * What a Worker isolate tells a tenant's cell about the tenant's edge executions: their
 * records and refusals (for the tenant's history and metrics) and the leases it is done with. Sent after
 * the responses, batched per tenant — at most one cell call per FLUSH_DELAY_MS, or sooner
 * when MAX_BATCH records wait — so no request waits for its record. A crash of the isolate
 * loses at most the batch not sent yet (API.md §14).
 */
import type { LeaseUse } from "../tenant/edge-leases";
import type { EdgeRecord } from "../tenant/records";

export const FLUSH_DELAY_MS = 5;
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
  private scheduled: Promise<void> | null = null;

  constructor(
    private readonly send: (report: EdgeReport) => Promise<void>,
    /** Leases to hand back with a report; `idle` when nothing of the tenant runs here. */
    private readonly settlements: (idle: boolean) => LeaseUse[],
    private readonly idle: () => boolean,
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

  /** Sends within FLUSH_DELAY_MS whatever is waiting (records, or only leases to settle). */
  flushSoon(): Promise<void> {
    this.scheduled ??= new Promise<void>((resolve) => {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.scheduled = null;
        void this.flush().finally(resolve);
      }, FLUSH_DELAY_MS);
    });
    return this.scheduled;
  }

  /** Sends what is waiting now, one report at a time; a failed report's records are kept for the next. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    const records = this.records.splice(0, MAX_BATCH);
    const refused = this.refused.splice(0, this.refused.length);
    const settled = this.settlements(this.idle());
    if (records.length === 0 && refused.length === 0 && settled.length === 0) return;
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
