import { describe, expect, it } from "vitest";
import { instanceMemoryBytes } from "../../src/sandbox/instance";
import { LIMITS, newSandbox, run } from "./helpers";

describe("the sandbox pool", () => {
  it("never holds more linear memory than its budget, even when many executions start at once", async () => {
    const perInstance = instanceMemoryBytes(LIMITS.memoryBytes);
    const sandbox = newSandbox(perInstance * 3);
    let peak = 0;
    const host = {
      functions: {
        "db.get": async () => {
          peak = Math.max(peak, sandbox.stats().memoryBytes);
          await new Promise((r) => setTimeout(r, 20));
          return null;
        },
      },
    };
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => run(sandbox, "export default async () => iota.db.get('c', 1);", { key: `distinct-${i}`, host })));
    const completed = results.filter((r) => r.status === "completed").length;
    const refused = results.filter((r) => r.error?.name === "SandboxError").length;
    expect(completed).toBe(3);
    expect(refused).toBe(5);
    expect(peak).toBeLessThanOrEqual(perInstance * 3);
    expect(sandbox.stats().memoryBytes).toBeLessThanOrEqual(perInstance * 3);
  });

  it("keeps an instance warm per script and evicts the least recently used idle one for room", async () => {
    const perInstance = instanceMemoryBytes(LIMITS.memoryBytes);
    const sandbox = newSandbox(perInstance * 2);
    for (const key of ["a", "b", "a", "c", "a"]) expect((await run(sandbox, "export default () => 1;", { key })).status).toBe("completed");
    const stats = sandbox.stats();
    expect(stats.instances).toBe(2);
    expect(stats.reused).toBe(2);
    expect(stats.created).toBe(3);
  });
});
