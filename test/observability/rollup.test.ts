import { describe, expect, it } from "vitest";
import { bucketStart, type ExecutionSample, HOUR_MS, mergeRollup, MINUTE_MS, refusalKeys, rollUp, rollupKey, TENANT_SCOPE } from "../../src/observability/rollup";

const T0 = Date.UTC(2026, 11, 1, 10, 0, 0);
const sample = (over: Partial<ExecutionSample>): ExecutionSample => ({ scriptId: "scr_A", status: "completed", finishedAt: T0, durationMs: 10, cpuMs: 2, sdkCalls: 1, ...over });

describe("metrics rollups (pure)", () => {
  it("bucket starts align to the step", () => {
    const table: Array<[number, number, number]> = [
      [T0, MINUTE_MS, T0],
      [T0 + 59_999, MINUTE_MS, T0],
      [T0 + 60_000, MINUTE_MS, T0 + 60_000],
      [T0 + 59 * 60_000 + 1, HOUR_MS, T0],
      [T0 + HOUR_MS, HOUR_MS, T0 + HOUR_MS],
    ];
    for (const [time, step, start] of table) expect(bucketStart(time, step)).toBe(start);
  });

  it("each sample counts once per step and scope: minute and hour, script and tenant", () => {
    const rollups = rollUp([
      sample({ status: "completed", durationMs: 10, cpuMs: 2, sdkCalls: 1 }),
      sample({ status: "failed", durationMs: 20, cpuMs: 5, sdkCalls: 0, finishedAt: T0 + 30_000 }),
      sample({ status: "timeout", durationMs: 1000, cpuMs: 1, sdkCalls: 3, finishedAt: T0 + 61_000 }),
      sample({ scriptId: "scr_B", durationMs: 7, finishedAt: T0 + 5_000 }),
    ]);
    const get = (step: number, scope: string, at: number) => rollups.get(rollupKey(step, scope, at))!;
    // Keys: A and B by minute (A twice), A, B by hour; tenant by minute twice, by hour once.
    expect(rollups.size).toBe(3 + 2 + 2 + 1);
    expect(get(MINUTE_MS, "scr_A", T0)).toMatchObject({ invocations: 2, completed: 1, failed: 1, timeouts: 0, cpuSum: 7, cpuMax: 5, sdkCalls: 1 });
    expect(get(MINUTE_MS, "scr_A", T0 + 60_000)).toMatchObject({ invocations: 1, timeouts: 1, sdkCalls: 3 });
    expect(get(HOUR_MS, "scr_A", T0)).toMatchObject({ invocations: 3, completed: 1, failed: 1, timeouts: 1, cpuSum: 8, cpuMax: 5, sdkCalls: 4 });
    expect(get(MINUTE_MS, TENANT_SCOPE, T0)).toMatchObject({ invocations: 3, completed: 2, failed: 1 });
    expect(get(HOUR_MS, TENANT_SCOPE, T0)).toMatchObject({ invocations: 4, completed: 2, failed: 1, timeouts: 1, cpuMax: 5 });
    expect(get(HOUR_MS, TENANT_SCOPE, T0).duration.count).toBe(4);
  });

  it("a record without a duration (cut by a restart) counts, but not in the percentiles", () => {
    const rollup = rollUp([sample({ status: "failed", durationMs: null }), sample({ durationMs: 4 })]).get(rollupKey(MINUTE_MS, "scr_A", T0))!;
    expect(rollup).toMatchObject({ invocations: 2, failed: 1 });
    expect(rollup.duration.count).toBe(1);
  });

  it("merging two rollups of a bucket equals rolling up both batches at once", () => {
    const first = [sample({ durationMs: 3 }), sample({ status: "failed", durationMs: 40, cpuMs: 9 })];
    const second = [sample({ durationMs: 5, cpuMs: 1, sdkCalls: 4 }), sample({ status: "timeout", durationMs: 900 })];
    const key = rollupKey(HOUR_MS, TENANT_SCOPE, T0);
    const merged = mergeRollup(rollUp(first).get(key)!, rollUp(second).get(key)!);
    const together = rollUp([...first, ...second]).get(key)!;
    expect({ ...merged, duration: merged.duration.toJSON() }).toEqual({ ...together, duration: together.duration.toJSON() });
  });

  it("a refusal counts in four rollups: the script's and the tenant's minute and hour", () => {
    expect(refusalKeys("scr_A", T0 + 90_000)).toEqual([
      { step: MINUTE_MS, scriptId: "scr_A", at: T0 + 60_000 },
      { step: MINUTE_MS, scriptId: TENANT_SCOPE, at: T0 + 60_000 },
      { step: HOUR_MS, scriptId: "scr_A", at: T0 },
      { step: HOUR_MS, scriptId: TENANT_SCOPE, at: T0 },
    ]);
  });
});
