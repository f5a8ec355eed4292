import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { EventMessage } from "../../src/events/messages";
import { tenantWithKey } from "../helpers/api";
import { resultOf, runScript } from "../helpers/scripts";

/** Captures what the tenant's runner sends to the events queue from now on. */
async function captureQueue(slug: string) {
  const row = await env.DB.prepare("SELECT id FROM tenants WHERE slug = ?").bind(slug).first<{ id: string }>();
  const stub = env.TENANT_RUNNER.get(env.TENANT_RUNNER.idFromName(row!.id));
  const sent: EventMessage[] = [];
  await runInDurableObject(stub, (runner) => {
    const target = runner as unknown as { env: Env };
    target.env = { ...target.env, EVENTS: { sendBatch: async (batch: Array<{ body: EventMessage }>) => void sent.push(...batch.map((m) => m.body)) } as unknown as Queue };
  });
  return sent;
}

describe("iota.events.publish (API.md §9, §10)", () => {
  it("returns an event id and sends the event when the execution completes", async () => {
    const { slug, key } = await tenantWithKey();
    const sent = await captureQueue(slug);
    const execution = await runScript(key, `return await iota.events.publish("order.created", { id: 7 }, { idempotencyKey: "order-7" });`);
    expect(execution.result).toEqual({ eventId: expect.stringMatching(/^evt_/) });
    expect(sent).toEqual([
      {
        kind: "event",
        tenant: slug,
        type: "order.created",
        payload: { id: 7 },
        id: execution.result.eventId,
        depth: 0,
        idempotencyKey: "order-7",
        publishedAt: expect.any(Number),
        source: expect.stringContaining(execution.id),
      },
    ]);
  });

  it("sends nothing when the execution fails or times out (outbox)", async () => {
    const { slug, key } = await tenantWithKey();
    const sent = await captureQueue(slug);
    const failed = await runScript(key, `await iota.events.publish("a.b", {}); throw new Error("after publishing");`);
    expect(failed.status).toBe("failed");
    const timedOut = await runScript(key, `await iota.events.publish("a.b", {}); for (;;) {}`, null, { limits: { timeoutMs: 100 } });
    expect(timedOut.status).toBe("timeout");
    expect(sent).toEqual([]);
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
