/**
 * A mergeable sketch of durations for percentiles (DDSketch-style log buckets), pure.
 *
 * A value v > 0 falls in bucket i = ceil(log_γ v) with γ = (1 + α) / (1 − α); the bucket
 * answers 2γ^i / (γ + 1), which is within α of every value the bucket can hold. So a
 * quantile answered from the sketch is within RELATIVE_ACCURACY (1 %) of the true sample
 * at that rank, however many samples went in, and two sketches merge by adding their
 * bucket counts: minutes roll into hours (or batches into a minute) exactly, without
 * keeping a single sample. Values under MIN_VALUE_MS count in a zero bucket (answered as 0);
 * values over MAX_VALUE_MS are counted as MAX_VALUE_MS, which bounds the buckets a sketch
 * can ever hold to about 1 100.
 */

export const RELATIVE_ACCURACY = 0.01;
const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);
const LOG_GAMMA = Math.log(GAMMA);
/** 1 µs: shorter is "0 ms" for any purpose a latency chart has. */
export const MIN_VALUE_MS = 0.001;
/** 1 hour: longer than any execution may run (timeoutMs is at most 5 min). */
export const MAX_VALUE_MS = 3_600_000;

export class Sketch {
  /** Samples under MIN_VALUE_MS. */
  private zero = 0;
  private readonly buckets = new Map<number, number>();
  private total = 0;

  get count(): number {
    return this.total;
  }

  add(value: number, times = 1) {
    if (!(times > 0)) return;
    this.total += times;
    if (!(value >= MIN_VALUE_MS)) {
      // Also NaN and negatives: a clock that went backwards is "no time".
      this.zero += times;
      return;
    }
    const index = bucketOf(Math.min(value, MAX_VALUE_MS));
    this.buckets.set(index, (this.buckets.get(index) ?? 0) + times);
  }

  /** Adds every sample of `other` (exact: the result is the sketch of both sample sets). */
  merge(other: Sketch): this {
    this.zero += other.zero;
    this.total += other.total;
    for (const [index, count] of other.buckets) this.buckets.set(index, (this.buckets.get(index) ?? 0) + count);
    return this;
  }

  /**
   * The value at quantile q (0..1): the sample of rank ⌊q·(n − 1)⌋ (0-based, ascending), to
   * within RELATIVE_ACCURACY. Null for an empty sketch.
   */
  quantile(q: number): number | null {
    if (this.total === 0) return null;
    const rank = Math.floor(Math.min(1, Math.max(0, q)) * (this.total - 1));
    let seen = this.zero;
    if (rank < seen) return 0;
    for (const index of [...this.buckets.keys()].sort((a, b) => a - b)) {
      seen += this.buckets.get(index)!;
      if (rank < seen) return valueOf(index);
    }
    return valueOf(Math.max(...this.buckets.keys()));
  }

  /** Compact JSON: `[zeroCount, index, count, index, count, …]` with indexes ascending. */
  toJSON(): number[] {
    const out = [this.zero];
    for (const index of [...this.buckets.keys()].sort((a, b) => a - b)) out.push(index, this.buckets.get(index)!);
    return out;
  }

  /** The sketch `toJSON` wrote; anything else (an older or damaged value) is an empty sketch. */
  static fromJSON(value: unknown): Sketch {
    const sketch = new Sketch();
    if (!Array.isArray(value) || value.length % 2 !== 1) return sketch;
    if (!value.every((n) => Number.isInteger(n))) return sketch;
    sketch.zero = Math.max(0, value[0] as number);
    sketch.total = sketch.zero;
    for (let i = 1; i < value.length; i += 2) {
      const count = value[i + 1] as number;
      if (count <= 0) continue;
      sketch.buckets.set(value[i] as number, (sketch.buckets.get(value[i] as number) ?? 0) + count);
      sketch.total += count;
    }
    return sketch;
  }

  static of(values: Iterable<number>): Sketch {
    const sketch = new Sketch();
    for (const value of values) sketch.add(value);
    return sketch;
  }
}

function bucketOf(value: number): number {
  return Math.ceil(Math.log(value) / LOG_GAMMA);
}

/** The value a bucket answers: the middle of its range in relative terms. */
function valueOf(index: number): number {
  return (2 * GAMMA ** index) / (GAMMA + 1);
}
