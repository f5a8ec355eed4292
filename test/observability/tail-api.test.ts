import { runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createKey, createScript, expectError, tenantWithKey } from "../helpers/api";
import { cellOf } from "../helpers/cell";
import { openSseTail, socketTail, type OpenTail } from "../helpers/tail";
import { eventually } from "../helpers/wait";

const run = (key: string, id: string, input: unknown = null) => call(`/api/scripts/${id}/run`, { method: "POST", token: key, body: { input } });
const LOGGER = "export default (e) => { console.debug('dbg'); console.log('info line'); if (e.input === 'warn') console.warn('careful'); if (e.input === 'fail') { console.error('boom'); throw new Error('asked to'); } return 1; };";
const isExecution = (scriptId?: string) => (e: { event: string; data: any }) => e.event === "execution" && (scriptId === undefined || e.data.scriptId === scriptId);

/** Opens a WebSocket tail through the Worker, with a ticket (as a browser does) or a bearer token. */
async function openSocketTail(query: string, auth: { ticket: string } | { token: string }) {
  const headers: Record<string, string> = { upgrade: "websocket" };
  let url = `http://iota.test/api/tail${query}`;
  if ("ticket" in auth) url += `${query ? "&" : "?"}ticket=${encodeURIComponent(auth.ticket)}`;
  else headers.authorization = `Bearer ${auth.token}`;
  return exports.default.fetch(new Request(url, { headers }));
}

async function ticketOf(key: string): Promise<string> {
  const res = await call("/api/tail/tickets", { method: "POST", token: key });
  expect(res.status, res.text).toBe(201);
  expect(Date.parse(res.json.expiresAt) - Date.now()).toBeLessThanOrEqual(60_000);
  return res.json.ticket;
}

describe("live tail over Server-Sent Events (API.md §15)", () => {
  it("streams each finished execution with its logs, filtered by script, status and level", async () => {
    const { key } = await tenantWithKey();
    const a = await createScript(key, { name: "a", source: LOGGER });
    const b = await createScript(key, { name: "b", source: LOGGER });
    const all = await openSseTail("", key);
    expect(all.status).toBe(200);
    expect(all.response.headers.get("content-type")).toContain("text/event-stream");
    const onlyA = await openSseTail(`?scriptId=${a.id}`, key);
    const failures = await openSseTail("?status=failed,timeout", key);
    const warnings = await openSseTail("?level=warn", key);
    for (const tail of [all, onlyA, failures, warnings]) await tail.next((e) => e.event === "ready");

    const first = (await run(key, a.id)).json;
    const second = (await run(key, b.id, "warn")).json;
    const third = (await run(key, a.id, "fail")).json;

    const seenByAll = [await all.next(isExecution()), await all.next(isExecution()), await all.next(isExecution())];
    expect(seenByAll.map((e) => e.data.id)).toEqual([first.id, second.id, third.id]);
    expect(seenByAll[0]!.data).toMatchObject({ id: first.id, scriptId: a.id, status: "completed", trigger: "manual", traceId: first.traceId, logs: [{ level: "debug", message: "dbg" }, { level: "info", message: "info line" }] });
    expect(seenByAll[0]!.data).not.toHaveProperty("input");
    expect(seenByAll[0]!.data).not.toHaveProperty("result");
    expect(seenByAll[2]!.data).toMatchObject({ status: "failed", error: { name: "Error", message: "asked to" } });

    expect((await onlyA.next(isExecution())).data.id).toBe(first.id);
    expect((await onlyA.next(isExecution())).data.id).toBe(third.id);
    expect((await failures.next(isExecution())).data.id).toBe(third.id);
    const warned = await warnings.next(isExecution());
    expect(warned.data).toMatchObject({ id: second.id, logs: [{ level: "warn", message: "careful" }] });
    expect((await warnings.next(isExecution())).data).toMatchObject({ id: third.id, logs: [{ level: "error", message: "boom" }] });
    // Nothing else came through the filters (the tails saw everything up to the third).
    expect([onlyA, failures, warnings].flatMap((t) => t.seen.filter(isExecution()))).toEqual([]);
    for (const tail of [all, onlyA, failures, warnings]) await tail.close();
  });

  it("isolation: a tenant's tail never sees another tenant's executions", async () => {
    const a = await tenantWithKey();
    const b = await tenantWithKey();
    const scriptA = await createScript(a.key, { name: "a" });
    const scriptB = await createScript(b.key, { name: "b" });
    const tailB = await openSseTail("", b.key);
    await tailB.next((e) => e.event === "ready");
    await run(a.key, scriptA.id);
    const own = (await run(b.key, scriptB.id)).json;
    expect((await tailB.next(isExecution())).data.id).toBe(own.id);
    expect(tailB.seen.filter(isExecution())).toEqual([]);
    // Naming another tenant's script is a 404, as everywhere.
    expectError(await call(`/api/tail?scriptId=${scriptA.id}`, { token: b.key }), 404, "not_found");
    await tailB.close();
  });

  it("bounds the tails per tenant (20), and a closed tail frees its place", async () => {
    const { key } = await tenantWithKey();
    const other = await tenantWithKey();
    const tails: OpenTail[] = [];
    for (let i = 0; i < 20; i++) tails.push(await openSseTail("", key));
    for (const tail of tails) expect(tail.status).toBe(200);
    const refused = await call("/api/tail", { token: key });
    expectError(refused, 429, "quota_exceeded");
    expect(refused.headers.get("retry-after")).toBe("5");
    // Another tenant is not affected.
    const elsewhere = await openSseTail("", other.key);
    expect(elsewhere.status).toBe(200);
    await elsewhere.close();
    await tails.pop()!.close();
    const reopened = await eventually(
      async () => {
        const tail = await openSseTail("", key);
        if (tail.status !== 200) await tail.close();
        return tail;
      },
      (tail) => tail.status === 200,
    );
    expect(reopened.status).toBe(200);
    for (const tail of [...tails, reopened]) await tail.close();
  });

  it("bounds the rate per tail: what it cannot take is skipped and counted, never buffered", async () => {
    const { slug, key } = await tenantWithKey();
    const script = await createScript(key, { name: "burst" });
    const tail = await openSseTail("", key);
    await tail.next((e) => e.event === "ready");
    const record = (await run(key, script.id)).json;
    await tail.next(isExecution());
    // 1 000 finished executions offered at once, faster than any tail may take them.
    await runInDurableObject(await cellOf(slug), (runner) => {
      const tails = (runner as unknown as { tails: import("../../src/tenant/tails").Tails }).tails;
      for (let i = 0; i < 1_000; i++) tails.publish({ ...record, id: `${record.id}-${i}` });
    });
    let received = 0;
    let skipped = 0;
    while (received + skipped < 1_000) {
      const event = await tail.next((e) => e.event === "execution" || e.event === "skipped");
      if (event.event === "execution") received += 1;
      else skipped += event.data.count;
    }
    expect(received + skipped).toBe(1_000);
    expect(skipped).toBeGreaterThan(0);
    expect(received).toBeLessThanOrEqual(300);
    await tail.close();
  });

  it("refuses bad filters and unknown parameters with a 400, and needs executions:read", async () => {
    const { slug, key } = await tenantWithKey();
    for (const [query, path] of [
      ["?status=done", "status"],
      ["?level=loud", "level"],
      ["?scriptId=nope", "scriptId"],
      ["?follow=1", "follow"],
    ]) {
      const error = expectError(await call(`/api/tail${query}`, { token: key }), 400, "invalid_request");
      expect(error.details.map((d: { path: string }) => d.path.split(".")[0])).toContain(path);
    }
    const writer = await createKey(slug, ["scripts:write"]);
    expectError(await call("/api/tail", { token: writer.key }), 403, "forbidden");
    expectError(await call("/api/tail/tickets", { method: "POST", token: writer.key }), 403, "forbidden");
    expectError(await call("/api/tail", { token: null }), 401, "unauthorized");
  });
});

describe("live tail over WebSockets (hibernatable, API.md §15)", () => {
  it("opens with a single-use ticket, streams filtered executions as JSON messages", async () => {
    const { key } = await tenantWithKey();
    const script = await createScript(key, { name: "ws", source: LOGGER });
    const ticket = await ticketOf(key);
    const res = await openSocketTail(`?status=failed`, { ticket });
    expect(res.status).toBe(101);
    const tail = socketTail(res);
    expect((await tail.next((e) => e.event === "ready")).data).toEqual({ filter: { statuses: ["failed"] } });
    await run(key, script.id);
    const failed = (await run(key, script.id, "fail")).json;
    expect((await tail.next(isExecution())).data).toMatchObject({ id: failed.id, status: "failed", logs: expect.any(Array) });
    expect(tail.seen.filter(isExecution())).toEqual([]);
    // Used once: the same ticket opens nothing more.
    expectError(await callRaw(await openSocketTail("", { ticket })), 401, "unauthorized");
    await tail.close();
  });

  it("refuses a forged, expired or misplaced ticket", async () => {
    const { slug, key } = await tenantWithKey();
    expectError(await callRaw(await openSocketTail("", { ticket: "tkt_nope" })), 401, "unauthorized");
    // Well formed, for a tenant that does not exist: refused before any cell is asked.
    expectError(await callRaw(await openSocketTail("", { ticket: `tkt_${"0".repeat(26)}${"A".repeat(43)}` })), 401, "unauthorized");
    const real = await ticketOf(key);
    // Same tenant part, another secret.
    expectError(await callRaw(await openSocketTail("", { ticket: real.slice(0, -4) + "AAAA" })), 401, "unauthorized");
    // Expired (as if 60 s had passed).
    const expiring = await ticketOf(key);
    await runInDurableObject(await cellOf(slug), (_runner, state) => state.storage.sql.exec("UPDATE tail_tickets SET expires_at = ?", Date.now() - 1));
    expectError(await callRaw(await openSocketTail("", { ticket: expiring })), 401, "unauthorized");
    // A ticket only opens a WebSocket.
    const plain = await exports.default.fetch(new Request(`http://iota.test/api/tail?ticket=${await ticketOf(key)}`));
    expectError(await callRaw(plain), 400, "invalid_request");
  });

  it("a WebSocket with the bearer token works too, and counts toward the tenant's 20 tails", async () => {
    const { key } = await tenantWithKey();
    const script = await createScript(key, { name: "bearer" });
    const sockets = [];
    for (let i = 0; i < 20; i++) {
      const res = await openSocketTail("", { token: key });
      expect(res.status).toBe(101);
      sockets.push(socketTail(res));
    }
    expectError(await callRaw(await openSocketTail("", { token: key })), 429, "quota_exceeded");
    expectError(await call("/api/tail", { token: key }), 429, "quota_exceeded");
    const done = (await run(key, script.id)).json;
    for (const tail of sockets) expect((await tail.next(isExecution())).data.id).toBe(done.id);
    // Closing one frees a place.
    await sockets.pop()!.close();
    const reopened = await eventually(() => openSocketTail("", { token: key }), (res) => res.status === 101);
    sockets.push(socketTail(reopened));
    for (const tail of sockets) await tail.close();
  });
});

async function callRaw(res: Response) {
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}
