import { describe, expect, it } from "vitest";
import { call, createScript, expectError, recordedExecution, tenantWithKey } from "../helpers/api";
import { hit } from "../helpers/endpoint";
import { eventually } from "../helpers/wait";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN = "00f067aa0ba902b7";
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/;

// Outbound requests land in test/outbound.ts: echo.test answers with the headers it got.
describe("trace context (W3C traceparent, API.md §15)", () => {
  it("follows one request: endpoint → iota.http carries it → a published event → the subscriber's execution, all one trace", async () => {
    const { key, slug } = await tenantWithKey();
    await createScript(key, {
      name: "front",
      type: "http",
      trigger: { path: "/order", methods: ["POST"] },
      source: `export default async (event) => {
        const echoed = (await iota.http.post("https://echo.test/charge", { body: { n: 1 } })).json();
        await iota.events.publish("order.placed", { sent: echoed.headers.traceparent });
        return { sent: echoed.headers.traceparent };
      };`,
    });
    const subscriber = await createScript(key, { name: "on-order", type: "event", trigger: { eventTypes: ["order.*"] }, source: "export default (e) => e.payload;" });

    const res = await hit(slug, "/order", { method: "POST", json: {}, headers: { traceparent: `00-${TRACE}-${CALLER_SPAN}-01` } });
    expect(res.status, res.text).toBe(200);
    const executionId = res.headers.get("x-iota-execution-id")!;
    const front = (await call(`/api/executions/${executionId}`, { token: key })).json;
    expect(front.traceId).toBe(TRACE);
    // The outgoing call carries the trace, with this execution's own span as its parent.
    const [, sentTrace, sentParent, flags] = TRACEPARENT.exec(res.json.sent)!;
    expect(sentTrace).toBe(TRACE);
    expect(sentParent).not.toBe(CALLER_SPAN);
    expect(flags).toBe("01");

    const trace = await eventually(
      async () => (await call(`/api/executions?traceId=${TRACE}`, { token: key })).json.items as Array<{ id: string; scriptId: string; traceId: string; status: string }>,
      (items) => items.length === 2 && items.every((item) => item.status === "completed"),
    );
    expect(trace.map((e) => e.id)).toContain(executionId);
    const caused = trace.find((e) => e.scriptId === subscriber.id)!;
    expect(caused.traceId).toBe(TRACE);
    // The event itself shows the trace it carries.
    const events = (await call(`/api/executions/${caused.id}`, { token: key })).json;
    expect((await call(`/api/events/${events.input.id}`, { token: key })).json.traceId).toBe(TRACE);
  }, 30_000);

  it("starts a trace where none (or an invalid one) comes in: endpoints, manual runs, API-published events", async () => {
    const { key, slug } = await tenantWithKey();
    await createScript(key, { name: "echo", type: "http", trigger: { path: "/t" }, source: "export default async () => (await iota.http.get('https://echo.test/')).json().headers.traceparent;" });
    const manual = await createScript(key, { name: "manual" });
    const subscriber = await createScript(key, { name: "sub", type: "event", trigger: { eventTypes: ["x.*"] }, source: "export default () => 1;" });

    const plain = await hit(slug, "/t");
    const invalid = await hit(slug, "/t", { headers: { traceparent: `00-${"0".repeat(32)}-${CALLER_SPAN}-01` } });
    const ids = [];
    for (const res of [plain, invalid]) {
      // Edge executions' records reach the cell after their responses.
      const execution = await recordedExecution(key, res.headers.get("x-iota-execution-id")!);
      expect(execution.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(TRACEPARENT.exec(res.json)![1]).toBe(execution.traceId);
      ids.push(execution.traceId);
    }
    expect(ids[0]).not.toBe(ids[1]);

    const run = (await call(`/api/scripts/${manual.id}/run`, { method: "POST", token: key })).json;
    expect(run.traceId).toMatch(/^[0-9a-f]{32}$/);
    const kept = (await call(`/api/scripts/${manual.id}/run`, { method: "POST", token: key, headers: { traceparent: `00-${TRACE}-${CALLER_SPAN}-00` } })).json;
    expect(kept.traceId).toBe(TRACE);
    const queued = await call(`/api/scripts/${manual.id}/run?async=true`, { method: "POST", token: key });
    const asyncRun = await eventually(async () => (await call(`/api/executions/${queued.json.executionId}`, { token: key })).json, (e) => e.status === "completed");
    expect(asyncRun.traceId).toMatch(/^[0-9a-f]{32}$/);

    const { eventId } = (await call("/api/events", { method: "POST", token: key, body: { type: "x.y", payload: {} } })).json;
    const event = (await call(`/api/events/${eventId}`, { token: key })).json;
    expect(event.traceId).toMatch(/^[0-9a-f]{32}$/);
    const caused = await eventually(async () => (await call(`/api/executions?scriptId=${subscriber.id}`, { token: key })).json.items, (items) => items.length === 1);
    expect(caused[0].traceId).toBe(event.traceId);
  }, 30_000);

  it("GET /api/executions?traceId= lists a trace's executions; a bad trace id is a 400", async () => {
    const { key } = await tenantWithKey();
    const script = await createScript(key, { name: "traced" });
    for (let i = 0; i < 2; i++) await call(`/api/scripts/${script.id}/run`, { method: "POST", token: key, headers: { traceparent: `00-${TRACE}-${CALLER_SPAN}-01` } });
    await call(`/api/scripts/${script.id}/run`, { method: "POST", token: key });
    expect((await call(`/api/executions?traceId=${TRACE}`, { token: key })).json.items).toHaveLength(2);
    for (const bad of [TRACE.toUpperCase(), "0".repeat(32), "abc"]) {
      const error = expectError(await call(`/api/executions?traceId=${bad}`, { token: key }), 400, "invalid_request");
      expect(error.details[0].path).toBe("traceId");
    }
  });
});
