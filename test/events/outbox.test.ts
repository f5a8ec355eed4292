import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { QueueMessage } from "../../src/events/messages";
import { Outbox, type RefusalReason } from "../../src/tenant/outbox";
import { call, createScript, tenantWithKey } from "../helpers/api";
import { cellOf, inCell } from "../helpers/cell";
import { eventually } from "../helpers/wait";

const run = (slug: string, n: number): QueueMessage => ({ kind: "run", tenant: slug, executionId: `exe_01M8DDDDDDDDDDDDDDDDDDDD${String(n).padStart(2, "0")}` });
const idOf = (m: QueueMessage) => (m.kind === "run" ? Number(m.executionId.slice(-2)) : -1);

/** An Outbox of its own on the cell's outbox table, sending to `sendBatch`. */
async function withOutbox<T>(slug: string, sendBatch: (batch: MessageSendRequest<QueueMessage>[]) => Promise<void>, fn: (outbox: Outbox, refused: Array<{ body: unknown; reason: RefusalReason }>, sql: SqlStorage) => Promise<T>) {
  return runInDurableObject(await cellOf(slug), async (_runner, state) => {
    const refused: Array<{ body: unknown; reason: RefusalReason }> = [];
    const outbox = new Outbox({
      sql: state.storage.sql,
      queue: () => ({ sendBatch: (batch: Iterable<MessageSendRequest<QueueMessage>>) => sendBatch([...batch]) }) as unknown as Queue,
      transaction: (f) => state.storage.transactionSync(f),
      refused: (body, reason) => void refused.push({ body, reason }),
    });
    return fn(outbox, refused, state.storage.sql);
  });
}

describe("the cell's outbox (API.md §10)", () => {
  it("a stored row over the size limit becomes a dead letter, and the rows behind it are sent", async () => {
    const { slug, key } = await tenantWithKey();
    const script = await createScript(key, { name: "all", type: "event", trigger: { eventTypes: ["*"] }, source: "export default (e) => e.payload.n;" });
    const big = { kind: "event", tenant: slug, id: "evt_01M8EEEEEEEEEEEEEEEEEEEEE1", type: "big.x", payload: { s: "x".repeat(300 * 1024) } };
    const small = { kind: "event", tenant: slug, id: "evt_01M8EEEEEEEEEEEEEEEEEEEEE2", type: "small.x", payload: { n: 1 } };
    // As an older version left them: the big one first, at the head.
    await inCell(slug, (sql) => {
      for (const message of [big, small]) sql.exec("INSERT INTO outbox (message, created_at) VALUES (?, ?)", JSON.stringify(message), Date.now());
    });
    const stub = await cellOf(slug);
    await evictDurableObject(stub);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const event = await eventually(async () => (await call(`/api/events/${small.id}`, { token: key })).json, (e) => e.deliveries?.[0]?.status === "completed");
    expect(event.deliveries).toEqual([{ scriptId: script.id, status: "completed", attempts: 1, executionId: expect.any(String) }]);
    const letters = (await call("/api/dead-letters", { token: key })).json.items;
    expect(letters).toMatchObject([{ scriptId: null, eventId: big.id, eventType: "big.x", error: { name: "PayloadTooLarge", message: expect.stringContaining("102400") } }]);
    expect(await inCell(slug, (sql) => sql.exec<{ n: number }>("SELECT count(*) AS n FROM outbox").one().n)).toBe(0);
  }, 30_000);

  it("runs one flush at a time: flushes asked for while one is sending wait for it, and every row goes once", async () => {
    const { slug } = await tenantWithKey();
    let inFlight = 0;
    let mostInFlight = 0;
    const sent: number[] = [];
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let entered!: () => void;
    const sending = new Promise<void>((resolve) => (entered = resolve));
    const result = await withOutbox(
      slug,
      async (batch) => {
        inFlight += 1;
        mostInFlight = Math.max(mostInFlight, inFlight);
        entered();
        await gate;
        sent.push(...batch.map((m) => idOf(m.body)));
        inFlight -= 1;
      },
      async (outbox, _refused, sql) => {
        outbox.add([run(slug, 1), run(slug, 2), run(slug, 3)], Date.now());
        const first = outbox.flush();
        await sending;
        outbox.add([run(slug, 4), run(slug, 5)], Date.now());
        const more = [outbox.flush(), outbox.flush()];
        open();
        await Promise.all([first, ...more]);
        await outbox.flush();
        return sql.exec<{ n: number }>("SELECT count(*) AS n FROM outbox").one().n;
      },
    );
    expect(sent).toEqual([1, 2, 3, 4, 5]);
    expect(mostInFlight).toBe(1);
    expect(result).toBe(0);
  });

  it("a row the queue refuses for good leaves as a dead letter, one it cannot take now waits with backoff; neither blocks the others", async () => {
    const { slug } = await tenantWithKey();
    const sent: number[] = [];
    const outcome = await withOutbox(
      slug,
      async (batch) => {
        const ids = batch.map((m) => idOf(m.body));
        if (ids.includes(1)) throw new Error("Queue send failed: message length of 200000 bytes exceeds limit of 128000");
        if (ids.includes(3)) throw new Error("Queue send failed: internal error");
        sent.push(...ids);
      },
      async (outbox, refused, sql) => {
        outbox.add([run(slug, 1), run(slug, 2), run(slug, 3), run(slug, 4)], Date.now());
        outbox.add([{ kind: "event", tenant: slug, type: "too.big", payload: "x".repeat(101 * 1024) }], Date.now());
        sql.exec("INSERT INTO outbox (message, created_at) VALUES ('not json', 0)");
        await outbox.flush();
        const left = sql.exec<{ message: string; send_failures: number; next_send_at: number }>("SELECT message, send_failures, next_send_at FROM outbox").toArray();
        return { refused, left, nextSendAt: outbox.nextSendAt() };
      },
    );
    expect(sent.sort()).toEqual([2, 4]);
    expect(outcome.refused.map((r) => r.reason.name).sort()).toEqual(["InvalidMessage", "PayloadTooLarge", "QueueRefused"]);
    expect(outcome.left).toHaveLength(1);
    expect(idOf(JSON.parse(outcome.left[0]!.message))).toBe(3);
    expect(outcome.left[0]!.send_failures).toBe(1);
    expect(outcome.nextSendAt).toBe(outcome.left[0]!.next_send_at);
    expect(outcome.nextSendAt).toBeGreaterThan(Date.now() - 1_000);
  });
});
