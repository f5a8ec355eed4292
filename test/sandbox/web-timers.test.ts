import { describe, expect, it } from "vitest";
import { evaluate, newSandbox, run, thrown } from "./helpers";

describe("timers, queueMicrotask and performance.now (fire inside the execution)", () => {
  const sandbox = newSandbox();

  it("fires in order of due time, ties in order of creation, microtasks after each timer", async () => {
    const result = await evaluate(
      sandbox,
      `const order = [];
      setTimeout(() => order.push("30"), 30);
      setTimeout((a, b) => { order.push("10:" + a + b); Promise.resolve().then(() => order.push("micro after 10")); }, 10, "x", "y");
      setTimeout(() => order.push("0a"), 0);
      setTimeout(() => order.push("0b"));
      setTimeout(() => order.push("negative"), -5);
      const cleared = setTimeout(() => order.push("cleared"), 5);
      clearTimeout(cleared);
      clearTimeout(12345);
      queueMicrotask(() => order.push("microtask"));
      order.push("sync");
      await new Promise((resolve) => setTimeout(resolve, 40));
      return order;`,
    );
    expect(result).toEqual(["sync", "microtask", "0a", "0b", "negative", "10:xy", "micro after 10", "30"]);
  });

  it("runs intervals until cleared, and nested timers", async () => {
    const result = await evaluate(
      sandbox,
      `let ticks = 0;
      await new Promise((resolve) => {
        const id = setInterval(() => { ticks++; if (ticks === 3) { clearInterval(id); resolve(); } }, 1);
      });
      const depth = await new Promise((resolve) => {
        const step = (n) => (n === 10 ? resolve(n) : setTimeout(step, 0, n + 1));
        setTimeout(step, 0, 1);
      });
      return { ticks, depth };`,
    );
    expect(result).toEqual({ ticks: 3, depth: 10 });
  });

  it("clamps timers nested more than 5 deep to 4 ms, as browsers do", async () => {
    const elapsed = (await evaluate(
      sandbox,
      `const start = performance.now();
      let n = 0;
      await new Promise((resolve) => { const id = setInterval(() => { if (++n === 20) { clearInterval(id); resolve(); } }, 0); });
      return performance.now() - start;`,
    )) as number;
    // 20 runs: the first 5 unclamped, the next 15 at least 4 ms apart.
    expect(elapsed).toBeGreaterThanOrEqual(14 * 4);
  });

  it("waits for a timer within the deadline; performance.now counts from the execution's start", async () => {
    const body = `const start = performance.now(); await new Promise((r) => setTimeout(r, 50)); return [start, performance.now(), typeof performance.timeOrigin];`;
    await evaluate(sandbox, body, { key: "performance-now" });
    // Warm, so the clock does not include building the realm.
    const [start, end, origin] = (await evaluate(sandbox, body, { key: "performance-now" })) as [number, number, string];
    expect(start).toBeGreaterThanOrEqual(0);
    expect(start).toBeLessThan(50);
    expect(end - start).toBeGreaterThanOrEqual(49);
    expect(origin).toBe("number");
  });

  it("ends as a timeout at once when the script awaits a timer due after its deadline", async () => {
    const result = await run(sandbox, "export default async () => { await new Promise((r) => setTimeout(r, 60_000)); return 'late'; };", { limits: { timeoutMs: 2_000 } });
    expect(result).toMatchObject({ status: "timeout", error: { name: "TimeoutError", message: expect.stringContaining("timer due after its deadline") } });
    expect(result.durationMs).toBeLessThan(1_000);
  });

  it("a script that timers keep busy until its deadline ran out of time (not 'awaits a timer after its deadline')", async () => {
    const result = await run(sandbox, "export default async () => { setInterval(() => {}, 0); await new Promise(() => {}); };", { limits: { timeoutMs: 300 } });
    expect(result).toMatchObject({ status: "timeout", error: { name: "TimeoutError", message: "the script ran longer than its 300 ms time limit" } });
  });

  it("drops timers still pending when the handler settles; the realm stays warm and the next execution never sees them", async () => {
    const source = `export default async (event) => {
      if (event.first) { setTimeout(() => console.log("from the first execution"), 20); setInterval(() => console.log("interval"), 1); return "first"; }
      await new Promise((r) => setTimeout(r, 60));
      return setTimeout(() => {}, 0);
    };`;
    const first = await run(sandbox, source, { key: "dropped-timers", event: { first: true } });
    expect(first).toMatchObject({ status: "completed", result: "first", logs: [] });
    const second = await run(sandbox, source, { key: "dropped-timers", event: {} });
    // Timer ids start again at 1: the waiting timer was 1, the one returned is 2.
    expect(second).toMatchObject({ status: "completed", warm: true, result: 2, logs: [] });
  });

  it("allows 1000 pending timers; the 1001st throws iota's QuotaExceededError", async () => {
    const result = await evaluate(
      sandbox,
      `for (let i = 0; i < 1000; i++) setTimeout(() => {}, 1000);
      try { setTimeout(() => {}, 1); } catch (e) { return [e.name, e instanceof iota.QuotaExceededError]; }`,
    );
    expect(result).toEqual(["QuotaExceededError", true]);
  });

  it("reports an uncaught error in a timer or a microtask in the logs and carries on", async () => {
    const result = await run(
      sandbox,
      `export default async () => {
        setTimeout(() => { throw new RangeError("in a timer"); }, 0);
        queueMicrotask(() => { throw new TypeError("in a microtask"); });
        await new Promise((r) => setTimeout(r, 5));
        return "carried on";
      };`,
    );
    expect(result).toMatchObject({ status: "completed", result: "carried on" });
    expect(result.logs.map((l) => [l.level, l.message.split("\n")[0]])).toEqual([
      ["error", "Uncaught error in a microtask: TypeError: in a microtask"],
      ["error", "Uncaught error in a timer callback: RangeError: in a timer"],
    ]);
  });

  it("refuses code strings and non-functions", async () => {
    expect(await thrown(sandbox, `setTimeout("console.log(1)", 0);`)).toEqual(["TypeError", expect.stringContaining("code strings are not run")]);
    expect((await thrown(sandbox, `setInterval(null, 0);`))[0]).toBe("TypeError");
    expect((await thrown(sandbox, `queueMicrotask(1);`))[0]).toBe("TypeError");
  });
});
