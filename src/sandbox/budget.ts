/**
 * One execution's time accounting: wall time and CPU time inside the interpreter, measured
 * by the clock where it advances during synchronous work and estimated from the
 * interpreter's operation count where it does not (a deployed Worker's clock stands still
 * between I/O). The interrupt handler and the guest's `charge` calls consult it.
 */

/**
 * QuickJS calls the interrupt handler once every 10 000 "poll points" (backward jumps and
 * calls). Calibrated on a tight loop: one handler call ≈ 0.09 ms of interpreter time; the
 * estimate rounds that up.
 */
export const MS_PER_INTERRUPT_TICK = 0.1;

export type BudgetExhaustion = "TimeoutError" | "CpuLimitError";

export interface BudgetLimits {
  timeoutMs: number;
  cpuMs: number;
}

export class ExecutionBudget {
  readonly startedAt: number;
  /** Epoch ms by which the execution must end (`ctx.deadline`). */
  readonly deadline: number;
  /** Epoch ms when the execution began: the origin of the guest's clock (`performance.now()`, timers). */
  readonly epochStart: number;
  private clockCpuMs = 0;
  private segmentStart: number | null = null;
  private ticks = 0;
  private chargedNs = 0;
  /** Why the budget ran out, once it has. */
  exhausted: BudgetExhaustion | null = null;
  /** True when it ran out because an operation was refused before it started. */
  refusedOperation = false;

  constructor(
    readonly limits: BudgetLimits,
    private readonly clock: () => number = () => performance.now(),
    epochNow = Date.now(),
  ) {
    this.startedAt = clock();
    this.deadline = epochNow + limits.timeoutMs;
    this.epochStart = epochNow;
  }

  /** Marks the start of synchronous work inside the interpreter. */
  enter() {
    this.segmentStart = this.clock();
  }

  leave() {
    if (this.segmentStart !== null) this.clockCpuMs += this.clock() - this.segmentStart;
    this.segmentStart = null;
  }

  private measuredCpuMs(now = this.clock()): number {
    return this.clockCpuMs + (this.segmentStart !== null ? now - this.segmentStart : 0);
  }

  private estimatedCpuMs(): number {
    return this.ticks * MS_PER_INTERRUPT_TICK + this.chargedNs / 1e6;
  }

  /** Whether the clock advances during interpreter work (false where it stands still until I/O). */
  cpuMeasured(): boolean {
    return this.measuredCpuMs() > 0;
  }

  /** CPU time inside the interpreter: measured when the clock moves, else estimated. */
  cpuMs(now = this.clock()): number {
    const measured = this.measuredCpuMs(now);
    return measured > 0 ? measured : this.estimatedCpuMs();
  }

  /** Wall time; where the clock stands still during interpreter work, the CPU estimate counts too. */
  wallMs(now = this.clock()): number {
    const elapsed = now - this.startedAt;
    return this.measuredCpuMs(now) > 0 ? elapsed : Math.max(elapsed, this.estimatedCpuMs());
  }

  /** Milliseconds left before the wall deadline. */
  remainingMs(): number {
    return Math.max(0, this.limits.timeoutMs - this.wallMs());
  }

  /** Checks the limits (`extraMs` ahead); true once the budget is exhausted. */
  check(extraMs = 0): boolean {
    if (this.exhausted) return true;
    // One reading of the clock for both: CPU time never exceeds wall time, so when both limits
    // are equal the wall one is reported, whatever the clock did between two readings.
    const now = this.clock();
    if (this.wallMs(now) + extraMs > this.limits.timeoutMs) this.exhausted = "TimeoutError";
    else if (this.cpuMs(now) + extraMs > this.limits.cpuMs) this.exhausted = "CpuLimitError";
    return this.exhausted !== null;
  }

  /** The interrupt handler: one more tick of interpreter work; true means stop now. */
  tick(): boolean {
    this.ticks += 1;
    return this.check();
  }

  /**
   * A built-in asks before a long native loop (`ns` is its estimated cost). Refused (false)
   * when it would not fit in what is left; otherwise the cost counts as CPU time.
   */
  charge(ns: number): boolean {
    if (this.check(ns / 1e6)) {
      this.refusedOperation = true;
      return false;
    }
    this.chargedNs += ns;
    return true;
  }
}
