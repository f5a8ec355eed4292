/**
 * A tenant's quota ledger (API.md §8): admission for `concurrency` (a short bounded wait,
 * then a refusal), `executionsPerMinute` and `outboundRequestsPerMinute` (sliding windows),
 * and the sandbox's memory budget. One per TenantRunner; the only place that says "no".
 */

/** How long an execution may wait for a free slot before it is refused. */
export const QUEUE_WAIT_MS = 2_000;
/** How many may wait at once, per allowed concurrent execution. */
export const QUEUE_PER_SLOT = 4;

/** Where a window's one-second buckets are kept, so they outlive the object holding them. */
export interface BucketStore {
  load(): Array<{ second: number; count: number }>;
  /** The bucket in `slot` (second mod 60) now counts `count` for `second`. */
  save(slot: number, second: number, count: number): void;
}

/** A count of events over the last 60 seconds, in one-second buckets. */
export class MinuteWindow {
  private readonly counts = new Array<number>(60).fill(0);
  private readonly seconds = new Array<number>(60).fill(-1);

  /** With a store, the window starts from what it holds and writes each bucket through: a restart keeps the count. */
  constructor(
    private readonly clock: () => number = Date.now,
    private readonly store?: BucketStore,
  ) {
    const now = this.second();
    for (const { second, count } of store?.load() ?? []) {
      if (second <= now - 60 || second > now) continue;
      this.seconds[second % 60] = second;
      this.counts[second % 60] = count;
    }
  }

  count(): number {
    const now = this.second();
    let total = 0;
    for (let i = 0; i < 60; i++) if (this.seconds[i]! > now - 60) total += this.counts[i]!;
    return total;
  }

  add(n = 1) {
    const now = this.second();
    const slot = now % 60;
    if (this.seconds[slot] !== now) {
      this.seconds[slot] = now;
      this.counts[slot] = 0;
    }
    this.counts[slot]! += n;
    this.store?.save(slot, now, this.counts[slot]!);
  }

  /** Takes back up to `n` events counted this second (an edge lease's unused executions). */
  giveBack(n: number) {
    const now = this.second();
    const slot = now % 60;
    if (this.seconds[slot] !== now || n <= 0) return;
    this.counts[slot] = Math.max(0, this.counts[slot]! - n);
    this.store?.save(slot, now, this.counts[slot]!);
  }

  /** Seconds until the window holds fewer than `limit` events again (at least 1). */
  secondsUntilBelow(limit: number): number {
    const now = this.second();
    let total = this.count();
    // The oldest second leaves the window first: the one `age` seconds old in 60 - age.
    for (let age = 59; age >= 0; age--) {
      const second = now - age;
      const slot = ((second % 60) + 60) % 60;
      if (this.seconds[slot] === second) total -= this.counts[slot]!;
      if (total < limit) return Math.max(1, 60 - age);
    }
    return 60;
  }

  private second() {
    return Math.floor(this.clock() / 1000);
  }
}

export interface AdmissionLimits {
  concurrency: number;
  executionsPerMinute: number;
}

export type Admission = { admitted: true; release: () => void } | { admitted: false; reason: "rate" | "concurrency" | "memory"; retryAfterSeconds: number };

interface Waiter {
  wake: () => void;
}

export class QuotaLedger {
  private running = 0;
  /** Sandbox memory reserved by admitted executions (see `admit`). */
  private reservedBytes = 0;
  private readonly waiters: Waiter[] = [];
  readonly executions: MinuteWindow;
  readonly outbound: MinuteWindow;

  constructor(
    clock: () => number = Date.now,
    private readonly waitMs = QUEUE_WAIT_MS,
    stores?: { executions: BucketStore; outbound: BucketStore },
  ) {
    this.executions = new MinuteWindow(clock, stores?.executions);
    this.outbound = new MinuteWindow(clock, stores?.outbound);
  }

  get runningCount() {
    return this.running;
  }

  /** Admissions waiting for a slot (or for memory) right now. */
  get waitingCount() {
    return this.waiters.length;
  }

  /**
   * Admits one execution or refuses it. `hasMemory` says whether the sandbox pool has room
   * for it now. With `memory`, admission also reserves that many bytes of the budget until
   * release: executions admitted together but not yet in the pool cannot all count on the
   * same room. Waits at most `waitMs` for a slot (or for memory) to free up.
   */
  async admit(limits: AdmissionLimits, hasMemory: () => boolean, memory?: { bytes: number; budgetBytes: number }): Promise<Admission> {
    if (this.executions.count() >= limits.executionsPerMinute) {
      return { admitted: false, reason: "rate", retryAfterSeconds: this.executions.secondsUntilBelow(limits.executionsPerMinute) };
    }
    const deadline = Date.now() + this.waitMs;
    for (;;) {
      const free = this.running < limits.concurrency;
      const reserves = memory === undefined || this.reservedBytes + memory.bytes <= memory.budgetBytes;
      if (free && reserves && hasMemory()) {
        const bytes = memory?.bytes ?? 0;
        this.running += 1;
        this.reservedBytes += bytes;
        this.executions.add();
        let released = false;
        return {
          admitted: true,
          release: () => {
            if (released) return;
            released = true;
            this.running -= 1;
            this.reservedBytes -= bytes;
            this.waiters.shift()?.wake();
          },
        };
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0 || this.waiters.length >= limits.concurrency * QUEUE_PER_SLOT) {
        return { admitted: false, reason: free ? "memory" : "concurrency", retryAfterSeconds: 1 };
      }
      await this.waitForRelease(remaining);
    }
  }

  /** One outbound request of `limit` per minute, or false when the minute's are used up. */
  takeOutbound(limit: number): boolean {
    if (this.outbound.count() >= limit) return false;
    this.outbound.add();
    return true;
  }

  /**
   * Lends an edge isolate up to `want.slots` concurrency slots (held until `giveBackLent`)
   * and up to `want.executions` executions (counted now), without waiting: an edge lease
   * (API.md §14). Refused when no slot or no execution is left.
   */
  lend(limits: AdmissionLimits, want: { executions: number; slots: number }): { executions: number; slots: number } | Extract<Admission, { admitted: false }> {
    const executions = Math.min(want.executions, limits.executionsPerMinute - this.executions.count());
    if (executions <= 0) return { admitted: false, reason: "rate", retryAfterSeconds: this.executions.secondsUntilBelow(limits.executionsPerMinute) };
    const slots = Math.min(want.slots, limits.concurrency - this.running);
    if (slots <= 0) return { admitted: false, reason: "concurrency", retryAfterSeconds: 1 };
    this.running += slots;
    this.executions.add(executions);
    return { executions, slots };
  }

  /**
   * `lend`, but waiting (at most `waitMs`, and no longer than admission would) for a slot
   * when none is free, so an edge request waits and is refused exactly as a cell one.
   */
  async lendWaiting(limits: AdmissionLimits, want: { executions: number; slots: number }, waitMs: number): Promise<ReturnType<QuotaLedger["lend"]>> {
    const deadline = Date.now() + Math.min(waitMs, this.waitMs);
    for (;;) {
      const lent = this.lend(limits, want);
      if (!("admitted" in lent) || lent.reason !== "concurrency") return lent;
      const remaining = deadline - Date.now();
      if (remaining <= 0 || this.waiters.length >= limits.concurrency * QUEUE_PER_SLOT) return lent;
      await this.waitForRelease(remaining);
    }
  }

  /** Ends an edge lease: its slots free again, the executions it did not use given back. */
  giveBackLent(lent: { slots: number; unusedExecutions: number }) {
    this.running = Math.max(0, this.running - lent.slots);
    this.executions.giveBack(lent.unusedExecutions);
    for (let i = 0; i < lent.slots; i++) this.waiters.shift()?.wake();
  }

  private waitForRelease(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        wake: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        resolve();
      }, ms);
      this.waiters.push(waiter);
    });
  }
}

/**
 * How much of the thread a tenant's sandboxes took lately, decaying by half every
 * HALF_LIFE_MS. QuickJS runs synchronously, and Durable Objects may share an isolate's
 * thread. While a tenant is busy (over BUSY_MS), its executions take turns: each waits for
 * the previous one to end, then pauses as long as that one ran (at most MAX_PAUSE_MS), so
 * the tenant holds at most about half of the thread and other tenants' requests pass
 * between its executions instead of queuing behind all of them. An idle tenant never waits.
 */
export class CpuMeter {
  static readonly HALF_LIFE_MS = 500;
  static readonly BUSY_MS = 50;
  static readonly MAX_PAUSE_MS = 250;
  private load = 0;
  private last = 0;
  private at: number;
  private turns: Promise<void> = Promise.resolve();

  constructor(private readonly clock: () => number = () => performance.now()) {
    this.at = clock();
  }

  record(cpuMs: number) {
    this.load = this.current() + cpuMs;
    this.last = cpuMs;
    this.at = this.clock();
  }

  current(): number {
    const elapsed = this.clock() - this.at;
    return this.load * 0.5 ** (elapsed / CpuMeter.HALF_LIFE_MS);
  }

  /** How long to pause before the next execution: 0 unless the tenant has been busy. */
  pauseMs(): number {
    return this.current() > CpuMeter.BUSY_MS ? Math.min(Math.max(this.last, 1), CpuMeter.MAX_PAUSE_MS) : 0;
  }

  /**
   * Waits for this execution's turn; call the returned function when it ends. Free (no
   * wait, no ordering) while the tenant is not busy.
   */
  async turn(wait: (ms: number) => Promise<unknown>): Promise<() => void> {
    if (this.pauseMs() === 0) return () => {};
    const previous = this.turns;
    let release!: () => void;
    this.turns = new Promise((resolve) => (release = resolve));
    await previous;
    const pause = this.pauseMs();
    if (pause > 0) await wait(pause);
    return release;
  }
}

/** What a refusal says, by its reason (the 429's message, and a refused attempt's error). */
export function quotaMessage(reason: "rate" | "concurrency" | "memory"): string {
  if (reason === "rate") return "the tenant's executionsPerMinute quota is used up";
  if (reason === "memory") return "the tenant's sandboxes are using all of their memory";
  return "the tenant's concurrent executions are at their limit";
}
