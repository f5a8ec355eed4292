import { describe, expect, it } from "vitest";
import { CATALOGUE, compileHostile, HOSTILE_HOST, hostileLimits } from "./hostile-catalogue";
import { expectHealthy, LIMITS, newSandbox } from "./helpers";

describe("hostile catalogue", () => {
  const sandbox = newSandbox();

  it("holds at least 40 scripts", () => {
    expect(CATALOGUE.length).toBeGreaterThanOrEqual(40);
  });

  for (const c of CATALOGUE) {
    it(c.name, async () => {
      const result = await sandbox.execute({ tenant: "test-tenant", scriptKey: `hostile-${c.name}`, script: compileHostile(c), event: {}, ctx: { executionId: "exec-hostile" }, limits: { ...LIMITS, ...hostileLimits(c) }, host: HOSTILE_HOST });
      expect({ status: result.status, error: result.error?.name ?? null }, JSON.stringify(result.error)).toEqual({ status: c.status, error: c.error });
      c.check?.(result);
      await expectHealthy(sandbox);
      // Cases under the generous limits may legitimately run for seconds (a million microtasks).
    }, 30_000);
  }
});
