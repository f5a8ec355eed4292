import { describe, expect, it } from "vitest";
import { MAX_VALUE_MS, RELATIVE_ACCURACY, Sketch } from "../../src/observability/sketch";

/** The exact sample at quantile q, as the sketch defines it: rank ⌊q·(n−1)⌋ ascending. */
function exact(values: number[], q: number) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

/** Deterministic pseudo-random values (no flaky tables). */
function* lcg(seed: number) {
  let x = seed;
  for (;;) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    yield x / 2 ** 31;
  }
}

describe("the duration sketch (DDSketch-style log buckets)", () => {
  const random = lcg(7);
  const distributions: Array<[string, number[]]> = [
    ["one value", [12]],
    ["constant", Array(1000).fill(3.5)],
    ["uniform 0–100 ms", Array.from({ length: 5000 }, () => random.next().value! * 100)],
    ["log-normal-ish 0.1 ms–10 s", Array.from({ length: 5000 }, () => Math.exp(random.next().value! * 11.5 - 2.3))],
    ["integers (wall-clock ms)", Array.from({ length: 2000 }, (_, i) => i % 37)],
    ["bimodal", Array.from({ length: 4000 }, (_, i) => (i % 10 === 0 ? 2000 + i : 1 + (i % 5)))],
  ];
  for (const [name, values] of distributions) {
    it(`answers p50, p95 and p99 within ${RELATIVE_ACCURACY * 100} % of the exact sample: ${name}`, () => {
      const sketch = Sketch.of(values);
      expect(sketch.count).toBe(values.length);
      for (const q of [0, 0.5, 0.95, 0.99, 1]) {
        const truth = exact(values, q);
        const answer = sketch.quantile(q)!;
        if (truth < 0.001) expect(answer).toBe(0);
        else expect(Math.abs(answer - truth) / truth, `q=${q}: ${answer} vs ${truth}`).toBeLessThanOrEqual(RELATIVE_ACCURACY + 1e-12);
      }
    });
  }

  it("merges exactly: the sketch of two sample sets is the merge of their sketches, in any grouping", () => {
    const values = Array.from({ length: 3000 }, (_, i) => ((i * 7919) % 1000) / 7 + 0.01);
    const whole = Sketch.of(values);
    // Sixty "minutes" rolled into one "hour".
    const minutes = Array.from({ length: 60 }, (_, m) => Sketch.of(values.filter((_, i) => i % 60 === m)));
    const hour = minutes.reduce((acc, s) => acc.merge(s), new Sketch());
    expect(hour.toJSON()).toEqual(whole.toJSON());
    for (const q of [0.5, 0.95, 0.99]) expect(hour.quantile(q)).toBe(whole.quantile(q));
  });

  it("survives its JSON form, and reads anything else as empty", () => {
    const sketch = Sketch.of([0, 0.5, 1, 1, 250, 30_000]);
    const copy = Sketch.fromJSON(JSON.parse(JSON.stringify(sketch)));
    expect(copy.toJSON()).toEqual(sketch.toJSON());
    expect(copy.count).toBe(6);
    for (const bad of [null, "x", [1, 2], [0, 1.5, 1], { z: 1 }]) expect(Sketch.fromJSON(bad).count).toBe(0);
  });

  const edges: Array<[string, number, number]> = [
    ["0 ms counts as 0", 0, 0],
    ["a negative duration (clock went back) counts as 0", -5, 0],
    ["NaN counts as 0", Number.NaN, 0],
    ["past an hour is an hour", 10 * MAX_VALUE_MS, MAX_VALUE_MS],
  ];
  for (const [name, value, expected] of edges) {
    it(name, () => {
      const answer = Sketch.of([value]).quantile(0.5)!;
      if (expected === 0) expect(answer).toBe(0);
      else expect(Math.abs(answer - expected) / expected).toBeLessThanOrEqual(RELATIVE_ACCURACY);
    });
  }

  it("an empty sketch has no percentiles", () => {
    expect(new Sketch().quantile(0.5)).toBeNull();
  });

  it("stays small: a sketch of any durations holds at most ~1 100 buckets", () => {
    const sketch = Sketch.of(Array.from({ length: 200_000 }, (_, i) => 0.001 * 1.0001 ** i));
    expect(sketch.toJSON().length).toBeLessThan(2 * 1_100 + 1);
  });
});
