/**
 * Allowances the tenant's cell lends the edge (API.md §14). Per-tenant rate and concurrency
 * have one source of truth, the cell's quota ledger; a Worker isolate running the tenant's
 * scripts at the edge spends allowances leased from it in batches — one cell round trip per
 * lease, never per request:
 *
 * - `executions` are counted against `executionsPerMinute` when lent; the unused ones come
 *   back when the lease is settled;
 * - `slots` are concurrency slots, held by the lease (the cell's own executions see them
 *   taken) until it is settled or expires;
 * - `outbound` requests are counted against `outboundRequestsPerMinute` the same way.
 *
 * So the edge never admits more than the ledger allows: the bound on over-admission is
 * zero, and the price is under-use — what is lent and not yet used is unavailable to
 * others until the lease ends (at most EDGE_LEASE_MS, or sooner when the isolate settles).
 */
import type { Limits } from "../domain/limits";
import { newId } from "../lib/ids";
import { QUEUE_WAIT_MS, type QuotaLedger } from "./quota-ledger";

/** How long a lease lives; an isolate settles it earlier when it has nothing more to run. */
export const EDGE_LEASE_MS = 2_000;
/** Most one lease lends, whatever is asked. */
const MAX_LEASE_EXECUTIONS = 200;
const MAX_LEASE_OUTBOUND = 50;

export interface LeaseRequest {
  executions: number;
  slots: number;
  outbound: number;
  /** How long the asking request may still wait for a free slot (as a cell admission waits). */
  waitMs?: number;
}

export interface EdgeLease {
  id: string;
  executions: number;
  slots: number;
  outbound: number;
  expiresAt: number;
}

export type LeaseAnswer = { lease: EdgeLease } | { refused: { reason: "rate" | "concurrency"; retryAfterSeconds: number } };

/** What an isolate used of a lease when it settles it. */
export interface LeaseUse {
  id: string;
  executions: number;
  outbound: number;
}

interface Open {
  lease: EdgeLease;
  cancelExpiry: () => void;
}

/** Runs `fn` after `ms`; answers how to cancel it (a test passes its own clock). */
export type Timer = (fn: () => void, ms: number) => () => void;

const realTimer: Timer = (fn, ms) => {
  const handle = setTimeout(fn, ms);
  return () => clearTimeout(handle);
};

export class EdgeLeases {
  private readonly open = new Map<string, Open>();

  constructor(
    private readonly ledger: QuotaLedger,
    private readonly clock: () => number = Date.now,
    private readonly timer: Timer = realTimer,
  ) {}

  /** Lends what the ledger allows of what is asked (at least one execution and one slot), waiting for a slot as admission does, or refuses. */
  async grant(limits: Limits, want: LeaseRequest): Promise<LeaseAnswer> {
    const ask = { executions: clamp(want.executions, 1, MAX_LEASE_EXECUTIONS), slots: clamp(want.slots, 1, limits.concurrency) };
    const lent = await this.ledger.lendWaiting(limits, ask, clamp(want.waitMs ?? 0, 0, QUEUE_WAIT_MS));
    if ("admitted" in lent) return { refused: { reason: lent.reason === "rate" ? "rate" : "concurrency", retryAfterSeconds: lent.retryAfterSeconds } };
    const outboundLeft = Math.max(0, limits.outboundRequestsPerMinute - this.ledger.outbound.count());
    const outbound = Math.min(clamp(want.outbound, 0, MAX_LEASE_OUTBOUND), outboundLeft);
    if (outbound > 0) this.ledger.outbound.add(outbound);
    const lease: EdgeLease = { id: newId("lse"), executions: lent.executions, slots: lent.slots, outbound, expiresAt: this.clock() + EDGE_LEASE_MS };
    // An isolate that never settles (it crashed, or went away) gives the slots back by expiring.
    const cancelExpiry = this.timer(() => this.settle({ id: lease.id, executions: lease.executions, outbound: lease.outbound }), EDGE_LEASE_MS + 1_000);
    this.open.set(lease.id, { lease, cancelExpiry });
    return { lease };
  }

  /**
   * More outbound requests for an open lease whose own ran out (one cell round trip per top-up,
   * not per request): at most `want`, at most what the minute has left; 0 when the lease is
   * no longer open. What it does not use comes back when it is settled.
   */
  topUpOutbound(limits: Limits, leaseId: string, want: number): number {
    const open = this.open.get(leaseId);
    if (!open) return 0;
    const granted = Math.min(clamp(want, 0, MAX_LEASE_OUTBOUND), Math.max(0, limits.outboundRequestsPerMinute - this.ledger.outbound.count()));
    if (granted > 0) this.ledger.outbound.add(granted);
    open.lease.outbound += granted;
    return granted;
  }

  /** Ends a lease: its slots free, what it did not use given back. Settling twice changes nothing. */
  settle(use: LeaseUse) {
    const open = this.open.get(use.id);
    if (!open) return;
    this.open.delete(use.id);
    open.cancelExpiry();
    const { lease } = open;
    this.ledger.giveBackLent({ slots: lease.slots, unusedExecutions: Math.max(0, lease.executions - use.executions) });
    this.ledger.outbound.giveBack(Math.max(0, lease.outbound - use.outbound));
  }

  /** Slots lent to the edge now. */
  get lentSlots(): number {
    let total = 0;
    for (const { lease } of this.open.values()) total += lease.slots;
    return total;
  }
}

function clamp(n: number, min: number, max: number): number {
  return Math.max(min, Math.min(max, Number.isFinite(n) ? Math.floor(n) : min));
}
