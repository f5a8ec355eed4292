import { describe, expect, it } from "vitest";
import { call, createScript, tenantWithKey } from "../helpers/api";
import { eventually } from "../helpers/wait";

// Through the real local queue: publish → fan-out → delivery → execution, and a failing
// script → six attempts → dead letter → replay. Retries are immediate in tests
// (RETRY_BASE_SECONDS=0), so the queue's own redelivery pace sets the time.
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
    const { key } = await tenantWithKey();
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
    // Replaying what has since completed runs nothing again.
    expect((await call("/api/dead-letters/replay", { method: "POST", token: key, body: { scriptId: script.id } })).json).toEqual({ replayed: 0 });
    await new Promise((r) => setTimeout(r, 1500));
    expect((await call(`/api/executions?scriptId=${script.id}`, { token: key })).json.items).toHaveLength(7);
  }, 60_000);

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
