import { loadQuickJSWasm } from "#quickjs-wasm";
import { describe, expect, it } from "vitest";
import { ExecutionBudget } from "../../src/sandbox/budget";
import { compileScript } from "../../src/sandbox/compile";
import type { HostApi } from "../../src/sandbox/host";
import { Engine, ENGINE_INITIAL_BYTES } from "../../src/sandbox/engine";
import { Realm } from "../../src/sandbox/realm";
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
    const engine = await Engine.create(await loadQuickJSWasm());
    engine.lease("t", LIMITS.memoryBytes);
    const realm = Realm.create(engine, compiled.script, LIMITS, SDK_FUNCTIONS);
    const host: HostApi = {
      functions: {
        "db.get": async (args) => ({ id: args[1], body: "x".repeat(100) }),
        "secrets.get": async () => {
          throw Object.assign(new Error("nope"), { name: "QuotaExceededError" });
        },
      },
    };
    const runOnce = async (n: number) => {
      const outcome = await realm.run({
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
    const before = realm.heapStats();
    for (let n = 0; n < 10_000; n++) await runOnce(n);
    const after = realm.heapStats();

    expect(realm.reusable).toBe(true);
    expect(after.objects).toBe(before.objects);
    expect(Math.abs(after.memoryUsedBytes - before.memoryUsedBytes)).toBeLessThan(4 * 1024);
    // Freeing the runtime object by object aborts if any QuickJS object or handle leaked;
    // an abort would mark the engine crashed.
    expect(realm.dispose()).toBe(true);
    expect(engine.crashed).toBe(false);
  }, 120_000);

  it("leaks nothing through the web platform: 2 000 executions using its groups do not grow the heap", async () => {
    const compiled = compileScript(`export default async (event) => {
      const url = new URL("https://example.com/items?n=" + event.n);
      const key = await crypto.subtle.importKey("raw", new TextEncoder().encode("k"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
      const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(url.href));
      const controller = new AbortController();
      controller.signal.addEventListener("abort", () => {});
      await new Promise((resolve) => setTimeout(resolve, 0));
      setTimeout(() => {}, 1000); // left pending: dropped when the handler settles
      const form = new FormData();
      form.append("f", new Blob(["x"]), "x.txt");
      const response = new Response(form);
      const parsed = await response.formData();
      controller.abort();
      return { search: url.searchParams.get("n"), mac: mac.byteLength, clone: structuredClone({ d: new Date(0) }).d.getTime(), file: parsed.get("f").name };
    };`);
    if (!compiled.ok) throw new Error("does not compile");
    const engine = await Engine.create(await loadQuickJSWasm());
    engine.lease("t", LIMITS.memoryBytes);
    const realm = Realm.create(engine, compiled.script, LIMITS, SDK_FUNCTIONS);
    const runOnce = async (n: number) => {
      const outcome = await realm.run({
        eventJson: JSON.stringify({ n }),
        ctxJson: "{}",
        limits: LIMITS,
        host: { functions: {} },
        budget: new ExecutionBudget({ timeoutMs: LIMITS.timeoutMs, cpuMs: LIMITS.cpuMs }),
      });
      expect(outcome.status, JSON.stringify(outcome.error)).toBe("completed");
    };
    for (let n = 0; n < 100; n++) await runOnce(n);
    const before = realm.heapStats();
    for (let n = 0; n < 2_000; n++) await runOnce(n);
    const after = realm.heapStats();
    expect(realm.reusable).toBe(true);
    // These objects form cycles (a response and its headers…), freed by QuickJS's cycle
    // collector when it next runs, not at once: the counts move by what is awaiting
    // collection, while a leak of even one object per execution would add 2 000.
    expect(after.objects - before.objects).toBeLessThan(300);
    expect(after.memoryUsedBytes - before.memoryUsedBytes).toBeLessThan(64 * 1024);
    expect(realm.dispose()).toBe(true);
    expect(engine.crashed).toBe(false);
  }, 120_000);

  it("gives an engine its heap back when realms go: 300 realms made and freed in turn do not grow it", async () => {
    const compiled = compileScript(SCRIPT);
    if (!compiled.ok) throw new Error("does not compile");
    const engine = await Engine.create(await loadQuickJSWasm());
    engine.lease("t", LIMITS.memoryBytes);
    const startBytes = engine.bytes;
    for (let i = 0; i < 300; i++) {
      const realm = Realm.create(engine, compiled.script, LIMITS, SDK_FUNCTIONS);
      const outcome = await realm.run({
        eventJson: JSON.stringify({ n: i }),
        ctxJson: "{}",
        limits: LIMITS,
        host: { functions: { "db.get": async () => null, "secrets.get": async () => null } },
        budget: new ExecutionBudget({ timeoutMs: LIMITS.timeoutMs, cpuMs: LIMITS.cpuMs }),
      });
      expect(outcome.status).toBe("completed");
      expect(realm.dispose()).toBe(true);
    }
    expect(engine.crashed).toBe(false);
    expect(engine.bytes).toBe(startBytes);
  }, 120_000);

  it("keeps failed creations from piling up: engines holding what they could not free are dropped", async () => {
    const sandbox = newSandbox();
    // QuickJS refuses `using` (the standard parser accepts it), so the realm cannot be built.
    const compiled = compileScript("export default () => {\n  using x = null;\n};");
    if (!compiled.ok) throw new Error("does not compile");
    for (let i = 0; i < 200; i++) {
      const result = await sandbox.execute({ tenant: "t", scriptKey: `refused-${i}`, script: compiled.script, event: {}, ctx: {}, limits: LIMITS });
      expect(result.error?.name).toBe("CompileError");
    }
    const stats = sandbox.stats();
    expect(stats.realms).toBe(0);
    expect(stats.memoryBytes).toBeLessThanOrEqual(ENGINE_INITIAL_BYTES);
    await expectHealthy(sandbox);
  }, 60_000);
});
