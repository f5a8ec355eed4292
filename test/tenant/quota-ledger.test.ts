import { describe, expect, it } from "vitest";
import { CpuMeter, MinuteWindow, QuotaLedger } from "../../src/tenant/quota-ledger";

describe("MinuteWindow", () => {
  it("counts the last 60 seconds and says when a slot frees", () => {
    let now = 1_000_000_000;
    const window = new MinuteWindow(() => now);
    window.add();
    now += 10_000;
    window.add(2);
    expect(window.count()).toBe(3);
    // Below 3 once the first event (50 s from now) leaves; below 1 once all have (60 s).
    expect(window.secondsUntilBelow(3)).toBe(50);
    expect(window.secondsUntilBelow(1)).toBe(60);
    now += 50_000;
    expect(window.count()).toBe(2);
    now += 10_000;
    expect(window.count()).toBe(0);
  });
});

describe("MinuteWindow kept in a store", () => {
  /** A store as the cell's SQLite keeps it: a row per second-of-the-minute. */
  function memoryStore() {
    const rows = new Map<number, { second: number; count: number }>();
    return { load: () => [...rows.values()], save: (slot: number, second: number, count: number) => void rows.set(slot, { second, count }) };
  }

  it("a new window on the same store starts from the count the old one left, and still forgets after 60 s", () => {
    let now = 1_000_000_000;
    const store = memoryStore();
    const first = new MinuteWindow(() => now, store);
    first.add();
    now += 15_000;
    first.add(2);
    const second = new MinuteWindow(() => now, store);
    expect(second.count()).toBe(3);
    expect(second.secondsUntilBelow(3)).toBe(45);
    now += 45_000;
    expect(new MinuteWindow(() => now, store).count()).toBe(2);
    now += 15_000;
    expect(new MinuteWindow(() => now, store).count()).toBe(0);
  });
});

describe("QuotaLedger", () => {
  const limits = { concurrency: 2, executionsPerMinute: 100 };

  it("admits up to the concurrency, then makes the next wait for a release", async () => {
    // A wait far longer than any test: only the release can admit the third.
    const ledger = new QuotaLedger(Date.now, 600_000);
    const a = await ledger.admit(limits, () => true);
    const b = await ledger.admit(limits, () => true);
    expect([a.admitted, b.admitted, ledger.runningCount]).toEqual([true, true, 2]);
    let settled = false;
    const waiting = ledger.admit(limits, () => true).finally(() => (settled = true));
    expect(ledger.waitingCount).toBe(1);
    await Promise.resolve();
    expect(settled).toBe(false);
    if (a.admitted) a.release();
    expect((await waiting).admitted).toBe(true);
    expect([ledger.runningCount, ledger.waitingCount]).toEqual([2, 0]);
  });

  it("refuses with Retry-After after the bounded wait", async () => {
    const ledger = new QuotaLedger(Date.now, 30);
    await ledger.admit({ ...limits, concurrency: 1 }, () => true);
    const refused = await ledger.admit({ ...limits, concurrency: 1 }, () => true);
    expect(refused).toEqual({ admitted: false, reason: "concurrency", retryAfterSeconds: 1 });
  });

  it("refuses at once past the rate, naming when a slot frees", async () => {
    const ledger = new QuotaLedger(Date.now, 30);
    for (let i = 0; i < 3; i++) (await ledger.admit({ concurrency: 10, executionsPerMinute: 3 }, () => true)).admitted && 0;
    const refused = await ledger.admit({ concurrency: 10, executionsPerMinute: 3 }, () => true);
    expect(refused).toMatchObject({ admitted: false, reason: "rate" });
    expect(refused.admitted === false && refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
  });

  it("refuses for memory when the pool has no room, even with free slots", async () => {
    const ledger = new QuotaLedger(Date.now, 30);
    expect(await ledger.admit(limits, () => false)).toEqual({ admitted: false, reason: "memory", retryAfterSeconds: 1 });
  });

  it("reserves sandbox memory on admission, so two admitted at once cannot count on the same room", async () => {
    const ledger = new QuotaLedger(Date.now, 30);
    const memory = { bytes: 60, budgetBytes: 100 };
    const first = await ledger.admit(limits, () => true, memory);
    expect(first.admitted).toBe(true);
    // The pool still shows room (the first has not taken its sandbox yet): the reservation refuses.
    expect(await ledger.admit(limits, () => true, memory)).toEqual({ admitted: false, reason: "memory", retryAfterSeconds: 1 });
    if (first.admitted) first.release();
    expect((await ledger.admit(limits, () => true, memory)).admitted).toBe(true);
  });

  it("releases once only", async () => {
    const ledger = new QuotaLedger(Date.now, 30);
    const a = await ledger.admit(limits, () => true);
    if (a.admitted) {
      a.release();
      a.release();
    }
    expect(ledger.runningCount).toBe(0);
  });
});

describe("CpuMeter", () => {
  it("asks a tenant that kept the thread busy to pause as long as its last execution, and forgets with time", () => {
    let now = 0;
    const meter = new CpuMeter(() => now);
    expect(meter.pauseMs()).toBe(0);
    meter.record(20);
    expect(meter.pauseMs()).toBe(0);
    meter.record(200);
    expect(meter.pauseMs()).toBe(200);
    meter.record(900);
    expect(meter.pauseMs()).toBe(CpuMeter.MAX_PAUSE_MS);
    now += 5 * CpuMeter.HALF_LIFE_MS;
    expect(meter.current()).toBeCloseTo(1120 / 32, 5);
    now += 5 * CpuMeter.HALF_LIFE_MS;
    expect(meter.pauseMs()).toBe(0);
  });
});

describe("CpuMeter turns", () => {
  it("lets a busy tenant's executions run one after another, each after a pause; an idle tenant never waits", async () => {
    // A clock that stands still: the meter's decay plays no part in the order of turns.
    const meter = new CpuMeter(() => 0);
    const waits: number[] = [];
    const wait = async (ms: number) => void waits.push(ms);
    const idle = await meter.turn(wait);
    idle();
    expect(waits).toEqual([]);
    meter.record(120);
    const order: string[] = [];
    const first = meter.turn(wait).then((release) => {
      order.push("first");
      return release;
    });
    const second = meter.turn(wait).then((release) => {
      order.push("second");
      release();
    });
    const releaseFirst = await first;
    // Everything already queued runs (one macrotask later); the second turn still waits,
    // and would wait however long: only the first's release lets it go.
    await new Promise((r) => setTimeout(r, 0));
    expect(order).toEqual(["first"]);
    releaseFirst();
    await second;
    expect(order).toEqual(["first", "second"]);
    expect(waits).toEqual([120, 120]);
  });
});
