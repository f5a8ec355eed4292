import { createExecutionContext, createMessageBatch, getQueueResult, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { call, createScript, tenantWithKey } from "../helpers/api";

let counter = 0;
/** Runs one batch through the Worker's queue handler; answers the per-message verdicts. */
async function consume(queue: string, bodies: Array<{ body: unknown; attempts?: number }>) {
  const messages = bodies.map(({ body, attempts }) => ({ id: `m${++counter}`, timestamp: new Date(), attempts: attempts ?? 1, body }));
  const batch = createMessageBatch(queue, messages);
  // getQueueResult names retried messages but not their delays: record those on the way.
  const delays = new Map<string, number>();
  for (const message of batch.messages) {
    const retry = message.retry.bind(message);
    Object.defineProperty(message, "retry", {
      value: (options?: QueueRetryOptions) => {
        delays.set(message.id, options?.delaySeconds ?? 0);
        retry(options);
      },
    });
  }
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  const result = await getQueueResult(batch, ctx);
  return messages.map((m) => {
    if (result.explicitAcks.includes(m.id)) return "ack";
    return result.retryMessages.some((r) => r.msgId === m.id) ? `retry:${delays.get(m.id)}` : "none";
  });
}

async function tenantIdOf(slug: string) {
  return (await env.DB.prepare("SELECT id FROM tenants WHERE slug = ?").bind(slug).first<{ id: string }>())!.id;
}

/** Makes one tenant's runner retry on a 2-second base (the tests' default is 0). */
async function useRetryBase(slug: string, seconds: string) {
  const stub = env.TENANT_RUNNER.get(env.TENANT_RUNNER.idFromName(await tenantIdOf(slug)));
  await runInDurableObject(stub, (runner) => {
    const target = runner as unknown as { env: Env };
    target.env = { ...target.env, RETRY_BASE_SECONDS: seconds };
  });
}

/** An event with one delivery per subscribed script, recorded without going through the queue. */
async function eventFor(key: string, slug: string, type: string) {
  const { eventId } = (await call("/api/events", { method: "POST", token: key, body: { type, payload: { a: 1 } } })).json;
  await consume("iota-events", [{ body: { kind: "event", tenant: slug, id: eventId, type, payload: { a: 1 }, depth: 0, publishedAt: Date.now(), source: "api" } }]);
  return eventId as string;
}

describe("the events queue consumer, message by message", () => {
  it("acks and retries each message of a mixed batch on its own", async () => {
    const { slug, key } = await tenantWithKey();
    const ok = await createScript(key, { name: "ok", type: "event", trigger: { eventTypes: ["mix.*"] }, source: "export default () => 'fine';" });
    const bad = await createScript(key, { name: "bad", type: "event", trigger: { eventTypes: ["mix.*"] }, source: "export default () => { throw new Error('nope'); };" });
    const never = await createScript(key, { name: "never", type: "event", trigger: { eventTypes: ["mix.*"] }, source: "export default () => { throw new iota.NonRetriableError('bad data'); };" });
    const eventId = await eventFor(key, slug, "mix.one");
    const delivery = (scriptId: string) => ({ body: { kind: "delivery", tenant: slug, eventId, scriptId } });
    const verdicts = await consume("iota-events", [
      delivery(ok.id),
      delivery(bad.id),
      delivery(never.id),
      { body: { kind: "event", tenant: "no-such-tenant-q", type: "x", payload: {} } },
      { body: { kind: "nonsense", tenant: slug } },
      { body: "not even an object" },
    ]);
    expect(verdicts).toEqual(["ack", "retry:0", "ack", "ack", "ack", "ack"]);

    const event = (await call(`/api/events/${eventId}`, { token: key })).json;
    const status = Object.fromEntries(event.deliveries.map((d: { scriptId: string; status: string }) => [d.scriptId, d.status]));
    expect(status).toEqual({ [ok.id]: "completed", [bad.id]: "retrying", [never.id]: "dead_lettered" });
    const letters = (await call("/api/dead-letters", { token: key })).json.items;
    const byScript = Object.fromEntries(letters.map((l: { scriptId: string | null; error: { name: string } }) => [l.scriptId ?? "invalid", l.error.name]));
    expect(byScript).toEqual({ [never.id]: "NonRetriableError", invalid: "InvalidMessage" });
    const rejected = (await call("/api/rejected-messages")).json.items;
    expect(rejected.some((r: { reason: string }) => r.reason.includes("no-such-tenant-q"))).toBe(true);
    expect(rejected.some((r: { body: string }) => r.body === '"not even an object"')).toBe(true);
  });

  it("retries a failing delivery after 2, 4, 8, 16, 32 s (±10% jitter), then dead-letters it", async () => {
    const { slug, key } = await tenantWithKey();
    await useRetryBase(slug, "2");
    const bad = await createScript(key, { name: "bad", type: "event", trigger: { eventTypes: ["retry.me"] }, source: "export default () => { throw new Error('again'); };" });
    const eventId = await eventFor(key, slug, "retry.me");
    const body = { kind: "delivery", tenant: slug, eventId, scriptId: bad.id };
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 5; attempt++) {
      const [verdict] = await consume("iota-events", [{ body, attempts: attempt }]);
      delays.push(Number(verdict!.split(":")[1]));
    }
    const expected = [2, 4, 8, 16, 32];
    delays.forEach((delay, i) => {
      expect(delay).toBeGreaterThanOrEqual(Math.floor(expected[i]! * 0.9));
      expect(delay).toBeLessThanOrEqual(Math.ceil(expected[i]! * 1.1));
    });
    expect(await consume("iota-events", [{ body, attempts: 6 }])).toEqual(["ack"]);
    const [letter] = (await call(`/api/dead-letters?scriptId=${bad.id}`, { token: key })).json.items;
    expect(letter).toMatchObject({ attempts: 6, error: { name: "Error", message: "again" } });
  });

  it("dead-letters at once a delivery for a disabled, paused or missing script", async () => {
    const { slug, key } = await tenantWithKey();
    const paused = await createScript(key, { name: "paused", type: "event", trigger: { eventTypes: ["p.x"] }, source: "export default () => 1;" });
    const eventId = await eventFor(key, slug, "p.x");
    await call(`/api/scripts/${paused.id}/status`, { method: "PATCH", token: key, body: { status: "paused" } });
    expect(await consume("iota-events", [{ body: { kind: "delivery", tenant: slug, eventId, scriptId: paused.id } }])).toEqual(["ack"]);
    const [letter] = (await call("/api/dead-letters", { token: key })).json.items;
    expect(letter).toMatchObject({ scriptId: paused.id, error: { name: "ScriptUnavailable", message: "the script is paused" } });
  });

  it("runs a delivery received twice only once (effectively-once execution)", async () => {
    const { slug, key } = await tenantWithKey();
    const once = await createScript(key, { name: "once", type: "event", trigger: { eventTypes: ["dup.x"] }, source: "export default () => 'ran';" });
    const eventId = await eventFor(key, slug, "dup.x");
    const body = { kind: "delivery", tenant: slug, eventId, scriptId: once.id };
    expect(await consume("iota-events", [{ body }, { body }])).toEqual(["ack", "retry:5"]);
    expect(await consume("iota-events", [{ body, attempts: 2 }])).toEqual(["ack"]);
    const runs = (await call(`/api/executions?scriptId=${once.id}`, { token: key })).json.items;
    expect(runs).toHaveLength(1);
  });

  it("fans out an event received twice into one delivery per script", async () => {
    const { slug, key } = await tenantWithKey();
    await createScript(key, { name: "a", type: "event", trigger: { eventTypes: ["fan.*"] }, source: "export default () => 1;" });
    await createScript(key, { name: "b", type: "event", trigger: { eventTypes: ["*"] }, source: "export default () => 1;" });
    const message = { kind: "event", tenant: slug, id: "evt_01M8AAAAAAAAAAAAAAAAAAAAAA", type: "fan.out", payload: {}, depth: 0, publishedAt: Date.now(), source: "queue" };
    expect(await consume("iota-events", [{ body: message }, { body: message }])).toEqual(["ack", "ack"]);
    const event = (await call("/api/events/evt_01M8AAAAAAAAAAAAAAAAAAAAAA", { token: key })).json;
    expect(event.deliveries).toHaveLength(2);
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

  it("the dead-letter queue's consumer records what the queue gave up on", async () => {
    const { slug, key } = await tenantWithKey();
    const bad = await createScript(key, { name: "bad", type: "event", trigger: { eventTypes: ["dlq.x"] }, source: "export default () => { throw new TypeError('broken'); };" });
    const eventId = await eventFor(key, slug, "dlq.x");
    const body = { kind: "delivery", tenant: slug, eventId, scriptId: bad.id };
    await consume("iota-events", [{ body }]);
    expect(await consume("iota-events-dlq", [{ body, attempts: 6 }])).toEqual(["ack"]);
    const [letter] = (await call("/api/dead-letters", { token: key })).json.items;
    expect(letter).toMatchObject({ scriptId: bad.id, eventId, eventType: "dlq.x", payload: { a: 1 }, attempts: 6, error: { name: "TypeError", message: "broken" } });
    expect(Date.parse(letter.firstFailedAt)).toBeLessThanOrEqual(Date.parse(letter.lastFailedAt));
  });
});
