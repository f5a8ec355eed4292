import { describe, expect, it } from "vitest";
import { newSandbox, run } from "./helpers";

/**
 * QuickJS seeds its own Math.random (xorshift64*) from the clock when a context is made, so
 * a script could predict it from roughly when its sandbox started. iota's comes from a
 * CSPRNG seed drawn for every execution (bootstrap.ts).
 */
const MASK64 = (1n << 64n) - 1n;

/** QuickJS's Math.random: xorshift64* over a state seeded with the time in microseconds. */
function quickjsRandoms(seedMicros: bigint, count: number): number[] {
  let state = seedMicros & MASK64;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    state ^= state >> 12n;
    state = (state ^ (state << 25n)) & MASK64;
    state ^= state >> 27n;
    const v = (state * 0x2545f4914f6cdd1dn) & MASK64;
    const bits = (0x3ffn << 52n) | (v >> 12n);
    const view = new DataView(new ArrayBuffer(8));
    view.setBigUint64(0, bits);
    out.push(view.getFloat64(0) - 1);
  }
  return out;
}

describe("Math.random", () => {
  const SOURCE = "export default () => [Math.random(), Math.random(), Math.random()];";

  it("cannot be predicted from when the sandbox was created", async () => {
    const sandbox = newSandbox();
    const before = Date.now();
    const result = await run(sandbox, SOURCE);
    const after = Date.now();
    const [first] = result.result as number[];
    const predicted: number[] = [];
    for (let ms = before - 5; ms <= after + 5; ms++) predicted.push(quickjsRandoms(BigInt(ms) * 1000n, 1)[0]!);
    // Against QuickJS's own generator (before iota replaced it) this found the first value.
    expect(predicted).not.toContain(first);
  });

  it("gives every execution of a warm sandbox its own numbers", async () => {
    const sandbox = newSandbox();
    const runs = [];
    for (let i = 0; i < 5; i++) runs.push((await run(sandbox, SOURCE, { key: "random-warm" })).result as number[]);
    const firsts = new Set(runs.map((r) => r[0]));
    expect(firsts.size).toBe(5);
  });

  it("answers numbers in [0, 1) that look uniform", async () => {
    const sandbox = newSandbox();
    const result = await run(sandbox, "export default () => { const n = 20000, bins = new Array(10).fill(0); let min = 1, max = 0; for (let i = 0; i < n; i++) { const r = Math.random(); min = Math.min(min, r); max = Math.max(max, r); bins[Math.floor(r * 10)]++; } return { min, max, bins }; };");
    const { min, max, bins } = result.result as { min: number; max: number; bins: number[] };
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    // 2 000 expected per bin; ±400 is more than 9 standard deviations.
    for (const count of bins) expect(Math.abs(count - 2000)).toBeLessThan(400);
  });

  it("cannot be replaced by a script", async () => {
    const sandbox = newSandbox();
    const result = await run(sandbox, "export default () => { Math.random = () => 0.5; };");
    expect(result.error?.name).toBe("TypeError");
  });
});
