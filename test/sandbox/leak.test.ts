import { loadQuickJSWasm } from "#quickjs-wasm";
import { describe, expect, it } from "vitest";
import { ExecutionBudget } from "../../src/sandbox/budget";
import { compileScript } from "../../src/sandbox/compile";
import type { HostApi } from "../../src/sandbox/host";
import { SandboxCompileError, SandboxInstance } from "../../src/sandbox/instance";
import { SDK_FUNCTIONS } from "../../src/sandbox/host";
import { expectHealthy, LIMITS, newSandbox } from "./helpers";

const SCRIPT = `
let local = [];
export default async (event) => {
  for (let i = 0; i < 20; i++) local.push({ i, s: "item " + i, nested: [i, { i }] });
  console.log("run", event.n, local.length);
  // An entry longer than one log entry may be: cut (the guest does it, nothing is copied).
  if (event.n % 10 === 0) console.log("x".repeat(40 * 1024));
  const doc = await iota.db.get("things", event.n);
  try { await iota.secrets.get("MISSING"); } catch (e) { /* a failing SDK call too */ }
  try { JSON.parse("{"); } catch (e) { /* and a caught error */ }
  return { n: event.n, doc, count: local.length };
};`;

describe("leaks", () => {
  it("returns the runtime's memory after 10 000 executions and frees every object", async () => {
    const compiled = compileScript(SCRIPT);
    if (!compiled.ok) throw new Error("does not compile");
    const instance = await SandboxInstance.create(await loadQuickJSWasm(), compiled.script, LIMITS, SDK_FUNCTIONS);
    const host: HostApi = {
      functions: {
        "db.get": async (args) => ({ id: args[1], body: "x".repeat(100) }),
        "secrets.get": async () => {
          throw Object.assign(new Error("nope"), { name: "QuotaExceededError" });
        },
      },
    };
    const runOnce = async (n: number) => {
      const outcome = await instance.run({
        eventJson: JSON.stringify({ n }),
        ctxJson: "{}",
        limits: LIMITS,
        host,
        budget: new ExecutionBudget({ timeoutMs: LIMITS.timeoutMs, cpuMs: LIMITS.cpuMs }),
      });
      expect(outcome.status).toBe("completed");
    };
    // Warm up: first-use allocations (atoms, shapes, caches) are not leaks.
    for (let n = 0; n < 200; n++) await runOnce(n);
    const before = instance.heapStats();
    for (let n = 0; n < 10_000; n++) await runOnce(n);
    const after = instance.heapStats();

    expect(instance.reusable).toBe(true);
    expect(after.objects).toBe(before.objects);
    expect(Math.abs(after.memoryUsedBytes - before.memoryUsedBytes)).toBeLessThan(4 * 1024);
    // Freeing the runtime object by object aborts if any QuickJS object or handle leaked.
    expect(() => instance.dispose({ free: true })).not.toThrow();
  }, 120_000);

  it("keeps nothing of failed creations: every byte they reserved comes back", async () => {
    const sandbox = newSandbox();
    // QuickJS refuses `using` (the standard parser accepts it), so the realm cannot be built.
    const compiled = compileScript("export default () => {\n  using x = null;\n};");
    if (!compiled.ok) throw new Error("does not compile");
    for (let i = 0; i < 50; i++) {
      const result = await sandbox.execute({ scriptKey: `refused-${i}`, script: compiled.script, event: {}, ctx: {}, limits: LIMITS });
      expect(result.error?.name).toBe("CompileError");
    }
    expect(sandbox.stats()).toMatchObject({ instances: 0, memoryBytes: 0 });
    await expect(SandboxInstance.create(await loadQuickJSWasm(), compiled.script, LIMITS, SDK_FUNCTIONS)).rejects.toBeInstanceOf(SandboxCompileError);
    await expectHealthy(sandbox);
  }, 60_000);
});
