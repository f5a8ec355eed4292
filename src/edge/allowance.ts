/**
 * A tenant's admission at the edge, in one Worker isolate: it spends allowances leased from
 * the tenant's cell (tenant/edge-leases.ts) and asks for a new lease — one cell round trip,
 * shared by every request waiting for it — only when the current one is used up or about to
 * expire. Leases it is done with are handed back (`settled`) with the next report.
 */
import type { Admitted } from "../executor/executor";
import type { EdgeLease, LeaseAnswer, LeaseRequest, LeaseUse } from "../tenant/edge-leases";

/** A lease this close to expiring is not started on (an execution admitted on it may outlive it; its slot is held until it ends anyway). */
const EXPIRY_MARGIN_MS = 100;
/** How many executions a lease asks for, at least and at most. */
const MIN_ASK = 8;
const MAX_ASK = 200;

interface Held {
  lease: EdgeLease;
  executions: number;
  outbound: number;
  running: number;
}

export class EdgeAllowance {
  private current: Held | null = null;
  /** Leases no longer started on, waiting for their running executions to end. */
  private retiring: Held[] = [];
  /** Ended leases, ready to settle with the cell. */
  private ended: LeaseUse[] = [];
  private asking: Promise<LeaseAnswer> | null = null;
  private lastUsed = 0;

  constructor(
    private readonly ask: (want: LeaseRequest) => Promise<LeaseAnswer>,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Admits one execution on the current lease, leasing again when it is spent; or the cell's refusal. */
  async admit(limits: { concurrency: number }): Promise<Admitted> {
    for (let tries = 0; tries < 3; tries++) {
      const held = this.usable();
      if (held) return this.take(held);
      const answer = await this.lease(limits);
      if ("refused" in answer) return { admitted: false, ...answer.refused };
    }
    // Leases granted meanwhile went to other requests of this isolate: the tenant is busy here.
    return { admitted: false, reason: "concurrency", retryAfterSeconds: 1 };
  }

  /** One outbound request from the current lease; false when the lease has none left. */
  takeOutbound(): boolean {
    const held = this.current;
    if (!held || held.outbound >= held.lease.outbound) return false;
    held.outbound += 1;
    return true;
  }

  /** Leases to settle with the cell: those ended, and the current one once it is idle (`idle`). */
  settlements(idle: boolean): LeaseUse[] {
    this.retire(idle);
    const out = this.ended;
    this.ended = [];
    return out;
  }

  /** Whether a lease is held (running or not settled yet). */
  get holding(): boolean {
    return this.current !== null || this.retiring.length > 0;
  }

  private usable(): Held | null {
    const held = this.current;
    if (!held) return null;
    const fresh = this.clock() < held.lease.expiresAt - EXPIRY_MARGIN_MS;
    if (fresh && held.executions < held.lease.executions && held.running < held.lease.slots) return held;
    if (!fresh || held.executions >= held.lease.executions) this.retireCurrent();
    return null;
  }

  private take(held: Held): Admitted {
    held.executions += 1;
    held.running += 1;
    this.lastUsed += 1;
    let released = false;
    return {
      admitted: true,
      release: () => {
        if (released) return;
        released = true;
        held.running -= 1;
        this.retire(false);
      },
    };
  }

  /** Asks the cell for a lease sized on recent use; concurrent callers share the one request. */
  private async lease(limits: { concurrency: number }): Promise<LeaseAnswer> {
    if (!this.asking) {
      const running = (this.current?.running ?? 0) + this.retiring.reduce((n, h) => n + h.running, 0);
      const want: LeaseRequest = {
        executions: Math.min(MAX_ASK, Math.max(MIN_ASK, this.lastUsed * 2)),
        slots: Math.min(limits.concurrency, running + 1),
        outbound: 10,
      };
      this.lastUsed = 0;
      this.asking = this.ask(want).finally(() => (this.asking = null));
      const answer = await this.asking;
      if ("lease" in answer) {
        this.retireCurrent();
        this.current = { lease: answer.lease, executions: 0, outbound: 0, running: 0 };
      }
      return answer;
    }
    return this.asking;
  }

  private retireCurrent() {
    if (this.current) this.retiring.push(this.current);
    this.current = null;
  }

  /** Moves leases with nothing running (and, when `idle`, the current one too) to the ended list. */
  private retire(idle: boolean) {
    if (idle && this.current && this.current.running === 0) this.retireCurrent();
    const still: Held[] = [];
    for (const held of this.retiring) {
      if (held.running > 0) still.push(held);
      else this.ended.push({ id: held.lease.id, executions: held.executions, outbound: held.outbound });
    }
    this.retiring = still;
  }
}
