/**
 * A tenant's admission at the edge, in one Worker isolate: it spends allowances leased from
 * the tenant's cell (tenant/edge-leases.ts). The next lease is asked for ahead, when the
 * current one is near its end (a quarter of its executions left, or half a second), so a
 * tenant with steady traffic never has a request wait for the cell's round trip — locally
 * that round trip queues on the thread behind every other tenant's work; a request waits
 * for one (shared by every request waiting) only when no lease is held or usable. Leases it
 * is done with are handed back (`settled`) with the next report.
 */
import type { Admitted } from "../executor/executor";
import type { EdgeLease, LeaseAnswer, LeaseRequest, LeaseUse } from "../tenant/edge-leases";
import { QUEUE_WAIT_MS } from "../tenant/quota-ledger";

/** A lease this close to expiring is not started on (an execution admitted on it may outlive it; its slot is held until it ends anyway). */
const EXPIRY_MARGIN_MS = 100;
/**
 * A lease with nothing running goes back to the cell once it has been idle this long: long
 * enough that requests one after another reuse it (no cell round trip each), short enough
 * that its slots and unused executions are soon free for the tenant's other placements.
 */
export const IDLE_SETTLE_MS = 100;
/** How many outbound requests a lease asks for at first, and again each time they run out. */
const OUTBOUND_TOP_UP = 10;
/** A lease with this share of its executions left, or this close to expiring, has its successor asked for. */
const RENEW_AT_SHARE_LEFT = 0.25;
const RENEW_BEFORE_EXPIRY_MS = 500;
/** How many executions a lease asks for, at least and at most. */
const MIN_ASK = 8;
const MAX_ASK = 200;

interface Held {
  lease: EdgeLease;
  executions: number;
  outbound: number;
  running: number;
}

/** What the isolate's tenant is told, so leases do not stay held at the cell longer than they serve. */
export interface AllowanceEvents {
  /** A lease has ended: settle it soon (its slots are held at the cell until then). */
  onEnded?(): void;
  /** A lease asked for ahead has arrived: it too is settled once the tenant is idle here. */
  onLeasedAhead?(): void;
}

export class EdgeAllowance {
  private current: Held | null = null;
  /** The lease asked for ahead, used once the current one is not. */
  private next: Held | null = null;
  /** Leases no longer started on, waiting for their running executions to end. */
  private retiring: Held[] = [];
  /** Ended leases, ready to settle with the cell. */
  private ended: LeaseUse[] = [];
  private asking: Promise<LeaseAnswer> | null = null;
  /** Whether `asking` is the lease asked for ahead (no waiting; it becomes `next`). */
  private askingAhead = false;
  private toppingUp: Promise<number> | null = null;
  private lastUsed = 0;
  /** When an execution here last started or ended. */
  private lastActivity = 0;
  /** Requests of this isolate waiting in `admit`: how many slots the next lease asks for. */
  private waiting = 0;

  constructor(
    private readonly ask: (want: LeaseRequest) => Promise<LeaseAnswer>,
    private readonly clock: () => number = Date.now,
    /** More outbound requests for a lease whose own ran out (the cell answers how many). */
    private readonly topUp: (leaseId: string, want: number) => Promise<number> = async () => 0,
    private readonly events: AllowanceEvents = {},
  ) {}

  /**
   * Admits one execution on the current lease, leasing again when it is spent; or the cell's
   * refusal. Like a cell admission, it waits at most QUEUE_WAIT_MS for a slot.
   */
  async admit(limits: { concurrency: number }): Promise<Admitted> {
    const deadline = this.clock() + QUEUE_WAIT_MS;
    this.waiting += 1;
    try {
      for (;;) {
        const held = this.usable();
        if (held) {
          const admitted = this.take(held);
          this.renewAhead(limits, held);
          return admitted;
        }
        if (this.asking && this.askingAhead) {
          // The lease asked for ahead asks for no wait, and its refusal is not this request's: once it is in, look again.
          await this.asking.catch(() => undefined);
          continue;
        }
        const waitMs = deadline - this.clock();
        const answer = await this.lease(limits, Math.max(0, waitMs));
        if ("refused" in answer) return { admitted: false, ...answer.refused };
        // A lease granted meanwhile may have gone to other requests of this isolate: look again while time is left.
        if (waitMs <= 0 && !this.usable()) return { admitted: false, reason: "concurrency", retryAfterSeconds: 1 };
      }
    } finally {
      this.waiting -= 1;
    }
  }

  /**
   * One outbound request from the lease in use (the current one, else the last retiring),
   * topping it up from the cell when its own ran out: one cell round trip per OUTBOUND_TOP_UP,
   * shared by the requests waiting for it. False when the tenant's minute has none left.
   */
  async takeOutbound(): Promise<boolean> {
    for (let tries = 0; tries < 3; tries++) {
      const held = this.current ?? this.retiring.at(-1);
      if (!held) return false;
      if (held.outbound < held.lease.outbound) {
        held.outbound += 1;
        return true;
      }
      this.toppingUp ??= this.topUp(held.lease.id, OUTBOUND_TOP_UP)
        .then((granted) => {
          held.lease.outbound += granted;
          return granted;
        })
        .finally(() => (this.toppingUp = null));
      if ((await this.toppingUp) === 0) return false;
    }
    return false;
  }

  /** Leases to settle with the cell: those ended, and the current one once nothing has run on it for IDLE_SETTLE_MS (`idle`: nothing of the tenant runs here). */
  settlements(idle: boolean): LeaseUse[] {
    this.retire(idle && this.idleForMs() >= IDLE_SETTLE_MS);
    const out = this.ended;
    this.ended = [];
    return out;
  }

  /** How long since an execution here last started or ended. */
  idleForMs(): number {
    return this.clock() - this.lastActivity;
  }

  /** Whether a lease is held (running or not settled yet). */
  get holding(): boolean {
    return this.current !== null || this.next !== null || this.retiring.length > 0;
  }

  /** The lease to admit on: the current one while it has executions, a free slot and time; else the one asked for ahead. */
  private usable(): Held | null {
    for (;;) {
      const held = this.current;
      if (held) {
        const fresh = this.clock() < held.lease.expiresAt - EXPIRY_MARGIN_MS;
        if (fresh && held.executions < held.lease.executions && held.running < held.lease.slots) return held;
        // Only full (its slots taken) and no successor: wait for a slot on it or a new lease.
        if (fresh && held.executions < held.lease.executions && !this.next) return null;
        this.retireCurrent();
      }
      if (!this.next) return null;
      this.current = this.next;
      this.next = null;
    }
  }

  /** Asks for the next lease while this one still serves, when it is near its end; a refusal only means the next request asks. */
  private renewAhead(limits: { concurrency: number }, held: Held) {
    if (this.next || this.asking) return;
    const left = held.lease.executions - held.executions;
    if (left > held.lease.executions * RENEW_AT_SHARE_LEFT && held.lease.expiresAt - this.clock() > RENEW_BEFORE_EXPIRY_MS) return;
    // `next` is set before `asking` is cleared: no moment where neither says a lease is coming.
    this.askingAhead = true;
    this.asking = this.ask(this.wanted(Math.min(limits.concurrency, held.lease.slots), 0))
      .then((answer) => {
        if ("lease" in answer) {
          this.next = { lease: answer.lease, executions: 0, outbound: 0, running: 0 };
          this.events.onLeasedAhead?.();
        }
        return answer;
      })
      .finally(() => (this.asking = null));
    this.asking.catch((error: unknown) => console.error("asking the cell for the next edge lease failed; the next request asks again", error));
  }

  private wanted(slots: number, waitMs: number): LeaseRequest {
    const want = { executions: Math.min(MAX_ASK, Math.max(MIN_ASK, this.lastUsed * 2)), slots, outbound: OUTBOUND_TOP_UP, waitMs };
    this.lastUsed = 0;
    return want;
  }

  private take(held: Held): Admitted {
    held.executions += 1;
    held.running += 1;
    this.lastUsed += 1;
    this.lastActivity = this.clock();
    let released = false;
    return {
      admitted: true,
      release: () => {
        if (released) return;
        released = true;
        held.running -= 1;
        this.lastActivity = this.clock();
        this.retire(false);
      },
    };
  }

  /** Asks the cell for a lease sized on recent use and on the requests waiting; concurrent callers share the one request. */
  private async lease(limits: { concurrency: number }, waitMs: number): Promise<LeaseAnswer> {
    if (this.asking) return this.asking;
    // Slots for the requests waiting now; the current lease's running executions keep theirs.
    this.askingAhead = false;
    this.asking = this.ask(this.wanted(Math.min(limits.concurrency, Math.max(1, this.waiting)), waitMs)).finally(() => (this.asking = null));
    const answer = await this.asking;
    if ("lease" in answer) {
      this.retireCurrent();
      this.current = { lease: answer.lease, executions: 0, outbound: 0, running: 0 };
    }
    return answer;
  }

  private retireCurrent() {
    if (!this.current) return;
    this.retiring.push(this.current);
    this.current = null;
    // One with nothing running has ended: settled with the next report.
    this.retire(false);
  }

  /** Moves leases with nothing running (and, when `idle`, the current one and the one asked for ahead) to the ended list. */
  private retire(idle: boolean) {
    if (idle && this.current && this.current.running === 0) this.retireCurrent();
    if (idle && this.next) {
      this.retiring.push(this.next);
      this.next = null;
    }
    const still: Held[] = [];
    const endedBefore = this.ended.length;
    for (const held of this.retiring) {
      if (held.running > 0) still.push(held);
      else this.ended.push({ id: held.lease.id, executions: held.executions, outbound: held.outbound });
    }
    this.retiring = still;
    if (this.ended.length > endedBefore) this.events.onEnded?.();
  }
}
