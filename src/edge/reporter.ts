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

/**
 * A report in flight longer than this is taken for lost: the request it was sent from ended
 * under it (its context canceled), and its records go back to be sent again (the cell
 * skips records it already has).
 */
const STUCK_MS = 10_000;
/** Reports one request sends while the cell cannot be reached, before leaving its records to the next request. */
const MAX_TRIES = 3;

/**
 * Workers forbid one request from waiting on another request's I/O: a request whose
 * `waitUntil` awaits a promise only another request's work can settle is taken for hung and
 * canceled, and a report sent from a canceled request never settles. So every request here
 * waits only on its own timer and its own report: whoever finds a report already in flight
 * leaves its records to that one, which keeps sending (from its own request) while records
 * wait. An earlier version shared one timer and one report promise among requests: a
 * canceled sender left every later report waiting for good (1 885 of 10 000 records reached
 * the history in a 16-in-flight run).
 */
export class EdgeReporter {
  private records: EdgeRecord[] = [];
  private refused: EdgeRefusal[] = [];
  /** The report being sent, by whichever request sends it, since when, and what it carries. */
  private sending: { since: number; report: EdgeReport | null } | null = null;
  private lastSentAt: number | null = null;

  constructor(
    private readonly send: (report: EdgeReport) => Promise<void>,
    /** Leases to hand back with a report; `idle` when nothing of the tenant runs here. */
    private readonly settlements: (idle: boolean) => LeaseUse[],
    private readonly idle: () => boolean,
    private readonly now: () => number = Date.now,
  ) {}

  /** Queues a record; the request's own `flushSoon` (or a report in flight) sends it. */
  add(record: EdgeRecord) {
    this.records.push(record);
  }

  /** Queues a refusal (no record: nothing ran); kept like the records, at most MAX_WAITING. */
  addRefusal(refusal: EdgeRefusal) {
    if (this.refused.length < MAX_WAITING) this.refused.push(refusal);
  }

  /**
   * Sends whatever is waiting (records, or only leases to settle) after `flushDelay`, or
   * `promptly` (FIRST_FLUSH_MS: an ended lease, whose slots the cell holds until it is
   * settled), on this request's own timer.
   */
  async flushSoon(promptly = false): Promise<void> {
    const delay = promptly || this.records.length >= MAX_BATCH ? FIRST_FLUSH_MS : flushDelay(this.now(), this.lastSentAt);
    await new Promise((resolve) => setTimeout(resolve, delay));
    await this.flush();
  }

  /**
   * Sends what is waiting now, from this request, and goes on (a report at most every
   * FLUSH_INTERVAL_MS) while records wait; returns at once when another request's report is
   * in flight, which takes this request's records too. A failed report's records are kept
   * and tried again (MAX_TRIES reports in all), then left for the next request.
   */
  async flush(): Promise<void> {
    const current = this.sending;
    if (current && this.now() - current.since < STUCK_MS) return;
    if (current?.report) this.putBack(current.report);
    const mine: { since: number; report: EdgeReport | null } = { since: this.now(), report: null };
    this.sending = mine;
    let failures = 0;
    try {
      for (let first = true; ; first = false) {
        if (!first) {
          if (this.records.length === 0) break;
          await new Promise((resolve) => setTimeout(resolve, flushDelay(this.now(), this.lastSentAt)));
          if (this.sending !== mine) return;
        }
        const report = { records: this.records.splice(0, MAX_BATCH), refused: this.refused.splice(0, this.refused.length), settled: this.settlements(this.idle()) };
        if (report.records.length === 0 && report.refused.length === 0 && report.settled.length === 0) break;
        this.lastSentAt = this.now();
        mine.since = this.lastSentAt;
        mine.report = report;
        try {
          await this.send(report);
        } catch (error) {
          console.error("reporting edge executions to the cell failed; they are sent with the next report", error);
          this.putBack(report);
          if (++failures >= MAX_TRIES) break;
        } finally {
          mine.report = null;
        }
      }
    } finally {
      if (this.sending === mine) this.sending = null;
    }
  }

  /** A report that did not arrive: its records and refusals wait again, ahead of the newer ones (at most MAX_WAITING). */
  private putBack(report: EdgeReport) {
    this.records.unshift(...report.records);
    this.refused.unshift(...report.refused.slice(0, Math.max(0, MAX_WAITING - this.refused.length)));
    if (this.records.length > MAX_WAITING) {
      const dropped = this.records.splice(0, this.records.length - MAX_WAITING);
      console.error(`dropped ${dropped.length} edge execution records: the cell could not be reached`);
    }
  }
}
