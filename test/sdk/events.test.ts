import { describe, expect, it } from "vitest";
import { call, createScript, tenantWithKey } from "../helpers/api";
import { holdQueue, inCell } from "../helpers/cell";
import { resultOf, runScript } from "../helpers/scripts";

/** The events a tenant's cell has recorded. */
async function recordedEvents(slug: string) {
  return inCell(slug, (sql) => sql.exec<{ id: string; type: string; payload: string; source: string; depth: number }>("SELECT id, type, payload, source, depth FROM events").toArray());
}

describe("iota.events.publish (API.md §9, §10)", () => {
  it("returns an event id and records the event, fanned out to its subscribers, when the execution completes", async () => {
    const { slug, key } = await tenantWithKey();
    const sent = await holdQueue(slug);
    const subscriber = await createScript(key, { name: "on-order", type: "event", trigger: { eventTypes: ["order.*"] }, source: "export default () => 1;" });
    const execution = await runScript(key, `return await iota.events.publish("order.created", { id: 7 }, { idempotencyKey: "order-7" });`);
    const eventId = execution.result.eventId;
    expect(eventId).toMatch(/^evt_/);
    const event = (await call(`/api/events/${eventId}`, { token: key })).json;
    expect(event).toMatchObject({ id: eventId, type: "order.created", payload: { id: 7 }, source: expect.stringContaining(execution.id), deliveries: [{ scriptId: subscriber.id, status: "pending", attempts: 0 }] });
    expect(sent.map((m) => m.body)).toEqual([{ kind: "delivery", tenant: slug, eventId, scriptId: subscriber.id, attempt: 1 }]);
    // The same idempotency key from another execution records nothing more.
    await runScript(key, `return await iota.events.publish("order.created", { id: 8 }, { idempotencyKey: "order-7" });`);
    expect((await recordedEvents(slug)).map((e) => e.id)).toEqual([eventId]);
  });

  it("records and sends nothing when the execution fails or times out (outbox)", async () => {
    const { slug, key } = await tenantWithKey();
    const sent = await holdQueue(slug);
    await createScript(key, { name: "on-all", type: "event", trigger: { eventTypes: ["*"] }, source: "export default () => 1;" });
    const failed = await runScript(key, `await iota.events.publish("a.b", {}); throw new Error("after publishing");`);
    expect(failed.status).toBe("failed");
    const timedOut = await runScript(key, `await iota.events.publish("a.b", {}); for (;;) {}`, null, { limits: { timeoutMs: 100 } });
    expect(timedOut.status).toBe("timeout");
    expect(sent).toEqual([]);
    expect(await recordedEvents(slug)).toEqual([]);
  });

  it("throws QuotaExceededError for a payload over 100 KB as JSON, and publishes one of exactly 100 KB", async () => {
    const { slug, key } = await tenantWithKey();
    // JSON text of {"s":"…"} is 8 bytes plus the string.
    const result = await resultOf(
      key,
      `const names = [];
       for (const size of [100 * 1024 - 8, 100 * 1024 - 7]) {
         try { await iota.events.publish("big.one", { s: "x".repeat(size) }); names.push("published"); } catch (e) { names.push(e.name + ": " + e.message); }
       }
       return names;`,
    );
    expect(result).toEqual(["published", expect.stringMatching(/^QuotaExceededError: .*102400 bytes/)]);
    expect(await recordedEvents(slug)).toHaveLength(1);
  });

  it("refuses bad types, options and too deep chains inside the script", async () => {
    const { key } = await tenantWithKey({ eventDepth: 0 });
    const result = await resultOf(
      key,
      `const names = [];
       for (const call of [() => iota.events.publish("Bad Type", {}), () => iota.events.publish("a", {}, { idempotencyKey: "" }), () => iota.events.publish("a", {}, { delay: 1 })]) {
         try { await call(); names.push("accepted"); } catch (e) { names.push(e.name); }
       }
       return names;`,
    );
    expect(result).toEqual(["ValidationError", "ValidationError", "ValidationError"]);
  });
});
