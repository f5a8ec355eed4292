import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, type Limits } from "../../src/domain/limits";
import { EdgeAllowance, IDLE_SETTLE_MS } from "../../src/edge/allowance";
import { EdgeReporter, FIRST_FLUSH_MS, FLUSH_INTERVAL_MS, flushDelay, MAX_BATCH } from "../../src/edge/reporter";
import { EDGE_LEASE_MS, EdgeLeases, type LeaseAnswer, type LeaseRequest } from "../../src/tenant/edge-leases";
import { QuotaLedger } from "../../src/tenant/quota-ledger";
import type { EdgeRecord } from "../../src/tenant/records";

const limits = (overrides: Partial<Limits> = {}): Limits => ({ ...DEFAULT_LIMITS, ...overrides });

describe("edge leases in the cell (API.md §14)", () => {
  it("lends what the ledger allows: executions counted at once, slots held until settled", async () => {
    const ledger = new QuotaLedger();
    const leases = new EdgeLeases(ledger);
    const answer = await leases.grant(limits({ concurrency: 3, executionsPerMinute: 10 }), { executions: 50, slots: 5, outbound: 0 });
    expect(answer).toMatchObject({ lease: { executions: 10, slots: 3 } });
    expect(ledger.runningCount).toBe(3);
    expect(ledger.executions.count()).toBe(10);
    // Nothing is left for anyone: the cell's own admission and another lease are refused.
    expect(await leases.grant(limits({ concurrency: 3, executionsPerMinute: 10 }), { executions: 1, slots: 1, outbound: 0 })).toMatchObject({ refused: { reason: "rate" } });
  });

  it("gives back the slots and the unused executions when a lease is settled, once", async () => {
    const ledger = new QuotaLedger();
    const leases = new EdgeLeases(ledger);
    const answer = (await leases.grant(limits(), { executions: 20, slots: 2, outbound: 5 })) as Extract<LeaseAnswer, { lease: unknown }>;
    leases.settle({ id: answer.lease.id, executions: 4, outbound: 1 });
    leases.settle({ id: answer.lease.id, executions: 0, outbound: 0 });
    expect(ledger.runningCount).toBe(0);
    expect(ledger.executions.count()).toBe(4);
    expect(ledger.outbound.count()).toBe(1);
  });

  it("refuses a lease when every slot is taken, the way admission would", async () => {
    const ledger = new QuotaLedger();
    const leases = new EdgeLeases(ledger);
    await leases.grant(limits({ concurrency: 1 }), { executions: 1, slots: 1, outbound: 0 });
    expect(await leases.grant(limits({ concurrency: 1 }), { executions: 1, slots: 1, outbound: 0 })).toEqual({ refused: { reason: "concurrency", retryAfterSeconds: 1 } });
  });

  it("tops up an open lease's outbound requests from what the minute has left, and takes back the unused when it is settled", async () => {
    const ledger = new QuotaLedger();
    const leases = new EdgeLeases(ledger);
    const limit = limits({ outboundRequestsPerMinute: 15 });
    const answer = (await leases.grant(limit, { executions: 1, slots: 1, outbound: 10 })) as Extract<LeaseAnswer, { lease: unknown }>;
    expect(answer.lease.outbound).toBe(10);
    expect(leases.topUpOutbound(limit, answer.lease.id, 10)).toBe(5);
    expect(ledger.outbound.count()).toBe(15);
    expect(leases.topUpOutbound(limit, answer.lease.id, 10)).toBe(0);
    leases.settle({ id: answer.lease.id, executions: 1, outbound: 12 });
    expect(ledger.outbound.count()).toBe(12);
    expect(leases.topUpOutbound(limit, answer.lease.id, 10)).toBe(0);
  });

  it("lets a lease expire when its isolate never settles it", async () => {
    const ledger = new QuotaLedger();
    const due: Array<{ fn: () => void; ms: number }> = [];
    const leases = new EdgeLeases(ledger, Date.now, (fn, ms) => {
      due.push({ fn, ms });
      return () => undefined;
    });
    await leases.grant(limits(), { executions: 1, slots: 2, outbound: 0 });
    expect(leases.lentSlots).toBe(2);
    expect(due[0]!.ms).toBeGreaterThan(EDGE_LEASE_MS);
    due[0]!.fn();
    expect(leases.lentSlots).toBe(0);
    expect(ledger.runningCount).toBe(0);
  });
  it("waits for a slot as admission does: a lease asked while every slot is lent is granted when one is settled", async () => {
    const ledger = new QuotaLedger();
    const leases = new EdgeLeases(ledger);
    const first = (await leases.grant(limits({ concurrency: 1 }), { executions: 1, slots: 1, outbound: 0 })) as Extract<LeaseAnswer, { lease: unknown }>;
    let granted: LeaseAnswer | null = null;
    const waiting = leases.grant(limits({ concurrency: 1 }), { executions: 1, slots: 1, outbound: 0, waitMs: 60_000 }).then((answer) => (granted = answer));
    await Promise.resolve();
    expect(granted).toBeNull();
    leases.settle({ id: first.lease.id, executions: 1, outbound: 0 });
    await waiting;
    expect(granted).toMatchObject({ lease: { slots: 1 } });
    expect(ledger.runningCount).toBe(1);
  });
});

describe("edge admission in an isolate", () => {
  function cell(grant: (want: LeaseRequest) => LeaseAnswer) {
    const asked: LeaseRequest[] = [];
    let n = 0;
    return {
      asked,
      ask: async (want: LeaseRequest): Promise<LeaseAnswer> => {
        asked.push(want);
        return grant(want) ?? { lease: { id: `lse-${n++}`, executions: want.executions, slots: want.slots, outbound: want.outbound, expiresAt: Date.now() + 60_000 } };
      },
    };
  }
  const lend = (executions: number, slots: number) => (_want: LeaseRequest): LeaseAnswer => ({ lease: { id: `l-${Math.random()}`, executions, slots, outbound: 2, expiresAt: Date.now() + 60_000 } });

  it("asks the cell once per lease, never per request", async () => {
    const { asked, ask } = cell(lend(10, 5));
    const allowance = new EdgeAllowance(ask);
    for (let i = 0; i < 100; i++) {
      const admission = await allowance.admit({ concurrency: 5 });
      expect(admission.admitted).toBe(true);
      if (admission.admitted) admission.release();
    }
    // Ten leases of ten served the hundred, and the eleventh was asked for ahead.
    expect(asked).toHaveLength(11);
  });

  it("asks for the next lease ahead, so no request waits for the cell while traffic is steady", async () => {
    const answers: Array<(answer: LeaseAnswer) => void> = [];
    let n = 0;
    const ask = (want: LeaseRequest) =>
      new Promise<LeaseAnswer>((resolve) => answers.push(() => resolve({ lease: { id: `l-${n++}`, executions: 8, slots: want.slots, outbound: 0, expiresAt: Date.now() + 60_000 } })));
    const allowance = new EdgeAllowance(ask);
    const admitted: boolean[] = [];
    // Requests one after another, each released before the next.
    const request = async () => {
      const admission = await allowance.admit({ concurrency: 5 });
      admitted.push(admission.admitted);
      if (admission.admitted) admission.release();
    };
    const first = request();
    answers[0]!({} as never);
    await first;
    // The lease of eight: the sixth request leaves two (a quarter), and the next is asked for then.
    for (let i = 0; i < 4; i++) await request();
    expect(answers).toHaveLength(1);
    await request();
    expect(answers).toHaveLength(2);
    answers[1]!({} as never);
    // The seventh and eighth use the current lease; the ninth goes straight to the next one, with no cell call.
    for (let i = 0; i < 3; i++) await request();
    expect(admitted).toEqual(Array(9).fill(true));
    expect(answers).toHaveLength(2);
    expect(allowance.settlements(false)).toEqual([{ id: "l-0", executions: 8, outbound: 0 }]);
  });

  it("never answers a request with the refusal of a lease asked for ahead: it asks for itself, waiting for a slot", async () => {
    const asked: LeaseRequest[] = [];
    let n = 0;
    let refuseAhead!: () => void;
    // A cell with no slot free now: the request asked ahead (no waiting) is refused when the test says; one that may wait is granted.
    const ask = async (want: LeaseRequest): Promise<LeaseAnswer> => {
      asked.push(want);
      if (n > 0 && !want.waitMs) {
        await new Promise<void>((resolve) => (refuseAhead = resolve));
        return { refused: { reason: "concurrency", retryAfterSeconds: 1 } };
      }
      return { lease: { id: `l-${n++}`, executions: 4, slots: 1, outbound: 0, expiresAt: Date.now() + 60_000 } };
    };
    const allowance = new EdgeAllowance(ask);
    const first = await allowance.admit({ concurrency: 5 });
    // Three of four left: the lease is taken again and again; the third leaves one and asks ahead.
    if (first.admitted) first.release();
    const second = await allowance.admit({ concurrency: 5 });
    if (second.admitted) second.release();
    const third = await allowance.admit({ concurrency: 5 });
    expect(asked.map((want) => want.waitMs)).toEqual([expect.any(Number), 0]);
    // The only slot is taken (third still runs) while the ahead request is out: this request waits for it, then asks for itself.
    const pending = allowance.admit({ concurrency: 5 });
    refuseAhead();
    const fourth = await pending;
    expect(fourth.admitted).toBe(true);
    expect(asked.at(-1)!.waitMs).toBeGreaterThan(0);
    if (third.admitted) third.release();
    if (fourth.admitted) fourth.release();
  });

  it("gives back a lease asked for ahead and never used, with the current one, once idle", async () => {
    const { ask } = cell(lend(2, 1));
    let now = Date.now();
    const allowance = new EdgeAllowance(ask, () => now);
    for (let i = 0; i < 2; i++) {
      const admission = await allowance.admit({ concurrency: 5 });
      if (admission.admitted) admission.release();
    }
    await Promise.resolve();
    now += IDLE_SETTLE_MS;
    const settled = allowance.settlements(true);
    expect(settled.map((use) => use.executions).sort()).toEqual([0, 2]);
    expect(allowance.holding).toBe(false);
  });

  it("says when a lease asked for ahead arrives, so it is given back if the tenant goes idle meanwhile", async () => {
    const { ask } = cell(lend(2, 1));
    let arrived = 0;
    const allowance = new EdgeAllowance(ask, Date.now, undefined, { onLeasedAhead: () => (arrived += 1) });
    for (let i = 0; i < 2; i++) {
      const admission = await allowance.admit({ concurrency: 5 });
      if (admission.admitted) admission.release();
    }
    // The answer comes back a few microtasks later.
    for (let i = 0; i < 10 && arrived === 0; i++) await Promise.resolve();
    expect(arrived).toBe(1);
  });

  it("says when a lease has ended, so it is settled without waiting for the next report", async () => {
    const { ask } = cell(lend(1, 1));
    let ended = 0;
    const allowance = new EdgeAllowance(ask, Date.now, undefined, { onEnded: () => (ended += 1) });
    const admission = await allowance.admit({ concurrency: 5 });
    expect(ended).toBe(0);
    if (admission.admitted) admission.release();
    // Spent and nothing running on it: ended.
    await allowance.admit({ concurrency: 5 });
    expect(ended).toBe(1);
  });

  it("shares one lease request among the requests waiting for it", async () => {
    const { asked, ask } = cell(lend(10, 5));
    const allowance = new EdgeAllowance(ask);
    const admissions = await Promise.all(Array.from({ length: 5 }, () => allowance.admit({ concurrency: 5 })));
    expect(admissions.every((a) => a.admitted)).toBe(true);
    expect(asked).toHaveLength(1);
  });

  it("answers the cell's refusal as it is", async () => {
    const allowance = new EdgeAllowance(async () => ({ refused: { reason: "rate", retryAfterSeconds: 7 } }));
    expect(await allowance.admit({ concurrency: 5 })).toEqual({ admitted: false, reason: "rate", retryAfterSeconds: 7 });
  });

  it("settles a spent lease with what it used, once its executions have ended", async () => {
    const { ask } = cell(lend(2, 2));
    let now = Date.now();
    const allowance = new EdgeAllowance(ask, () => now);
    const first = await allowance.admit({ concurrency: 5 });
    const second = await allowance.admit({ concurrency: 5 });
    // The lease is spent: the next admission takes a new one.
    const third = await allowance.admit({ concurrency: 5 });
    expect([first, second, third].every((a) => a.admitted)).toBe(true);
    expect(await allowance.takeOutbound()).toBe(true);
    expect(allowance.settlements(false)).toEqual([]);
    if (first.admitted) first.release();
    if (second.admitted) second.release();
    expect(allowance.settlements(false)).toEqual([{ id: expect.any(String), executions: 2, outbound: 0 }]);
    if (third.admitted) third.release();
    // Idle, but not for long: the current lease is kept for the next request.
    expect(allowance.settlements(true)).toEqual([]);
    now += IDLE_SETTLE_MS;
    expect(allowance.settlements(true)).toEqual([{ id: expect.any(String), executions: 1, outbound: 1 }]);
    expect(allowance.holding).toBe(false);
  });

  it("tops up a lease's outbound requests from the cell when they run out, once for the requests waiting", async () => {
    const { ask } = cell(lend(100, 5));
    const toppedUp: number[] = [];
    let left = 12;
    const allowance = new EdgeAllowance(ask, Date.now, async (_id, want) => {
      const granted = Math.min(want, left);
      left -= granted;
      toppedUp.push(granted);
      return granted;
    });
    const admission = await allowance.admit({ concurrency: 5 });
    expect(admission.admitted).toBe(true);
    // The lease came with 2; then 10 more in one top-up shared by the requests waiting; then 2; then none.
    const taken = await Promise.all(Array.from({ length: 12 }, () => allowance.takeOutbound()));
    expect(taken.every(Boolean)).toBe(true);
    expect(toppedUp).toEqual([10]);
    expect(await allowance.takeOutbound()).toBe(true);
    expect(await allowance.takeOutbound()).toBe(true);
    expect(await allowance.takeOutbound()).toBe(false);
    expect(toppedUp).toEqual([10, 2, 0]);
  });

  it("reuses an idle lease for requests one after another, without asking the cell again", async () => {
    const { asked, ask } = cell(lend(100, 1));
    let now = Date.now();
    const allowance = new EdgeAllowance(ask, () => now);
    for (let i = 0; i < 5; i++) {
      const admission = await allowance.admit({ concurrency: 5 });
      if (admission.admitted) admission.release();
      now += IDLE_SETTLE_MS - 1;
      expect(allowance.settlements(true)).toEqual([]);
    }
    expect(asked).toHaveLength(1);
  });
});

describe("edge reports", () => {
  const record = (i: number): EdgeRecord => ({
    id: `exe-${i}`, scriptId: "scr", version: 1, trigger: "http", attempt: 1, input: null, startedAt: 0, traceId: null, status: "completed",
    resultJson: undefined, error: null, logs: [], finishedAt: 0, durationMs: 0, cpuMs: 0, memoryBytes: 0, sdkCalls: 0,
  });

  it.each([
    { case: "the first report", now: 1_000, lastSentAt: null, delay: FIRST_FLUSH_MS },
    { case: "after a quiet spell", now: 10_000, lastSentAt: 1_000, delay: FIRST_FLUSH_MS },
    { case: "just after a report", now: 1_010, lastSentAt: 1_000, delay: FLUSH_INTERVAL_MS - 10 },
    { case: "as the interval ends", now: 1_000 + FLUSH_INTERVAL_MS - 1, lastSentAt: 1_000, delay: FIRST_FLUSH_MS },
  ])("waits before a report: $case", ({ now, lastSentAt, delay }) => {
    expect(flushDelay(now, lastSentAt)).toBe(delay);
  });

  /** A request's part: its execution's record queued, then its own report (as EdgeTenant.handOver does). */
  const request = (reporter: EdgeReporter, i: number, promptly = false) => {
    reporter.add(record(i));
    return reporter.flushSoon(promptly);
  };

  it("sends a lone record at once and, under steady traffic, at most one report per interval", async () => {
    const sent: Array<{ at: number; records: number }> = [];
    let now = 0;
    const reporter = new EdgeReporter(async (report) => void sent.push({ at: now, records: report.records.length }), () => [], () => true, () => now);
    await request(reporter, 1);
    expect(sent).toEqual([{ at: 0, records: 1 }]);
    // Steady traffic right after: the next records wait for the interval, then go together.
    now = 10;
    const next = [request(reporter, 2), request(reporter, 3)];
    now = FLUSH_INTERVAL_MS;
    await Promise.all(next);
    expect(sent).toEqual([{ at: 0, records: 1 }, { at: FLUSH_INTERVAL_MS, records: 2 }]);
  });

  it("sends at once what must be settled promptly, even while the interval runs", async () => {
    const sent: number[] = [];
    let now = 0;
    const reporter = new EdgeReporter(async (report) => void sent.push(report.records.length), () => [], () => true, () => now);
    await request(reporter, 1);
    now = 10;
    const later = request(reporter, 2);
    // An ended lease: the report leaves after FIRST_FLUSH_MS, with the record waiting, not FLUSH_INTERVAL_MS after the last.
    await reporter.flushSoon(true);
    expect(sent).toEqual([1, 1]);
    await later;
    expect(sent).toEqual([1, 1]);
  });

  it("sends records in batches after a short delay, not one call each", async () => {
    const sent: number[] = [];
    const reporter = new EdgeReporter(async (report) => void sent.push(report.records.length), () => [], () => true);
    await Promise.all(Array.from({ length: 10 }, (_, i) => request(reporter, i)));
    expect(sent).toEqual([10]);
  });

  it("sends a full batch at once, and the rest from the same request", async () => {
    const sent: number[] = [];
    const reporter = new EdgeReporter(async (report) => void sent.push(report.records.length), () => [], () => true);
    for (let i = 0; i <= MAX_BATCH; i++) reporter.add(record(i));
    await reporter.flushSoon();
    expect(sent).toEqual([MAX_BATCH, 1]);
  });

  it("keeps the records of a failed report for the next one", async () => {
    const sent: string[][] = [];
    let fail = true;
    const reporter = new EdgeReporter(
      async (report) => {
        if (fail) {
          fail = false;
          throw new Error("cell unreachable");
        }
        sent.push(report.records.map((r) => r.id));
      },
      () => [],
      () => true,
    );
    await request(reporter, 1);
    await request(reporter, 2);
    expect(sent.flat()).toEqual(["exe-1", "exe-2"]);
  });

  it("a request whose report is in flight is not waited for: the others return, and its sender sends their records too", async () => {
    const sent: string[][] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const reporter = new EdgeReporter(async (report) => {
      calls += 1;
      if (calls === 1) await held;
      sent.push(report.records.map((r) => r.id));
    }, () => [], () => true);
    const sender = request(reporter, 1);
    while (calls === 0) await new Promise((r) => setTimeout(r, 1));
    // Another request while the first report is in flight: it does not wait on it.
    await request(reporter, 2);
    expect(sent).toEqual([]);
    release();
    await sender;
    expect(sent.flat()).toEqual(["exe-1", "exe-2"]);
  });

  it("takes over from a report that never arrives (its request was canceled): its records are sent again", async () => {
    const sent: string[][] = [];
    let now = 0;
    let calls = 0;
    const reporter = new EdgeReporter(
      (report) => {
        calls += 1;
        if (calls === 1) return new Promise<void>(() => {});
        sent.push(report.records.map((r) => r.id));
        return Promise.resolve();
      },
      () => [],
      () => true,
      () => now,
    );
    void request(reporter, 1);
    while (calls === 0) await new Promise((r) => setTimeout(r, 1));
    now = 11_000;
    await request(reporter, 2);
    expect(sent.flat()).toEqual(["exe-1", "exe-2"]);
  });
});
