import { describe, expect, it } from "vitest";
import { call, createKey, createScript, expectError, tenantWithKey } from "../helpers/api";
import { eventually } from "../helpers/wait";

const run = (key: string, id: string, body?: unknown, query = "") => call(`/api/scripts/${id}/run${query}`, { method: "POST", token: key, body });

describe("manual runs: POST /api/scripts/:id/run (API.md §7)", () => {
  it("answers 200 with the execution record, its input, result, logs and measurements", async () => {
    const { key } = await tenantWithKey();
    const script = await createScript(key, { name: "double", source: "export default (e, ctx) => { console.log('got', e.input); return { doubled: e.input * 2, ctx }; };" });
    const res = await run(key, script.id, { input: 21 });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      id: expect.stringMatching(/^exe_/),
      scriptId: script.id,
      version: 1,
      trigger: "manual",
      status: "completed",
      attempt: 1,
      input: { input: 21 },
      result: { doubled: 42, ctx: { scriptId: script.id, version: 1, trigger: "manual", attempt: 1, executionId: res.json.id } },
      error: null,
      logs: [{ level: "info", message: "got 21", at: expect.any(String) }],
      sdkCalls: 0,
    });
    expect(res.json.durationMs).toBeGreaterThanOrEqual(0);
    expect(res.json.cpuMs).toBeGreaterThanOrEqual(0);
    expect(res.json.memoryBytes).toBeGreaterThan(0);
    expect(Date.parse(res.json.finishedAt)).toBeGreaterThanOrEqual(Date.parse(res.json.startedAt));
  });

  it("answers 200 for a script that fails or times out: the outcome is a status", async () => {
    const { key } = await tenantWithKey();
    const failing = await createScript(key, { name: "fails", source: "export default () => { throw new TypeError('no'); };" });
    expect((await run(key, failing.id)).json).toMatchObject({ status: "failed", error: { name: "TypeError", message: "no" } });
    const slow = await createScript(key, { name: "slow", source: "export default () => { for (;;) {} };", limits: { timeoutMs: 150 } });
    const timedOut = await run(key, slow.id);
    expect(timedOut.status).toBe(200);
    expect(timedOut.json).toMatchObject({ status: "timeout", error: { name: "TimeoutError" } });
  });

  it("runs an older version when asked, and any non-archived status by hand", async () => {
    const { key } = await tenantWithKey();
    const script = await createScript(key, { name: "versions", source: "export default () => 1;", status: "draft" });
    await call(`/api/scripts/${script.id}`, { method: "PUT", token: key, body: { source: "export default () => 2;" } });
    expect((await run(key, script.id)).json).toMatchObject({ version: 2, result: 2 });
    expect((await run(key, script.id, { version: 1 })).json).toMatchObject({ version: 1, result: 1 });
    expectError(await run(key, script.id, { version: 9 }), 404, "not_found");
    await call(`/api/scripts/${script.id}/status`, { method: "PATCH", token: key, body: { status: "paused" } });
    expect((await run(key, script.id)).json.status).toBe("completed");
    await call(`/api/scripts/${script.id}`, { method: "DELETE", token: key });
    expectError(await run(key, script.id), 409, "conflict");
  });

  it("with ?async=true answers 202 {executionId}, then shows the execution", async () => {
    const { key } = await tenantWithKey();
    const script = await createScript(key, { name: "later", source: "export default (e) => e.input + '!';" });
    const res = await run(key, script.id, { input: "hi" }, "?async=true");
    expect(res.status).toBe(202);
    expect(res.json).toEqual({ executionId: expect.stringMatching(/^exe_/) });
    const execution = await eventually(
      async () => (await call(`/api/executions/${res.json.executionId}`, { token: key })).json,
      (e) => e.status === "completed",
    );
    expect(execution).toMatchObject({ status: "completed", result: "hi!", trigger: "manual" });
  });

  it("needs scripts:execute, and refuses bad bodies", async () => {
    const { slug, key } = await tenantWithKey();
    const script = await createScript(key, { name: "guarded" });
    const reader = await createKey(slug, ["scripts:read"]);
    expectError(await run(reader.key, script.id), 403, "forbidden");
    expectError(await run(key, script.id, { input: 1, extra: true }), 400, "invalid_request");
    expectError(await run(key, script.id, { version: "one" }), 400, "invalid_request");
    expectError(await run(key, script.id, undefined, "?async=maybe"), 400, "invalid_request");
    expect((await run(key, script.id)).status).toBe(200);
  });
});

describe("executions: GET /api/executions (API.md §7)", () => {
  it("lists newest first, filters by script, status, trigger and since, and pages", async () => {
    const { key } = await tenantWithKey();
    const ok = await createScript(key, { name: "ok", source: "export default () => 'ok';" });
    const bad = await createScript(key, { name: "bad", source: "export default () => { throw new Error('x'); };" });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await run(key, ok.id)).json.id);
    ids.push((await run(key, bad.id)).json.id);

    const all = await call("/api/executions", { token: key });
    expect(all.json.items.map((e: { id: string }) => e.id)).toEqual([...ids].reverse());
    const byScript = await call(`/api/executions?scriptId=${ok.id}`, { token: key });
    expect(byScript.json.items).toHaveLength(3);
    const failed = await call("/api/executions?status=failed", { token: key });
    expect(failed.json.items.map((e: { scriptId: string }) => e.scriptId)).toEqual([bad.id]);
    expect((await call("/api/executions?trigger=http", { token: key })).json.items).toEqual([]);
    expect((await call("/api/executions?since=2999-01-01T00:00:00Z", { token: key })).json.items).toEqual([]);
    expect((await call("/api/executions?since=2000-01-01", { token: key })).json.items).toHaveLength(4);

    const first = await call("/api/executions?limit=3", { token: key });
    const second = await call(`/api/executions?limit=3&cursor=${first.json.nextCursor}`, { token: key });
    expect([...first.json.items, ...second.json.items].map((e: { id: string }) => e.id)).toEqual([...ids].reverse());
    expect(second.json.nextCursor).toBeNull();
  });

  it("refuses bad filters with 400 and hides other tenants' executions (404)", async () => {
    const a = await tenantWithKey();
    const b = await tenantWithKey();
    const script = await createScript(a.key, { name: "mine" });
    const id = (await run(a.key, script.id)).json.id;
    for (const query of ["limit=201", "limit=0", "since=yesterday", "status=done", "trigger=cron", "cursor=zzz"]) {
      expectError(await call(`/api/executions?${query}`, { token: a.key }), 400, "invalid_request");
    }
    expect((await call(`/api/executions/${id}`, { token: a.key })).json.id).toBe(id);
    expectError(await call(`/api/executions/${id}`, { token: b.key }), 404, "not_found");
    expectError(await call(`/api/executions/not-an-id`, { token: a.key }), 404, "not_found");
    expect((await call("/api/executions", { token: b.key })).json.items).toEqual([]);
  });

  it("stores an oversized input and result cut, with a marker", async () => {
    const { key } = await tenantWithKey();
    const script = await createScript(key, { name: "big", source: "export default (e) => 'y'.repeat(100000);" });
    const res = await run(key, script.id, { input: "x".repeat(100_000) });
    expect(res.json.input).toMatchObject({ $truncated: true, size: expect.any(Number), preview: expect.any(String) });
    expect(res.json.result).toMatchObject({ $truncated: true, size: 100_002 });
    expect(res.json.result.preview).toHaveLength(64 * 1024);
  });
});

describe("usage: GET /api/usage (API.md §8)", () => {
  it("shows the limits and what the tenant uses now", async () => {
    const { key } = await tenantWithKey({ executionsPerMinute: 50 });
    const script = await createScript(key, { name: "counted" });
    await run(key, script.id);
    await run(key, script.id);
    const usage = await call("/api/usage", { token: key });
    expect(usage.json).toMatchObject({
      limits: { executionsPerMinute: 50, timeoutMs: 30_000 },
      current: { running: 0, executionsLastMinute: 2, outboundRequestsLastMinute: 0, dbBytes: 0 },
    });
  });
});
