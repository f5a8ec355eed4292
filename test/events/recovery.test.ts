import { evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SWEEP_GRACE_MS } from "../../src/tenant/deliveries";
import { call, createScript, tenantWithKey } from "../helpers/api";
import { cellOf, holdQueue, inCell } from "../helpers/cell";
import { eventually } from "../helpers/wait";

// What a crash leaves behind, and the alarm's sweep bringing every accepted event to an
// end: completed or dead-lettered, each attempt run once. Locally the queue keeps messages
// in memory, so a crash of the stack loses them: `holdQueue` plays that queue (it takes
// the messages and never delivers them), `evictDurableObject` the cell's restart.

const finished = (d: { status: string }) => d.status === "completed" || d.status === "dead_lettered";

async function eventsOf(key: string, ids: string[]) {
  return Promise.all(ids.map(async (id) => (await call(`/api/events/${id}`, { token: key })).json));
}

async function runsOf(key: string, scriptId: string) {
  const items: Array<{ status: string; attempt: number; input: { id: string } }> = (await call(`/api/executions?scriptId=${scriptId}&limit=200`, { token: key })).json.items;
  return items;
}

/** Time passes, as far as the sweep can tell: every due attempt is now overdue by more than its grace. */
async function overdue(slug: string) {
  await inCell(slug, (sql) => sql.exec("UPDATE deliveries SET next_attempt_at = next_attempt_at - ? WHERE status IN ('pending', 'retrying')", 2 * SWEEP_GRACE_MS));
}

describe("recovery: every accepted event ends completed or dead-lettered after a crash (API.md §10)", () => {
  it("messages lost by the queue, an event never fanned out, an attempt cut by a restart: the alarm's sweep finishes them all, each attempt once", async () => {
    const { slug, key } = await tenantWithKey();
    const ok = await createScript(key, { name: "ok", type: "event", trigger: { eventTypes: ["crash.*"] }, source: "export default (e, ctx) => ctx.attempt;" });
    const bad = await createScript(key, { name: "bad", type: "event", trigger: { eventTypes: ["crash.fail"] }, source: "export default () => { throw new Error('always'); };" });
    const lost = await holdQueue(slug);
    const types = ["crash.a", "crash.a", "crash.a", "crash.a", "crash.a", "crash.a", "crash.fail", "crash.fail"];
    const published: string[] = await Promise.all(types.map(async (type, n) => (await call("/api/events", { method: "POST", token: key, body: { type, payload: { n } } })).json.eventId));
    expect(lost).toHaveLength(6 + 2 * 2);

    // A crash after recording an event and before fanning it out, and one in the middle of an attempt.
    const unfanned = "evt_01M8CCCCCCCCCCCCCCCCCCCCC1";
    const cut = "evt_01M8CCCCCCCCCCCCCCCCCCCCC2";
    await inCell(slug, (sql) => {
      const now = Date.now();
      sql.exec("INSERT INTO events (id, type, payload, published_at, source, depth) VALUES (?, 'crash.b', '{}', ?, 'api', 0)", unfanned, now);
      sql.exec("INSERT INTO events (id, type, payload, published_at, source, depth, fanned_out_at) VALUES (?, 'crash.c', '{}', ?, 'api', 0, ?)", cut, now, now);
      sql.exec("INSERT INTO deliveries (event_id, script_id, status, attempts, updated_at) VALUES (?, ?, 'running', 1, ?)", cut, ok.id, now);
      sql.exec("INSERT INTO executions (id, script_id, version, trigger, status, attempt, input, started_at) VALUES ('exe_01M8CCCCCCCCCCCCCCCCCCCCC3', ?, 1, 'event', 'running', 1, ?, ?)", ok.id, JSON.stringify({ id: cut }), now);
    });

    // The cell restarts: in-memory state (and the queue that lost everything) gone.
    const stub = await cellOf(slug);
    await evictDurableObject(stub);
    await overdue(slug);
    // Something is outstanding, so an alarm is armed; it runs the sweep.
    expect(await runDurableObjectAlarm(stub)).toBe(true);

    const all = [...published, unfanned, cut];
    const events = await eventually(
      () => eventsOf(key, all),
      (list) => list.every((e) => e.deliveries.length > 0 && e.deliveries.every(finished)),
      90_000,
    );
    const statuses = events.flatMap((e) => e.deliveries.map((d: { scriptId: string; status: string }) => `${d.scriptId === ok.id ? "ok" : "bad"}:${d.status}`));
    expect(statuses.sort()).toEqual([...Array(all.length).fill("ok:completed"), "bad:dead_lettered", "bad:dead_lettered"].sort());

    // Each ok delivery ran once; the one cut by the restart counted its first attempt and completed the second.
    const okRuns = await runsOf(key, ok.id);
    const okByEvent = new Map<string, string[]>();
    for (const run of okRuns) okByEvent.set(run.input.id, [...(okByEvent.get(run.input.id) ?? []), `${run.status}:${run.attempt}`]);
    for (const id of [...published, unfanned]) expect(okByEvent.get(id)).toEqual(["completed:1"]);
    expect(okByEvent.get(cut)?.sort()).toEqual(["completed:2", "failed:1"]);
    // Each failing delivery ran attempts 1..6 once each, then became a dead letter.
    const badRuns = await runsOf(key, bad.id);
    expect(badRuns).toHaveLength(12);
    const badByEvent = new Map<string, number[]>();
    for (const run of badRuns) badByEvent.set(run.input.id, [...(badByEvent.get(run.input.id) ?? []), run.attempt]);
    for (const attempts of badByEvent.values()) expect(attempts.sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await call(`/api/dead-letters?scriptId=${bad.id}`, { token: key })).json.items).toHaveLength(2);
  }, 120_000);

  it("arms the alarm when it accepts an event, so a crash right after the answer still ends in a sweep", async () => {
    const { slug, key } = await tenantWithKey();
    await createScript(key, { name: "ok", type: "event", trigger: { eventTypes: ["arm.*"] }, source: "export default () => 1;" });
    await holdQueue(slug);
    const { eventId } = (await call("/api/events", { method: "POST", token: key, body: { type: "arm.x" } })).json;
    const stub = await cellOf(slug);
    // A pending delivery whose message may be lost: the alarm is set for when the sweep would re-send it.
    const alarm = await inCell(slug, (_sql, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect(alarm!).toBeLessThanOrEqual(Date.now() + SWEEP_GRACE_MS);
    await evictDurableObject(stub);
    await overdue(slug);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await eventually(async () => (await call(`/api/events/${eventId}`, { token: key })).json, (e) => e.deliveries.every((d: { status: string }) => d.status === "completed"));
  }, 60_000);
});
