import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createScript, tenantWithKey } from "../helpers/api";
import { consume, deliverHeld, holdQueue, type Sent, useRetryBase } from "../helpers/cell";

async function tenantIdOf(slug: string) {
  return (await env.DB.prepare("SELECT id FROM tenants WHERE slug = ?").bind(slug).first<{ id: string }>())!.id;
}

/** Publishes through the API; the cell records it and fans it out (its messages held by the test). */
async function publish(key: string, type: string) {
  const { eventId } = (await call("/api/events", { method: "POST", token: key, body: { type, payload: { a: 1 } } })).json;
  return eventId as string;
}

const take = (sent: Sent[], scriptId: string) => {
  const at = sent.findIndex((m) => m.body.kind === "delivery" && m.body.scriptId === scriptId);
  return at < 0 ? undefined : sent.splice(at, 1)[0];
};

describe("the events queue consumer, message by message", () => {
  it("acks each message of a mixed batch; the cell records each delivery's outcome and schedules the retry itself", async () => {
    const { slug, key } = await tenantWithKey();
    const sent = await holdQueue(slug);
    const ok = await createScript(key, { name: "ok", type: "event", trigger: { eventTypes: ["mix.*"] }, source: "export default () => 'fine';" });
    const bad = await createScript(key, { name: "bad", type: "event", trigger: { eventTypes: ["mix.*"] }, source: "export default () => { throw new Error('nope'); };" });
    const never = await createScript(key, { name: "never", type: "event", trigger: { eventTypes: ["mix.*"] }, source: "export default () => { throw new iota.NonRetriableError('bad data'); };" });
    const eventId = await publish(key, "mix.one");
    // The fan-out sent one message per delivery, each asking for attempt 1.
    expect(sent.map((m) => m.body).sort((x, y) => ((x as { scriptId: string }).scriptId < (y as { scriptId: string }).scriptId ? -1 : 1))).toEqual(
      [ok.id, bad.id, never.id].sort().map((scriptId) => ({ kind: "delivery", tenant: slug, eventId, scriptId, attempt: 1 })),
    );
    const deliveries = sent.splice(0, sent.length).map(({ body }) => ({ body }));
    const verdicts = await consume("iota-events", [
      ...deliveries,
      { body: { kind: "event", tenant: "no-such-tenant-q", type: "x", payload: {} } },
      { body: { kind: "nonsense", tenant: slug } },
      { body: "not even an object" },
    ]);
    expect(verdicts).toEqual(["ack", "ack", "ack", "ack", "ack", "ack"]);

    const event = (await call(`/api/events/${eventId}`, { token: key })).json;
    const status = Object.fromEntries(event.deliveries.map((d: { scriptId: string; status: string }) => [d.scriptId, d.status]));
    expect(status).toEqual({ [ok.id]: "completed", [bad.id]: "retrying", [never.id]: "dead_lettered" });
    // The failed one's next attempt went out from the cell, not through a queue retry.
    expect(sent.map((m) => m.body)).toEqual([{ kind: "delivery", tenant: slug, eventId, scriptId: bad.id, attempt: 2 }]);
    const letters = (await call("/api/dead-letters", { token: key })).json.items;
    const byScript = Object.fromEntries(letters.map((l: { scriptId: string | null; error: { name: string } }) => [l.scriptId ?? "invalid", l.error.name]));
    expect(byScript).toEqual({ [never.id]: "NonRetriableError", invalid: "InvalidMessage" });
    const rejected = await env.DB.prepare("SELECT reason FROM rejected_messages WHERE body LIKE '%no-such-tenant-q%'").all<{ reason: string }>();
    expect(rejected.results.map((r) => r.reason)).toEqual(["unknown tenant no-such-tenant-q"]);
  });

  it("sends each retry itself, delayed 2, 4, 8, 16, 32 s (±10% jitter), and dead-letters after the 6th attempt", async () => {
    const { slug, key } = await tenantWithKey();
    const sent = await holdQueue(slug);
    await useRetryBase(slug, "2");
    const bad = await createScript(key, { name: "bad", type: "event", trigger: { eventTypes: ["retry.me"] }, source: "export default () => { throw new Error('again'); };" });
    const eventId = await publish(key, "retry.me");
    const asked: number[] = [];
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 6; attempt++) {
      const message = take(sent, bad.id)!;
      asked.push((message.body as { attempt: number }).attempt);
      delays.push(message.delaySeconds);
      expect(await consume("iota-events", [{ body: message.body }])).toEqual(["ack"]);
    }
    expect(asked).toEqual([1, 2, 3, 4, 5, 6]);
    expect(delays[0]).toBe(0);
    [2, 4, 8, 16, 32].forEach((expected, i) => {
      expect(delays[i + 1]).toBeGreaterThanOrEqual(Math.floor(expected * 0.9));
      expect(delays[i + 1]).toBeLessThanOrEqual(Math.ceil(expected * 1.1));
    });
    expect(sent).toEqual([]);
    const [letter] = (await call(`/api/dead-letters?scriptId=${bad.id}`, { token: key })).json.items;
    expect(letter).toMatchObject({ eventId, attempts: 6, error: { name: "Error", message: "again" } });
    const runs = (await call(`/api/executions?scriptId=${bad.id}`, { token: key })).json.items;
    expect(runs.map((r: { attempt: number }) => r.attempt).sort()).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("dead-letters at once a delivery for a disabled, paused or missing script", async () => {
    const { slug, key } = await tenantWithKey();
    const sent = await holdQueue(slug);
    const paused = await createScript(key, { name: "paused", type: "event", trigger: { eventTypes: ["p.x"] }, source: "export default () => 1;" });
    await publish(key, "p.x");
    await call(`/api/scripts/${paused.id}/status`, { method: "PATCH", token: key, body: { status: "paused" } });
    expect(await deliverHeld(sent)).toEqual(["ack"]);
    const [letter] = (await call("/api/dead-letters", { token: key })).json.items;
    expect(letter).toMatchObject({ scriptId: paused.id, attempts: 1, error: { name: "ScriptUnavailable", message: "the script is paused" } });
  });

  it("runs an attempt once however many copies of its message arrive, together or later (older messages without an attempt too)", async () => {
    const { slug, key } = await tenantWithKey();
    const sent = await holdQueue(slug);
    const once = await createScript(key, { name: "once", type: "event", trigger: { eventTypes: ["dup.x"] }, source: "export default () => 'ran';" });
    const eventId = await publish(key, "dup.x");
    const message = take(sent, once.id)!.body;
    expect(await consume("iota-events", [{ body: message }, { body: message }])).toEqual(["ack", "ack"]);
    expect(await consume("iota-events", [{ body: message, attempts: 2 }])).toEqual(["ack"]);
    const legacy = { kind: "delivery", tenant: slug, eventId, scriptId: once.id };
    expect(await consume("iota-events", [{ body: legacy }])).toEqual(["ack"]);
    const runs = (await call(`/api/executions?scriptId=${once.id}`, { token: key })).json.items;
    expect(runs).toHaveLength(1);
  });

  it("fans out an event received twice into one delivery per script", async () => {
    const { slug, key } = await tenantWithKey();
    const sent = await holdQueue(slug);
    await createScript(key, { name: "a", type: "event", trigger: { eventTypes: ["fan.*"] }, source: "export default () => 1;" });
    await createScript(key, { name: "b", type: "event", trigger: { eventTypes: ["*"] }, source: "export default () => 1;" });
    const message = { kind: "event", tenant: slug, id: "evt_01M8AAAAAAAAAAAAAAAAAAAAAA", type: "fan.out", payload: {}, depth: 0, publishedAt: Date.now(), source: "queue" };
    expect(await consume("iota-events", [{ body: message }, { body: message }])).toEqual(["ack", "ack"]);
    const event = (await call("/api/events/evt_01M8AAAAAAAAAAAAAAAAAAAAAA", { token: key })).json;
    expect(event.deliveries).toHaveLength(2);
    expect(sent).toHaveLength(2);
  });

  it("honours idempotency keys on messages services send straight to the queue", async () => {
    const { slug, key } = await tenantWithKey();
    await createScript(key, { name: "a", type: "event", trigger: { eventTypes: ["idem.x"] }, source: "export default () => 1;" });
    const message = { kind: "event", tenant: slug, type: "idem.x", payload: { n: 1 }, idempotencyKey: "same-key" };
    await consume("iota-events", [{ body: message }]);
    await consume("iota-events", [{ body: { ...message, payload: { n: 2 } } }]);
    const stub = env.TENANT_RUNNER.get(env.TENANT_RUNNER.idFromName(await tenantIdOf(slug)));
    const events = await runInDurableObject(stub, (_runner, state) => state.storage.sql.exec("SELECT payload FROM events").toArray());
    expect(events).toEqual([{ payload: '{"n":1}' }]);
  });

  it("the dead-letter queue's consumer dead-letters a delivery whose due attempt the queue gave up on, and ignores stale copies", async () => {
    const { slug, key } = await tenantWithKey();
    const sent = await holdQueue(slug);
    const bad = await createScript(key, { name: "bad", type: "event", trigger: { eventTypes: ["dlq.x"] }, source: "export default () => { throw new TypeError('broken'); };" });
    const eventId = await publish(key, "dlq.x");
    const first = take(sent, bad.id)!.body;
    await consume("iota-events", [{ body: first }]);
    // A copy of attempt 1 (already run) reaching the DLQ changes nothing.
    expect(await consume("iota-events-dlq", [{ body: first, attempts: 6 }])).toEqual(["ack"]);
    expect((await call("/api/dead-letters", { token: key })).json.items).toEqual([]);
    // The message for attempt 2 never got through: the delivery ends as a dead letter with its last error.
    const second = take(sent, bad.id)!.body;
    expect(await consume("iota-events-dlq", [{ body: second, attempts: 6 }])).toEqual(["ack"]);
    const [letter] = (await call("/api/dead-letters", { token: key })).json.items;
    expect(letter).toMatchObject({ scriptId: bad.id, eventId, eventType: "dlq.x", payload: { a: 1 }, attempts: 1, error: { name: "TypeError", message: "broken" } });
    expect(Date.parse(letter.firstFailedAt)).toBeLessThanOrEqual(Date.parse(letter.lastFailedAt));
    expect((await call(`/api/events/${eventId}`, { token: key })).json.deliveries[0]).toMatchObject({ status: "dead_lettered", attempts: 1 });
  });
});
