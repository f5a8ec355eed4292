import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, effectiveLimits, limitsAboveTenant, mergeOverrides, tenantLimits } from "../../src/domain/limits";

describe("limits (API.md §8)", () => {
  it("has the documented defaults", () => {
    expect(DEFAULT_LIMITS).toMatchObject({
      timeoutMs: 30_000,
      cpuMs: 5_000,
      memoryBytes: 16 * 1024 * 1024,
      stackBytes: 256 * 1024,
      concurrency: 5,
      executionsPerMinute: 1_200,
      sdkCallsPerExecution: 100,
      outboundRequestsPerMinute: 60,
      outputBytes: 1024 * 1024,
      logBytes: 64 * 1024,
      sourceBytes: 100 * 1024,
      eventDepth: 5,
    });
  });

  it("merges tenant overrides: given fields change, null removes, the rest stay", () => {
    expect(mergeOverrides({ timeoutMs: 1, cpuMs: 2 }, { cpuMs: 3, timeoutMs: null, concurrency: 4 })).toEqual({ cpuMs: 3, concurrency: 4 });
    expect(tenantLimits({ cpuMs: 3 })).toEqual({ ...DEFAULT_LIMITS, cpuMs: 3 });
  });

  it("takes the smaller of tenant and script, also after the tenant's is lowered", () => {
    const tenant = tenantLimits({ timeoutMs: 1000 });
    expect(effectiveLimits(tenant, { timeoutMs: 500 }).timeoutMs).toBe(500);
    expect(effectiveLimits(tenant, { timeoutMs: 5000 }).timeoutMs).toBe(1000);
    expect(effectiveLimits(tenant, {})).toEqual(tenant);
  });

  it("names script limits above the tenant's", () => {
    expect(limitsAboveTenant(tenantLimits({ cpuMs: 10 }), { cpuMs: 11, timeoutMs: 1 })).toEqual(["cpuMs"]);
    expect(limitsAboveTenant(tenantLimits({}), { cpuMs: 10 })).toEqual([]);
  });
});
