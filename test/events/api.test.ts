import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createKey, createScript, expectError, tenantWithKey } from "../helpers/api";
import { deliverHeld, holdQueue, inCell } from "../helpers/cell";
import { eventually } from "../helpers/wait";

/** Makes the runner's next alarm start the schedules of `minute` (as if the alarm before it handled the minute before). */
function dueFrom(state: DurableObjectState, minute: number) {
  state.storage.sql.exec("INSERT INTO meta (key, value) VALUES ('schedules_through', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", String(minute - 60_000));
}

/** Makes script `id` look last changed at `at`, and has its cell read it again. */
async function backdate(slug: string, id: string, at: number) {
  await env.DB.prepare("UPDATE scripts SET updated_at = ? WHERE id = ?").bind(at, id).run();
  const row = await env.DB.prepare("SELECT id FROM tenants WHERE slug = ?").bind(slug).first<{ id: string }>();
  await (await runnerOf(slug)).invalidate(row!.id, { scriptId: id });
}

async function runnerOf(slug: string) {
  const row = await env.DB.prepare("SELECT id FROM tenants WHERE slug = ?").bind(slug).first<{ id: string }>();
  return env.TENANT_RUNNER.get(env.TENANT_RUNNER.idFromName(row!.id));
}

describe("POST /api/events (API.md §10)", () => {
  it("answers 202 {eventId}; the same idempotency key answers the first id with Idempotent-Replayed", async () => {
    const { key } = await tenantWithKey();
    const first = await call("/api/events", { method: "POST", token: key, body: { type: "invoice.paid", payload: { n: 1 }, idempotencyKey: "inv-1" } });
    expect(first.status).toBe(202);
    expect(first.json).toEqual({ eventId: expect.stringMatching(/^evt_/) });
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const again = await call("/api/events", { method: "POST", token: key, body: { type: "invoice.paid", payload: { n: 2 }, idempotencyKey: "inv-1" } });
    expect(again.status).toBe(202);
    expect(again.json.eventId).toBe(first.json.eventId);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    const event = (await call(`/api/events/${first.json.eventId}`, { token: key })).json;
    expect(event).toMatchObject({ type: "invoice.paid", payload: { n: 1 }, deliveries: [] });
    // Another tenant's key space is its own.
    const other = await tenantWithKey();
    const theirs = await call("/api/events", { method: "POST", token: other.key, body: { type: "invoice.paid", idempotencyKey: "inv-1" } });
    expect(theirs.json.eventId).not.toBe(first.json.eventId);
    expectError(await call(`/api/events/${first.json.eventId}`, { token: other.key }), 404, "not_found");
  });

  it("records one event for concurrent publishes with the same idempotency key", async () => {
    const { slug, key } = await tenantWithKey();
    const answers = await Promise.all(Array.from({ length: 5 }, (_, n) => call("/api/events", { method: "POST", token: key, body: { type: "same.key", payload: { n }, idempotencyKey: "once" } })));
    expect(new Set(answers.map((a) => a.json.eventId)).size).toBe(1);
    expect(answers.filter((a) => a.headers.get("idempotent-replayed") === "true")).toHaveLength(4);
    expect(await inCell(slug, (sql) => sql.exec<{ n: number }>("SELECT count(*) AS n FROM events").one().n)).toBe(1);
  });

  it("refuses a payload over 100 KB as JSON with 413 payload_too_large, recording nothing; 100 KB exactly is accepted", async () => {
    const { slug, key } = await tenantWithKey();
    // JSON text of {"s":"…"} is 8 bytes plus the string.
    const fits = await call("/api/events", { method: "POST", token: key, body: { type: "big.one", payload: { s: "x".repeat(100 * 1024 - 8) } } });
    expect(fits.status).toBe(202);
    const error = expectError(await call("/api/events", { method: "POST", token: key, body: { type: "big.one", payload: { s: "x".repeat(100 * 1024 - 7) } } }), 413, "payload_too_large");
    expect(error.message).toContain("102400");
    expectError(await call("/api/events", { method: "POST", token: key, body: { type: "big.one", payload: { s: "x".repeat(300 * 1024) } } }), 413, "payload_too_large");
    const stored = await inCell(slug, (sql) => sql.exec<{ id: string }>("SELECT id FROM events").toArray());
    expect(stored.map((e) => e.id)).toEqual([fits.json.eventId]);
  });

  it("refuses bad events with 400 and needs events:publish", async () => {
    const { slug, key } = await tenantWithKey();
    for (const body of [{}, { type: "Bad.Type" }, { type: "a..b" }, { type: "ok", idempotencyKey: "" }, { type: "ok", extra: 1 }, { type: 5 }]) {
      expectError(await call("/api/events", { method: "POST", token: key, body }), 400, "invalid_request");
    }
    const reader = await createKey(slug, ["executions:read"]);
    expectError(await call("/api/events", { method: "POST", token: reader.key, body: { type: "ok" } }), 403, "forbidden");
    expectError(await call("/api/events/evt_nope", { token: key }), 404, "not_found");
  });
});

describe("dead letters API (API.md §10)", () => {
  /** A tenant with `n` dead letters for one script (NonRetriableError dead-letters at once). */
  async function withDeadLetters(n: number) {
    const tenant = await tenantWithKey();
    const script = await createScript(tenant.key, { name: "dl", type: "event", trigger: { eventTypes: ["dl.*"] }, source: "export default () => { throw new iota.NonRetriableError('no'); };" });
    for (let i = 0; i < n; i++) await call("/api/events", { method: "POST", token: tenant.key, body: { type: "dl.x", payload: { i } } });
    const until = Date.now() + 20_000;
    let items: any[] = [];
    while (Date.now() < until) {
      items = (await call("/api/dead-letters?limit=200", { token: tenant.key })).json.items;
      if (items.length === n) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(items).toHaveLength(n);
    return { ...tenant, script, items };
  }

  it("lists newest first with filters and a cursor, and shows one", async () => {
    const { key, script, items } = await withDeadLetters(3);
    expect(items[0]).toMatchObject({ scriptId: script.id, eventType: "dl.x", attempts: 1, error: { name: "NonRetriableError", message: "no" }, replayCount: 0, replayedAt: null, replayExecutionId: null });
    // The event's delivery names the execution that gave up (attempt 1 here).
    const delivery = (await call(`/api/events/${items[0].eventId}`, { token: key })).json.deliveries[0];
    expect(delivery).toMatchObject({ status: "dead_lettered", attempts: 1, executionId: expect.stringMatching(/^exe_/) });
    expect((await call(`/api/executions/${delivery.executionId}`, { token: key })).json).toMatchObject({ scriptId: script.id, attempt: 1, status: "failed" });
    const page = await call("/api/dead-letters?limit=2", { token: key });
    const rest = await call(`/api/dead-letters?limit=2&cursor=${page.json.nextCursor}`, { token: key });
    expect([...page.json.items, ...rest.json.items].map((d: { id: string }) => d.id)).toEqual(items.map((d: { id: string }) => d.id));
    expect((await call(`/api/dead-letters?scriptId=${script.id}`, { token: key })).json.items).toHaveLength(3);
    expect((await call("/api/dead-letters?scriptId=scr_other", { token: key })).json.items).toHaveLength(0);
    expect((await call("/api/dead-letters?replayed=true", { token: key })).json.items).toHaveLength(0);
    expect((await call("/api/dead-letters?since=2999-01-01", { token: key })).json.items).toHaveLength(0);
    expect((await call(`/api/dead-letters/${items[0].id}`, { token: key })).json).toEqual(items[0]);
    for (const query of ["replayed=maybe", "since=soon", "limit=500", "cursor=x"]) expectError(await call(`/api/dead-letters?${query}`, { token: key }), 400, "invalid_request");
  }, 30_000);

  it("bulk replay counts a duplicated id once and sends its delivery once", async () => {
    const { slug, key, script, items } = await withDeadLetters(1);
    const sent = await holdQueue(slug);
    const replay = await call("/api/dead-letters/replay", { method: "POST", token: key, body: { ids: Array.from({ length: 500 }, () => items[0].id) } });
    expect(replay.json).toEqual({ replayed: 1 });
    expect(sent.map((m) => m.body)).toEqual([{ kind: "delivery", tenant: slug, eventId: items[0].eventId, scriptId: script.id, attempt: 1 }]);
    expect(await deliverHeld(sent)).toEqual(["ack"]);
    const runs = (await call(`/api/executions?scriptId=${script.id}`, { token: key })).json.items;
    expect(runs).toHaveLength(2);
    expect((await call(`/api/dead-letters/${items[0].id}`, { token: key })).json).toMatchObject({ replayCount: 1, replayExecutionId: runs[0].id });
  }, 30_000);

  it("replaying a dead letter whose replay is still going starts nothing; once it has ended, a replay starts again", async () => {
    const { slug, key, script, items } = await withDeadLetters(1);
    const sent = await holdQueue(slug);
    const id = items[0].id;
    const first = await call(`/api/dead-letters/${id}/replay`, { method: "POST", token: key });
    expect(first.status).toBe(202);
    expect(first.json).toMatchObject({ id, replayCount: 1, replayExecutionId: null });
    expect((await call(`/api/events/${items[0].eventId}`, { token: key })).json.deliveries[0]).toMatchObject({ status: "pending", attempts: 0 });
    // Its delivery is pending: asking again, one by one or in bulk, changes and sends nothing.
    const again = await call(`/api/dead-letters/${id}/replay`, { method: "POST", token: key });
    expect(again.status).toBe(202);
    expect(again.json).toEqual(first.json);
    expect((await call("/api/dead-letters/replay", { method: "POST", token: key, body: { ids: [id] } })).json).toEqual({ replayed: 0 });
    expect((await call("/api/dead-letters/replay", { method: "POST", token: key, body: { scriptId: script.id } })).json).toEqual({ replayed: 0 });
    expect(sent).toHaveLength(1);
    // The replay runs (and fails for good again): now it may be replayed once more.
    await deliverHeld(sent);
    expect((await call(`/api/dead-letters/${id}`, { token: key })).json).toMatchObject({ replayCount: 1, replayExecutionId: expect.stringMatching(/^exe_/) });
    expect((await call(`/api/dead-letters/${id}/replay`, { method: "POST", token: key })).json).toMatchObject({ replayCount: 2 });
    expect(sent).toHaveLength(1);
  }, 30_000);

  it("replays in bulk by ids and by script, and deletes; needs dlq:manage", async () => {
    const { slug, key, script, items } = await withDeadLetters(3);
    const reader = await createKey(slug, ["executions:read"]);
    expectError(await call(`/api/dead-letters/${items[0].id}/replay`, { method: "POST", token: reader.key }), 403, "forbidden");
    expectError(await call(`/api/dead-letters/${items[0].id}`, { method: "DELETE", token: reader.key }), 403, "forbidden");

    // Replays are held back from the queue, so they are still going when asked again.
    await holdQueue(slug);
    const byIds = await call("/api/dead-letters/replay", { method: "POST", token: key, body: { ids: [items[0].id, items[1].id] } });
    expect(byIds.status).toBe(202);
    expect(byIds.json).toEqual({ replayed: 2 });
    const byScript = await call("/api/dead-letters/replay", { method: "POST", token: key, body: { scriptId: script.id, since: "2000-01-01T00:00:00Z" } });
    expect(byScript.json).toEqual({ replayed: 1 });
    for (const body of [{}, { ids: [] }, { ids: ["nope"] }, { ids: [items[0].id], scriptId: script.id }]) {
      expectError(await call("/api/dead-letters/replay", { method: "POST", token: key, body }), 400, "invalid_request");
    }
    const replayedOnce = (await call(`/api/dead-letters/${items[2].id}`, { token: key })).json;
    expect(replayedOnce.replayCount).toBe(1);

    expect((await call(`/api/dead-letters/${items[0].id}`, { method: "DELETE", token: key })).status).toBe(204);
    expectError(await call(`/api/dead-letters/${items[0].id}`, { token: key }), 404, "not_found");
    expectError(await call(`/api/dead-letters/${items[0].id}/replay`, { method: "POST", token: key }), 404, "not_found");
    const other = await tenantWithKey();
    expectError(await call(`/api/dead-letters/${items[1].id}`, { token: other.key }), 404, "not_found");
  }, 30_000);
});

describe("schedules on Durable Object alarms (API.md §11)", () => {
  it("runs each due script once per minute, even when the alarm fires twice, and re-arms", async () => {
    const { slug, key } = await tenantWithKey();
    const every = await createScript(key, { name: "every", type: "scheduled", trigger: { cron: "* * * * *" }, source: "export default (e) => e;" });
    const stub = await runnerOf(slug);
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    const runs = async () => (await call(`/api/executions?scriptId=${every.id}`, { token: key })).json.items;
    // The runner armed its alarm for the next minute; run it as if that minute were now.
    await runInDurableObject(stub, async (_runner, state) => {
      dueFrom(state, minute);
      expect(await state.storage.getAlarm()).not.toBeNull();
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const [run] = await runs();
    expect(run).toMatchObject({ trigger: "scheduled", status: "completed", result: { scheduledTime: new Date(minute).toISOString(), cron: "* * * * *" } });
    // A doubled alarm for the same minute runs nothing twice.
    await runInDurableObject(stub, (_runner, state) => dueFrom(state, minute));
    await runInDurableObject(stub, (_runner, state) => state.storage.setAlarm(Date.now()));
    await runDurableObjectAlarm(stub);
    expect(await runs()).toHaveLength(1);
    // And the next alarm waits for the next minute.
    const next = await runInDurableObject(stub, (_runner, state) => state.storage.getAlarm());
    expect(next).toBeGreaterThan(minute);
    expect(next! - minute).toBeLessThanOrEqual(120_000);
  });

  it("runs the due minute even when the cell re-armed for the next one before its alarm ran (woken from eviction)", async () => {
    const { slug, key } = await tenantWithKey();
    const every = await createScript(key, { name: "woken", type: "scheduled", trigger: { cron: "* * * * *" }, source: "export default (e) => e.scheduledTime;" });
    const stub = await runnerOf(slug);
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    // What a cell starting for its alarm did first: armed the next minute.
    await runInDurableObject(stub, (_runner, state) => {
      dueFrom(state, minute);
      state.storage.sql.exec("UPDATE meta SET value = ? WHERE key = 'schedule_minute'", String(minute + 60_000));
    });
    await runDurableObjectAlarm(stub);
    const items = (await call(`/api/executions?scriptId=${every.id}`, { token: key })).json.items;
    expect(items.map((e: { result: unknown }) => e.result)).toEqual([new Date(minute).toISOString()]);
  });

  it("catches up on the minutes a late alarm missed, at most five, each once", async () => {
    const { slug, key } = await tenantWithKey();
    const every = await createScript(key, { name: "late", type: "scheduled", trigger: { cron: "* * * * *" }, source: "export default (e) => e.scheduledTime;" });
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    // Saved ten minutes ago (a schedule catches up only on minutes it existed in; see the next test).
    await backdate(slug, every.id, minute - 10 * 60_000);
    const stub = await runnerOf(slug);
    await runInDurableObject(stub, (_runner, state) => dueFrom(state, minute - 9 * 60_000));
    await runDurableObjectAlarm(stub);
    const runs = async () => (await call(`/api/executions?scriptId=${every.id}`, { token: key })).json.items.map((e: { result: string }) => e.result).sort();
    const expected = [4, 3, 2, 1, 0].map((back) => new Date(minute - back * 60_000).toISOString());
    expect(await runs()).toEqual(expected);
    await runInDurableObject(stub, (_runner, state) => dueFrom(state, minute - 9 * 60_000));
    await runDurableObjectAlarm(stub);
    expect(await runs()).toEqual(expected);
  });

  it("does not catch up on minutes from before a schedule was saved or activated", async () => {
    const { slug, key } = await tenantWithKey();
    const every = await createScript(key, { name: "new", type: "scheduled", trigger: { cron: "* * * * *" }, source: "export default (e) => e.scheduledTime;" });
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    // Saved two and a half minutes ago; the last alarm that looked was nine minutes ago.
    await backdate(slug, every.id, minute - 150_000);
    const stub = await runnerOf(slug);
    await runInDurableObject(stub, (_runner, state) => dueFrom(state, minute - 9 * 60_000));
    await runDurableObjectAlarm(stub);
    const runs = (await call(`/api/executions?scriptId=${every.id}`, { token: key })).json.items.map((e: { result: string }) => e.result).sort();
    expect(runs).toEqual([2, 1, 0].map((back) => new Date(minute - back * 60_000).toISOString()));
  });

  it("arms the next alarm before waiting for the runs it started: a long run delays no later minute", async () => {
    const { slug, key } = await tenantWithKey();
    await createScript(key, { name: "long", type: "scheduled", trigger: { cron: "* * * * *" }, source: "export default async () => { await new Promise((r) => setTimeout(r, 5000)); return 1; };" });
    const stub = await runnerOf(slug);
    await runInDurableObject(stub, (_runner, state) => dueFrom(state, Math.floor(Date.now() / 60_000) * 60_000));
    let finished = false;
    const alarm = runDurableObjectAlarm(stub).then(() => (finished = true));
    // While the alarm runs, getAlarm answers null until the handler has set the next one.
    const next = await eventually(() => runInDurableObject(stub, (_runner, state) => state.storage.getAlarm()), (at) => at !== null, 4_000);
    expect(next).not.toBeNull();
    expect(finished).toBe(false);
    await alarm;
  }, 20_000);

  it("skips a run while the previous one is still running, unless allowOverlap", async () => {
    const { slug, key } = await tenantWithKey();
    const strict = await createScript(key, { name: "strict", type: "scheduled", trigger: { cron: "* * * * *" }, source: "export default () => 1;" });
    const loose = await createScript(key, { name: "loose", type: "scheduled", trigger: { cron: "* * * * *", allowOverlap: true }, source: "export default () => 1;" });
    const stub = await runnerOf(slug);
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    await runInDurableObject(stub, (_runner, state) => {
      for (const [i, id] of [strict.id, loose.id].entries()) {
        state.storage.sql.exec("INSERT INTO executions (id, script_id, version, trigger, status, started_at) VALUES (?, ?, 1, 'scheduled', 'running', ?)", `exe_01M8BBBBBBBBBBBBBBBBBBBBB${i}`, id, Date.now());
      }
      dueFrom(state, minute);
    });
    await runDurableObjectAlarm(stub);
    const completed = async (id: string) => (await call(`/api/executions?scriptId=${id}&status=completed`, { token: key })).json.items.length;
    expect(await completed(strict.id)).toBe(0);
    expect(await completed(loose.id)).toBe(1);
  });

  it("stops running a paused script and arms no schedule for it", async () => {
    const { slug, key } = await tenantWithKey();
    const script = await createScript(key, { name: "pausable", type: "scheduled", trigger: { cron: "*/5 * * * *" }, source: "export default () => 1;" });
    const stub = await runnerOf(slug);
    const armed = await runInDurableObject(stub, (_runner, state) => state.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'schedule_minute'").one().value);
    expect(Number(armed) % (5 * 60_000)).toBe(0);
    await call(`/api/scripts/${script.id}/status`, { method: "PATCH", token: key, body: { status: "paused" } });
    await runInDurableObject(stub, (_runner, state) => dueFrom(state, Math.floor(Date.now() / 60_000) * 60_000));
    await runDurableObjectAlarm(stub);
    expect((await call(`/api/executions?scriptId=${script.id}`, { token: key })).json.items).toHaveLength(0);
  });
});
