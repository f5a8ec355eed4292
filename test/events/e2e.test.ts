import { describe, expect, it } from "vitest";
import { call, createScript, tenantWithKey } from "../helpers/api";
import { holdQueue } from "../helpers/cell";
import { eventually } from "../helpers/wait";

// Through the real local queue: publish → fan-out → delivery → execution, and a failing
// script → six attempts → dead letter → replay. Retries are immediate in tests
// (RETRY_BASE_SECONDS=0): the cell sends each next attempt at once, and the queue's batch
// timeout (1 s) sets the pace.
describe("events end to end, through the local queue", () => {
  it("publish → every subscribed script runs once → GET /api/events/:id shows where it went", async () => {
    const { key } = await tenantWithKey();
    const exact = await createScript(key, { name: "exact", type: "event", trigger: { eventTypes: ["order.created"] }, source: "export default (e, ctx) => ({ got: e.type, payload: e.payload, attempt: ctx.attempt });" });
    const prefix = await createScript(key, { name: "prefix", type: "event", trigger: { eventTypes: ["order.*"] }, source: "export default (e) => e.id;" });
    await createScript(key, { name: "other", type: "event", trigger: { eventTypes: ["user.*"] }, source: "export default () => 1;" });
    await createScript(key, { name: "paused", type: "event", status: "paused", trigger: { eventTypes: ["*"] }, source: "export default () => 1;" });

    const published = await call("/api/events", { method: "POST", token: key, body: { type: "order.created", payload: { id: 42 } } });
    expect(published.status).toBe(202);
    const eventId = published.json.eventId;
    const event = await eventually(
      async () => (await call(`/api/events/${eventId}`, { token: key })).json,
      (e) => e.deliveries?.length === 2 && e.deliveries.every((d: { status: string }) => d.status === "completed"),
    );
    expect(event).toMatchObject({ id: eventId, type: "order.created", payload: { id: 42 }, publishedAt: expect.any(String) });
    expect(event.deliveries.map((d: { scriptId: string }) => d.scriptId).sort()).toEqual([exact.id, prefix.id].sort());
    const exactRun = event.deliveries.find((d: { scriptId: string }) => d.scriptId === exact.id);
    const execution = (await call(`/api/executions/${exactRun.executionId}`, { token: key })).json;
    expect(execution).toMatchObject({ trigger: "event", status: "completed", result: { got: "order.created", payload: { id: 42 }, attempt: 1 } });
  }, 30_000);

  it("a script that keeps failing is retried, then dead-lettered; a replay after the fix completes", async () => {
    const { slug, key } = await tenantWithKey();
    const script = await createScript(key, { name: "flaky", type: "event", trigger: { eventTypes: ["job.run"] }, source: "export default () => { throw new Error('always'); };" });
    const { eventId } = (await call("/api/events", { method: "POST", token: key, body: { type: "job.run", payload: { n: 1 } } })).json;
    const letters = await eventually(
      async () => (await call(`/api/dead-letters?scriptId=${script.id}`, { token: key })).json.items,
      (items) => items.length === 1,
      40_000,
    );
    expect(letters[0]).toMatchObject({ scriptId: script.id, eventId, eventType: "job.run", payload: { n: 1 }, attempts: 6, error: { name: "Error", message: "always" }, replayCount: 0 });
    const event = (await call(`/api/events/${eventId}`, { token: key })).json;
    expect(event.deliveries).toEqual([{ scriptId: script.id, status: "dead_lettered", attempts: 6, executionId: expect.any(String) }]);
    const runs = (await call(`/api/executions?scriptId=${script.id}`, { token: key })).json.items;
    expect(runs.map((r: { attempt: number }) => r.attempt).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    // The delivery names its last execution: attempt 6's.
    expect(runs.find((r: { id: string }) => r.id === event.deliveries[0].executionId)?.attempt).toBe(6);

    await call(`/api/scripts/${script.id}`, { method: "PUT", token: key, body: { source: "export default (e, ctx) => ({ fixed: true, attempt: ctx.attempt });" } });
    const replay = await call(`/api/dead-letters/${letters[0].id}/replay`, { method: "POST", token: key });
    expect(replay.status).toBe(202);
    expect(replay.json).toMatchObject({ id: letters[0].id, replayCount: 1, replayedAt: expect.any(String) });
    const replayed = await eventually(
      async () => (await call(`/api/dead-letters/${letters[0].id}`, { token: key })).json,
      (letter) => letter.replayExecutionId !== null,
    );
    const execution = (await call(`/api/executions/${replayed.replayExecutionId}`, { token: key })).json;
    expect(execution).toMatchObject({ status: "completed", attempt: 1, result: { fixed: true, attempt: 1 } });
    // Replaying what has since completed sends (so runs) nothing again.
    const sent = await holdQueue(slug);
    expect((await call("/api/dead-letters/replay", { method: "POST", token: key, body: { scriptId: script.id } })).json).toEqual({ replayed: 0 });
    expect((await call(`/api/dead-letters/${letters[0].id}/replay`, { method: "POST", token: key })).json).toMatchObject({ replayCount: 1 });
    expect(sent).toEqual([]);
    expect((await call(`/api/executions?scriptId=${script.id}`, { token: key })).json.items).toHaveLength(7);
  }, 60_000);

  it("concurrent publishers with always-failing subscribers: each failing delivery runs attempts 1..6 exactly once, each succeeding one once", async () => {
    const { key } = await tenantWithKey();
    const succeed = await Promise.all(
      ["ok-a", "ok-b"].map((name) => createScript(key, { name, type: "event", trigger: { eventTypes: ["payment.*"] }, source: "export default (e, ctx) => ctx.attempt;" })),
    );
    const fail = await Promise.all(
      ["fail-a", "fail-b"].map((name) => createScript(key, { name, type: "event", trigger: { eventTypes: ["payment.charge"] }, source: "export default () => { throw new Error('card declined'); };" })),
    );
    // Three refunds then a charge, from concurrent publishers, and a second wave of charges.
    const types = ["payment.refund", "payment.refund", "payment.refund", "payment.charge", "payment.charge", "payment.charge"];
    const eventIds: string[] = await Promise.all(types.map(async (type, n) => (await call("/api/events", { method: "POST", token: key, body: { type, payload: { n } } })).json.eventId));
    const finished = (d: { status: string }) => d.status === "completed" || d.status === "dead_lettered";
    const events = await eventually(
      () => Promise.all(eventIds.map(async (id) => (await call(`/api/events/${id}`, { token: key })).json)),
      (all) => all.every((e) => e.deliveries.length === (e.type === "payment.charge" ? 4 : 2) && e.deliveries.every(finished)),
      90_000,
    );
    const charges = events.filter((e) => e.type === "payment.charge").length;
    for (const script of fail) {
      const runs = (await call(`/api/executions?scriptId=${script.id}&limit=200`, { token: key })).json.items;
      // Per event: exactly attempts 1, 2, 3, 4, 5, 6, each once.
      const byEvent = new Map<string, number[]>();
      for (const run of runs) byEvent.set(run.input.id, [...(byEvent.get(run.input.id) ?? []), run.attempt]);
      expect(runs).toHaveLength(6 * charges);
      for (const attempts of byEvent.values()) expect(attempts.sort()).toEqual([1, 2, 3, 4, 5, 6]);
      const letters = (await call(`/api/dead-letters?scriptId=${script.id}`, { token: key })).json.items;
      expect(letters).toHaveLength(charges);
      for (const letter of letters) expect(letter).toMatchObject({ attempts: 6, error: { name: "Error", message: "card declined" } });
    }
    for (const script of succeed) {
      const runs = (await call(`/api/executions?scriptId=${script.id}&limit=200`, { token: key })).json.items;
      expect(runs.map((r: { status: string; attempt: number }) => `${r.status}:${r.attempt}`)).toEqual(eventIds.map(() => "completed:1"));
    }
  }, 120_000);

  it("a script's published events travel the same path, one level deeper", async () => {
    const { key } = await tenantWithKey();
    await createScript(key, { name: "first", type: "event", trigger: { eventTypes: ["chain.start"] }, source: "export default async () => iota.events.publish('chain.next', { hop: 1 });" });
    const second = await createScript(key, { name: "second", type: "event", trigger: { eventTypes: ["chain.next"] }, source: "export default (e) => e.payload;" });
    await call("/api/events", { method: "POST", token: key, body: { type: "chain.start" } });
    const runs = await eventually(async () => (await call(`/api/executions?scriptId=${second.id}`, { token: key })).json.items, (items) => items.length === 1 && items[0].status === "completed");
    expect(runs[0].result).toEqual({ hop: 1 });
  }, 30_000);

  it("runs ?async=true manual runs through the queue", async () => {
    const { key } = await tenantWithKey();
    const script = await createScript(key, { name: "later", source: "export default (e) => e.input * 3;" });
    const { executionId } = (await call(`/api/scripts/${script.id}/run?async=true`, { method: "POST", token: key, body: { input: 5 } })).json;
    const execution = await eventually(async () => (await call(`/api/executions/${executionId}`, { token: key })).json, (e) => e.status === "completed");
    expect(execution.result).toBe(15);
  }, 30_000);
});
