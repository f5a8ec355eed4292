import { describe, expect, it } from "vitest";
import type { ScriptResponse } from "../../src/sandbox/realm";
import { CATALOGUE, HOSTILE_HOST, hostileCall, hostileLimits } from "./hostile-catalogue";
import { expectHealthy, newSandbox, run } from "./helpers";

describe("hostile catalogue", () => {
  const sandbox = newSandbox();

  it("holds at least 40 scripts", () => {
    expect(CATALOGUE.length).toBeGreaterThanOrEqual(40);
  });

  for (const c of CATALOGUE) {
    it(c.name, async () => {
      let response: ScriptResponse | null = null;
      const call = hostileCall(c, (r) => (response = r));
      const result = await run(sandbox, c.source, { limits: hostileLimits(c), host: HOSTILE_HOST, ctx: c.trigger ? { trigger: c.trigger } : {}, call });
      expect({ status: result.status, error: result.error?.name ?? null }, JSON.stringify(result.error)).toEqual({ status: c.status, error: c.error });
      c.check?.(result, response);
      await expectHealthy(sandbox);
      // Cases under the generous limits may legitimately run for seconds (a million microtasks).
    }, 30_000);
  }
});
