import { describe, expect, it } from "vitest";
import type { ScriptResponse } from "../../src/sandbox/realm";
import { CATALOGUE, compileHostile, HOSTILE_HOST, hostileCall, hostileLimits } from "./hostile-catalogue";
import { expectHealthy, LIMITS, newSandbox } from "./helpers";

describe("hostile catalogue", () => {
  const sandbox = newSandbox();

  it("holds at least 40 scripts", () => {
    expect(CATALOGUE.length).toBeGreaterThanOrEqual(40);
  });

  for (const c of CATALOGUE) {
    it(c.name, async () => {
      let response: ScriptResponse | null = null;
      const call = hostileCall(c, (r) => (response = r));
      const result = await sandbox.execute({ tenant: "test-tenant", scriptKey: `hostile-${c.name}`, script: compileHostile(c), event: {}, ctx: { executionId: "exec-hostile", ...(c.trigger ? { trigger: c.trigger } : {}) }, limits: { ...LIMITS, ...hostileLimits(c) }, host: HOSTILE_HOST, call });
      expect({ status: result.status, error: result.error?.name ?? null }, JSON.stringify(result.error)).toEqual({ status: c.status, error: c.error });
      c.check?.(result, response);
      await expectHealthy(sandbox);
      // Cases under the generous limits may legitimately run for seconds (a million microtasks).
    }, 30_000);
  }
});
