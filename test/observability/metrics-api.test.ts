import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, createKey, createScript, expectError, tenantWithKey } from "../helpers/api";
import { cellOf } from "../helpers/cell";
import { eventually } from "../helpers/wait";

interface Insides {
  store: import("../../src/tenant/store").TenantStore;
  metrics: import("../../src/tenant/metrics").CellMetrics;
}
const inside = async <T>(slug: string, fn: (runner: Insides) => T) => runInDurableObject(await cellOf(slug), (runner) => fn(runner as unknown as Insides));

const run = (key: string, id: string, input: unknown = null) => call(`/api/scripts/${id}/run`, { method: "POST", token: key, body: { input } });
const FLAKY = "export default (e) => { if (e.input === 'fail') throw new Error('asked to'); if (e.input === 'spin') { for (;;) {} } return { ok: true }; };";

/** The points of the current minute (and hour) that have anything in them. */
const busy = (points: Array<{ invocations: number; refused: number }>) => points.filter((p) => p.invocations > 0 || p.refused > 0);
const total = (points: Array<Record<string, any>>, field: string) => points.reduce((sum, p) => sum + p[field], 0);

describe("metrics (API.md §15)", () => {
  it("counts a script's executions by outcome, its refusals, latency percentiles, CPU and SDK calls, per minute and per hour", async () => {
    const { key } = await tenantWithKey({ executionsPerMinute: 4, timeoutMs: 200 });
    const script = await createScript(key, { name: "flaky", source: FLAKY });
    const other = await createScript(key, { name: "other" });
    expect((await run(key, script.id)).json.status).toBe("completed");
    expect((await run(key, script.id)).json.status).toBe("completed");
    expect((await run(key, script.id, "fail")).json.status).toBe("failed");
    expect((await run(key, other.id)).json.status).toBe("completed");
    expectError(await run(key, script.id), 429, "quota_exceeded");

    const minute = await call(`/api/scripts/${script.id}/metrics`, { token: key });
    expect(minute.status, minute.text).toBe(200);
    expect(minute.json).toMatchObject({ step: "minute", from: expect.any(String), to: expect.any(String) });
    expect(minute.json.points.length).toBeGreaterThanOrEqual(60);
    // Dense: one point per minute, zeros where nothing ran.
    expect(Date.parse(minute.json.points[1].at) - Date.parse(minute.json.points[0].at)).toBe(60_000);
    expect(total(minute.json.points, "invocations")).toBe(3);
    expect(total(minute.json.points, "completed")).toBe(2);
    expect(total(minute.json.points, "failed")).toBe(1);
    expect(total(minute.json.points, "refused")).toBe(1);
    const point = minute.json.points.find((p: any) => p.invocations > 0);
    expect(point.durationMs.p50).toEqual(expect.any(Number));
    expect(point.durationMs.p99).toBeGreaterThanOrEqual(point.durationMs.p50);
    expect(point.cpuMs.sum).toBeGreaterThanOrEqual(point.cpuMs.max);
    expect(point.sdkCalls).toBe(0);
    expect(minute.json.points.find((p: any) => p.invocations === 0)).toMatchObject({ durationMs: { p50: null, p95: null, p99: null }, cpuMs: { sum: 0, max: 0 } });

    const hour = (await call(`/api/scripts/${script.id}/metrics?step=hour`, { token: key })).json;
    expect(hour.points).toHaveLength(25);
    expect(busy(hour.points)).toHaveLength(1);
    expect(busy(hour.points)[0]).toMatchObject({ invocations: 3, completed: 2, failed: 1, timeouts: 0, refused: 1 });

    const tenant = (await call("/api/metrics", { token: key })).json;
    expect(total(tenant.points, "invocations")).toBe(4);
    expect(total(tenant.points, "refused")).toBe(1);
  });

  it("counts timeouts and SDK calls", async () => {
    const { key } = await tenantWithKey({ timeoutMs: 100 });
    const script = await createScript(key, { name: "mixed", source: "export default async (e) => { if (e.input === 'spin') { for (;;) {} } await iota.secrets.get('A'); await iota.secrets.get('B'); return 1; };" });
    await run(key, script.id, "spin");
    await run(key, script.id);
    const points = busy((await call(`/api/scripts/${script.id}/metrics?step=hour`, { token: key })).json.points);
    expect(points[0]).toMatchObject({ invocations: 2, completed: 1, timeouts: 1, sdkCalls: 2 });
  });

  it("counts each execution once, across a restart of the cell, also when the cell went before rolling up", async () => {
    const { slug, key } = await tenantWithKey();
    const script = await createScript(key, { name: "counted" });
    await run(key, script.id);
    await run(key, script.id);
    // Rolled up by the query, then the cell restarts.
    expect(total((await call(`/api/scripts/${script.id}/metrics`, { token: key })).json.points, "invocations")).toBe(2);
    await evictDurableObject(await cellOf(slug));
    await run(key, script.id);
    // The cell goes before its rollup timer fires; and one more record it finished but never rolled up.
    await evictDurableObject(await cellOf(slug));
    await inside(slug, (r) => {
      const id = "exe_01M8000000000000000000000B";
      r.store.insertExecution({ id, scriptId: script.id, version: 1, trigger: "manual", status: "running", attempt: 1, input: null, startedAt: Date.now(), traceId: null });
      r.store.finishExecution(id, r.metrics.nextSeq(), { status: "completed", resultJson: "1", error: null, logs: [], finishedAt: Date.now(), durationMs: 1, cpuMs: 1, memoryBytes: 1, sdkCalls: 0 });
    });
    await evictDurableObject(await cellOf(slug));
    expect(await inside(slug, (r) => r.metrics.pendingCount())).toBeGreaterThanOrEqual(1);
    const points = (await call(`/api/scripts/${script.id}/metrics`, { token: key })).json.points;
    expect(total(points, "invocations")).toBe(4);
    // Asked again: nothing counted twice.
    expect(total((await call(`/api/scripts/${script.id}/metrics`, { token: key })).json.points, "invocations")).toBe(4);
    expect(await inside(slug, (r) => r.metrics.pendingCount())).toBe(0);
  });

  it("rolls up on its own within seconds of an execution (no query needed)", async () => {
    const { slug, key } = await tenantWithKey();
    const script = await createScript(key, { name: "timer" });
    await run(key, script.id);
    expect(await eventually(() => inside(slug, (r) => r.metrics.pendingCount()), (n) => n === 0)).toBe(0);
  });

  it("an execution a restart cut counts as failed", async () => {
    const { slug, key } = await tenantWithKey();
    const script = await createScript(key, { name: "cut" });
    await inside(slug, (r) => r.store.insertExecution({ id: "exe_01M8000000000000000000000A", scriptId: script.id, version: 1, trigger: "manual", status: "running", attempt: 1, input: null, startedAt: Date.now(), traceId: null }));
    await evictDurableObject(await cellOf(slug));
    const points = (await call(`/api/scripts/${script.id}/metrics`, { token: key })).json.points;
    expect(busy(points)).toEqual([expect.objectContaining({ invocations: 1, failed: 1, durationMs: { p50: null, p95: null, p99: null } })]);
  });

  it("ranks the tenant's scripts: the busiest, and the most failing", async () => {
    const { key } = await tenantWithKey();
    const busyOne = await createScript(key, { name: "busy", source: FLAKY });
    const failing = await createScript(key, { name: "failing", source: FLAKY });
    for (let i = 0; i < 3; i++) await run(key, busyOne.id);
    for (let i = 0; i < 2; i++) await run(key, failing.id, "fail");
    const byInvocations = (await call("/api/metrics/scripts?step=hour", { token: key })).json;
    expect(byInvocations.items.map((i: any) => [i.scriptId, i.invocations, i.failed])).toEqual([
      [busyOne.id, 3, 0],
      [failing.id, 2, 2],
    ]);
    expect(byInvocations.items[0].durationMs.p50).toEqual(expect.any(Number));
    const byErrors = (await call("/api/metrics/scripts?sort=errors&limit=1", { token: key })).json;
    expect(byErrors.items.map((i: any) => i.scriptId)).toEqual([failing.id]);
  });

  it("isolation: another tenant's script is a 404, and its executions never show in this tenant's metrics", async () => {
    const a = await tenantWithKey();
    const b = await tenantWithKey();
    const script = await createScript(a.key, { name: "mine" });
    await run(a.key, script.id);
    expectError(await call(`/api/scripts/${script.id}/metrics`, { token: b.key }), 404, "not_found");
    expect(total((await call("/api/metrics", { token: b.key })).json.points, "invocations")).toBe(0);
    expect((await call("/api/metrics/scripts", { token: b.key })).json.items).toEqual([]);
    expect(total((await call("/api/metrics", { token: a.key })).json.points, "invocations")).toBe(1);
  });

  it("needs executions:read", async () => {
    const { slug, key } = await tenantWithKey();
    const script = await createScript(key, { name: "scoped" });
    const writer = await createKey(slug, ["scripts:read", "scripts:write"]);
    expectError(await call(`/api/scripts/${script.id}/metrics`, { token: writer.key }), 403, "forbidden");
    expectError(await call("/api/metrics", { token: writer.key }), 403, "forbidden");
    expectError(await call("/api/metrics", { token: null }), 401, "unauthorized");
  });

  const now = Date.now();
  const iso = (ms: number) => encodeURIComponent(new Date(ms).toISOString());
  const badQueries: Array<[string, string, string]> = [
    ["an unknown step", "step=day", "step"],
    ["a malformed from", "from=yesterday", "from"],
    ["a malformed to", "to=2026-13-45", "to"],
    ["from after to", `from=${iso(now - 60_000)}&to=${iso(now - 120_000)}`, "from"],
    ["minutes older than 48 h", `from=${iso(now - 49 * 3_600_000)}&to=${iso(now - 47 * 3_600_000)}`, "from"],
    ["more than 1 500 points", `from=${iso(now - 26 * 3_600_000)}`, "from"],
    ["hours older than 30 days", `step=hour&from=${iso(now - 31 * 86_400_000)}`, "from"],
    ["an unknown parameter", "window=1h", "window"],
  ];
  for (const [name, query, path] of badQueries) {
    it(`refuses ${name} with a 400 naming it`, async () => {
      const { key } = await tenantWithKey();
      const script = await createScript(key, { name: "q" });
      for (const url of [`/api/scripts/${script.id}/metrics?${query}`, `/api/metrics?${query}`]) {
        const error = expectError(await call(url, { token: key }), 400, "invalid_request");
        expect(error.details.map((d: { path: string }) => d.path)).toContain(path);
      }
    });
  }

  it("answers 24 h of minutes (1 440 points) for one script", async () => {
    const { key } = await tenantWithKey();
    const script = await createScript(key, { name: "day" });
    await run(key, script.id);
    const res = await call(`/api/scripts/${script.id}/metrics?from=${iso(Date.now() - 24 * 3_600_000 + 60_000)}`, { token: key });
    expect(res.status, res.text).toBe(200);
    expect(res.json.points).toHaveLength(1440);
    expect(total(res.json.points, "invocations")).toBe(1);
  });
});

describe("metrics retention (the cell's alarm)", () => {
  it("purges minutes past 48 h and hours past 30 days, in bounded batches, and keeps the rest", async () => {
    const { slug, key } = await tenantWithKey();
    const script = await createScript(key, { name: "kept" });
    await run(key, script.id);
    const HOUR = 3_600_000;
    const now = Date.now();
    await inside(slug, (r) => {
      const sql = (r as unknown as { ctx: DurableObjectState }).ctx.storage.sql;
      r.metrics.rollUpPending();
      const insert = (step: number, at: number) => sql.exec("INSERT INTO metrics (step, script_id, at, invocations) VALUES (?, ?, ?, 1)", step, script.id, at);
      // 6 000 old minutes (past 48 h), 30 minutes inside it; 300 old hours (past 30 days), 30 hours inside.
      for (let i = 0; i < 6_000; i++) insert(60_000, Math.floor((now - 49 * HOUR) / 60_000) * 60_000 - i * 60_000);
      for (let i = 0; i < 30; i++) insert(60_000, Math.floor((now - 47 * HOUR) / 60_000) * 60_000 + i * 60_000);
      for (let i = 0; i < 300; i++) insert(HOUR, Math.floor((now - 31 * 24 * HOUR) / HOUR) * HOUR - i * HOUR);
      for (let i = 0; i < 30; i++) insert(HOUR, Math.floor((now - 29 * 24 * HOUR) / HOUR) * HOUR + i * HOUR);
      r.store.setMeta("last_purge", "0");
    });
    const count = (step: number) =>
      inside(slug, (r) => (r as unknown as { ctx: DurableObjectState }).ctx.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM metrics WHERE step = ? AND script_id = ?", step, script.id).one().n);
    expect(await count(60_000)).toBe(6_000 + 30 + 1);
    const stub = await cellOf(slug);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    // One alarm deletes at most 10 batches of 500 minute rows (and of hour rows).
    expect(await count(60_000)).toBe(6_031 - 5_000);
    expect(await count(HOUR)).toBe(31);
    // A full last batch leaves a backlog: the next alarm goes on.
    expect(await inside(slug, (r) => r.store.getMeta("purge_backlog"))).toBe("1");
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await count(60_000)).toBe(31);
    expect(await count(HOUR)).toBe(31);
    expect(total((await call(`/api/scripts/${script.id}/metrics`, { token: key })).json.points, "invocations")).toBe(1);
  });
});

describe("the cell's metrics JSON", () => {
  it("is exactly the points, serialised (written by hand for speed)", async () => {
    const { slug, key } = await tenantWithKey({ executionsPerMinute: 2 });
    const script = await createScript(key, { name: "json", source: FLAKY });
    await run(key, script.id);
    await run(key, script.id, "fail");
    await run(key, script.id);
    const { metricsWindow } = await import("../../src/observability/window");
    for (const query of [{}, { step: "hour" as const }]) {
      const result = metricsWindow(query, Date.now());
      if (!("window" in result)) throw new Error("window");
      const [text, points] = await inside(slug, (r) => [r.metrics.pointsJson(script.id, result.window), r.metrics.points(script.id, result.window)] as const);
      expect(JSON.parse(text)).toEqual(points);
      expect(text).toBe(JSON.stringify(points));
    }
  });
});
