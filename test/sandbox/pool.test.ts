import { describe, expect, it } from "vitest";
import { ENGINE_INITIAL_BYTES, ENGINE_OVERHEAD_BYTES } from "../../src/sandbox/engine";
import { LIMITS, newSandbox, run } from "./helpers";

const MiB = 1024 * 1024;
const AWAITING = "export default async () => iota.db.get('c', 1);";

/** A host whose db.get waits until `open()` is called, and records the pool's accounted peak. */
function gate(sandbox: ReturnType<typeof newSandbox>) {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  let started = 0;
  let peak = 0;
  const host = {
    functions: {
      "db.get": async () => {
        started += 1;
        peak = Math.max(peak, sandbox.stats().memoryBytes);
        await opened;
        return null;
      },
    },
  };
  return { host, open, started: () => started, peak: () => peak };
}

describe("the isolate's sandbox pool", () => {
  it("never accounts more than its budget, even when many executions start at once", async () => {
    // Room for one engine and three running 16 MiB executions, not four.
    const budget = ENGINE_OVERHEAD_BYTES + 1 * MiB + 3 * LIMITS.memoryBytes + 2 * MiB;
    const sandbox = newSandbox(budget, { tenantShareBytes: budget });
    const { host, open, peak } = gate(sandbox);
    const pending = Array.from({ length: 8 }, (_, i) => run(sandbox, AWAITING, { key: `distinct-${i}`, host }));
    const settled = Promise.all(pending);
    setTimeout(open, 50);
    const results = await settled;
    const completed = results.filter((r) => r.status === "completed").length;
    const refused = results.filter((r) => r.error?.name === "SandboxError").length;
    expect(completed).toBe(3);
    expect(refused).toBe(5);
    expect(peak()).toBeLessThanOrEqual(budget);
    expect(sandbox.stats().memoryBytes).toBeLessThanOrEqual(budget);
  });

  it("keeps many scripts warm in one engine, accounted by their heap", async () => {
    const sandbox = newSandbox(64 * MiB);
    for (let i = 0; i < 20; i++) expect((await run(sandbox, "export default () => 1;", { key: `s-${i}` })).status).toBe("completed");
    for (let i = 0; i < 20; i++) expect((await run(sandbox, "export default () => 1;", { key: `s-${i}` })).warm).toBe(true);
    const stats = sandbox.stats();
    expect(stats).toMatchObject({ engines: 1, realms: 20, idle: 20, created: 20, reused: 20 });
    // Twenty warm scripts fit in one engine's first 16 MiB.
    expect(stats.memoryBytes).toBe(ENGINE_INITIAL_BYTES);
  });

  it("runs another tenant elsewhere while an engine is busy with one tenant's execution", async () => {
    const sandbox = newSandbox(128 * MiB);
    await run(sandbox, "export default () => 1;", { key: "b-script", tenant: "b" });
    const { host, open, started } = gate(sandbox);
    const a = run(sandbox, AWAITING, { key: "a-script", tenant: "a", host });
    while (started() === 0) await new Promise((r) => setTimeout(r, 1));
    // Tenant b's warm realm lives in the engine tenant a is running in: b gets a new realm.
    const b = await run(sandbox, "export default () => 1;", { key: "b-script", tenant: "b" });
    expect(b).toMatchObject({ status: "completed", warm: false });
    expect(sandbox.stats().engines).toBe(2);
    open();
    expect((await a).status).toBe("completed");
  });

  it("builds a tenant's new realm beside its own, so a neighbour's warm realm stays usable while it runs", async () => {
    const sandbox = newSandbox(128 * MiB);
    const trivial = "export default () => 1;";
    // Engine 1: b's realm, then a's (while nothing runs). Engine 2: c's, made while a held engine 1.
    await run(sandbox, trivial, { key: "b-1", tenant: "b" });
    const first = gate(sandbox);
    const a1 = run(sandbox, AWAITING, { key: "a-1", tenant: "a", host: first.host });
    while (first.started() === 0) await new Promise((r) => setTimeout(r, 1));
    await run(sandbox, trivial, { key: "c-1", tenant: "c" });
    first.open();
    await a1;
    expect(sandbox.stats().engines).toBe(2);
    // a's next script goes beside a's first (engine 1), not into c's emptier engine 2...
    const second = gate(sandbox);
    const a2 = run(sandbox, AWAITING, { key: "a-2", tenant: "a", host: second.host });
    while (second.started() === 0) await new Promise((r) => setTimeout(r, 1));
    // ...so c's warm realm runs while a's execution holds engine 1.
    expect(await run(sandbox, trivial, { key: "c-1", tenant: "c" })).toMatchObject({ status: "completed", warm: true });
    second.open();
    expect((await a2).status).toBe("completed");
  });

  it("holds a tenant's running executions to its share of the budget", async () => {
    const sandbox = newSandbox(128 * MiB, { tenantShareBytes: 2 * LIMITS.memoryBytes });
    const { host, open } = gate(sandbox);
    const pending = Array.from({ length: 3 }, (_, i) => run(sandbox, AWAITING, { key: `share-${i}`, tenant: "greedy", host }));
    const other = await run(sandbox, "export default () => 'other';", { tenant: "other" });
    setTimeout(open, 20);
    const results = await Promise.all(pending);
    expect(results.map((r) => r.status).sort()).toEqual(["completed", "completed", "failed"]);
    expect(results.find((r) => r.status === "failed")?.error?.message).toMatch(/share/);
    expect(other.result).toBe("other");
  });

  it("drops the least recently used idle engine when a new one needs room", async () => {
    const sandbox = newSandbox(ENGINE_INITIAL_BYTES * 2 + LIMITS.memoryBytes, { tenantShareBytes: 64 * MiB });
    const { host, open, started } = gate(sandbox);
    // Tenant a's execution holds engine 1; b needs an engine of its own, then c does.
    const a = run(sandbox, AWAITING, { key: "a", tenant: "a", host });
    while (started() === 0) await new Promise((r) => setTimeout(r, 1));
    expect((await run(sandbox, "export default () => 1;", { key: "b", tenant: "b" })).status).toBe("completed");
    expect((await run(sandbox, "export default () => 1;", { key: "c", tenant: "c" })).status).toBe("completed");
    open();
    await a;
    expect(sandbox.stats().engines).toBeLessThanOrEqual(2);
  });

  it("makes room by dropping the engine used longest ago, not the one holding the oldest realm", async () => {
    // Room for three engines at rest (with 1 MiB executions), not for a 16 MiB one beside them.
    const sandbox = newSandbox(ENGINE_INITIAL_BYTES * 3 + 1 * MiB);
    const small = { memoryBytes: 1 * MiB };
    const trivial = "export default () => 1;";
    // p holds engine 1 and q engine 2 while r's realm is built in engine 3.
    const gates = [gate(sandbox), gate(sandbox)];
    const p = run(sandbox, AWAITING, { key: "p", tenant: "p", host: gates[0]!.host, limits: small });
    while (gates[0]!.started() === 0) await new Promise((r) => setTimeout(r, 1));
    const q = run(sandbox, AWAITING, { key: "q", tenant: "q", host: gates[1]!.host, limits: small });
    while (gates[1]!.started() === 0) await new Promise((r) => setTimeout(r, 1));
    await run(sandbox, trivial, { key: "r-old", tenant: "r", limits: small });
    for (const g of gates) g.open();
    await Promise.all([p, q]);
    expect(sandbox.stats().engines).toBe(3);
    // Engine 3 now holds the oldest idle realm (r-old) and the newest (r-new, beside r's own).
    await run(sandbox, trivial, { key: "r-new", tenant: "r", limits: small });
    // p's 16 MiB execution needs room: one idle engine goes, engine 2 (q's), used longest ago.
    expect((await run(sandbox, trivial, { key: "p-big", tenant: "p" })).status).toBe("completed");
    expect(sandbox.stats().engines).toBe(2);
    expect((await run(sandbox, trivial, { key: "r-old", tenant: "r", limits: small })).warm).toBe(true);
    expect((await run(sandbox, trivial, { key: "q", tenant: "q", limits: small })).warm).toBe(false);
  });

  it("gives memory back: an engine that grew is dropped once nothing runs in it", async () => {
    const sandbox = newSandbox(256 * MiB);
    const grown = await run(sandbox, "export default () => { const a = []; for (let i = 0; i < 120; i++) a.push('x'.repeat(100000) + i); return a.length; };", { key: "grows" });
    expect(grown.status).toBe("completed");
    expect(sandbox.stats()).toMatchObject({ engines: 0, realms: 0, memoryBytes: 0 });
  });
});
