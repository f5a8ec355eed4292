import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createScript, recordedExecution, recordedExecutions, tenantWithKey } from "../helpers/api";
import { hit } from "../helpers/endpoint";
import { CACHE_TTL_MS, EdgeTenant } from "../../src/edge/tenant";

/** Where a response says it ran: `Server-Timing: placement;desc="edge|cell", sandbox;dur=…`. */
function placementOf(res: { headers: Headers }): string | undefined {
  return /placement;desc="(edge|cell)"/.exec(res.headers.get("server-timing") ?? "")?.[1];
}

async function endpoint(source: string, extra: Record<string, unknown> = {}, limits?: Record<string, number>) {
  const { slug, key } = await tenantWithKey(limits);
  const script = await createScript(key, { name: "endpoint", type: "http", trigger: { path: "/it" }, source, ...extra });
  return { slug, key, script };
}

const edgeCpuMs = Number(env.EDGE_CPU_MS ?? 50);

describe("placement: where an http script runs (API.md §14)", () => {
  it("a new script is auto, and auto runs a stateless script at the edge", async () => {
    const { slug, script } = await endpoint("export default () => 'here';");
    expect(script.placement).toBe("auto");
    const res = await hit(slug, "/it");
    expect(res.json).toBe("here");
    expect(placementOf(res)).toBe("edge");
    expect(res.headers.get("server-timing")).toMatch(/sandbox;dur=\d/);
  });

  it("auto runs a script that may use iota.db or iota.events in the cell", async () => {
    const db = await endpoint("export default async () => await iota.db.count('n');");
    expect(placementOf(await hit(db.slug, "/it"))).toBe("cell");
    const events = await endpoint("export default async () => { await iota.events.publish('x.y', {}); return 1; };");
    expect(placementOf(await hit(events.slug, "/it"))).toBe("cell");
  });

  it("auto runs a script whose own cpuMs is above the edge slice in the cell", async () => {
    const { slug } = await endpoint("export default () => 1;", { limits: { cpuMs: edgeCpuMs + 1 } });
    expect(placementOf(await hit(slug, "/it"))).toBe("cell");
  });

  it("takes edge and cell as chosen, and a new version's placement from its next request", async () => {
    const { slug, key, script } = await endpoint("export default () => 1;", { placement: "cell" });
    expect(placementOf(await hit(slug, "/it"))).toBe("cell");
    const put = await call(`/api/scripts/${script.id}`, { method: "PUT", token: key, body: { placement: "edge" }, headers: { "if-match": `"${script.version}"` } });
    expect(put.status).toBe(200);
    expect(put.json.placement).toBe("edge");
    // The isolate that handled the write serves it at once.
    expect(placementOf(await hit(slug, "/it"))).toBe("edge");
  });

  it("refuses an unknown placement with 400 and saves nothing", async () => {
    const { key } = await tenantWithKey();
    const res = await call("/api/scripts", { method: "POST", token: key, body: { name: "p", type: "http", trigger: { path: "/p" }, source: "export default () => 1;", placement: "near" } });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("invalid_request");
    expect((await call("/api/scripts", { token: key })).json.items).toHaveLength(0);
  });

  it("runs an edge execution under the edge CPU slice, whatever the script's own cpuMs", async () => {
    const { slug, key } = await endpoint("export default () => { for (;;) {} };", { placement: "edge", limits: { cpuMs: 5_000 } });
    const res = await hit(slug, "/it");
    expect(placementOf(res)).toBe("edge");
    expect(res.status).toBeGreaterThanOrEqual(500);
    const record = await recordedExecution(key, res.headers.get("x-iota-execution-id")!);
    expect(record.status).toBe("timeout");
    expect(record.error.name).toBe("CpuLimitError");
    expect(record.cpuMs).toBeLessThan(5_000);
  });
});

describe("edge executions: admission, records, events, caches", () => {
  it("answers the same 429 at the edge as in the cell when the rate is spent", async () => {
    const limits = { executionsPerMinute: 2 };
    const edge = await endpoint("export default () => 1;", { placement: "edge" }, limits);
    const cell = await endpoint("export default () => 1;", { placement: "cell" }, limits);
    const refusals = [];
    for (const { slug } of [edge, cell]) {
      const answers = [await hit(slug, "/it"), await hit(slug, "/it"), await hit(slug, "/it")];
      expect(answers.map((a) => a.status)).toEqual([200, 200, 429]);
      refusals.push(answers[2]!);
    }
    const [atEdge, inCell] = refusals;
    expect(atEdge!.json.error.code).toBe("quota_exceeded");
    expect(atEdge!.json.error.details.reason).toBe("rate");
    expect(inCell!.json.error.details.reason).toBe("rate");
    expect(Object.keys(atEdge!.json.error).sort()).toEqual(Object.keys(inCell!.json.error).sort());
    expect(Number(atEdge!.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(Number(inCell!.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("counts edge and cell executions against the one per-tenant rate", async () => {
    const { slug, key } = await tenantWithKey({ executionsPerMinute: 3 });
    await createScript(key, { name: "e", type: "http", trigger: { path: "/e" }, source: "export default () => 'e';", placement: "edge" });
    await createScript(key, { name: "c", type: "http", trigger: { path: "/c" }, source: "export default () => 'c';", placement: "cell" });
    const statuses = [];
    for (const path of ["/e", "/c", "/e", "/c", "/e"]) statuses.push((await hit(slug, path)).status);
    // Never more than three admitted in the minute, wherever they ran (a lease may under-admit).
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(3);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
  });

  it("hands every edge record to the tenant's history after the responses, within seconds", async () => {
    const { slug, key } = await endpoint("export default (e) => { iota.log.info('n', e.query.n); return Number(e.query.n); };", { placement: "edge" });
    const ids = [];
    for (let n = 0; n < 25; n++) {
      const res = await hit(slug, `/it?n=${n}`);
      expect(placementOf(res)).toBe("edge");
      ids.push(res.headers.get("x-iota-execution-id"));
    }
    const items = await recordedExecutions(key, 25, "?limit=100");
    expect(items.map((e) => e.id).sort()).toEqual([...ids].sort());
    const one = await recordedExecution(key, ids[7]!);
    expect(one).toMatchObject({ trigger: "http", status: "completed", result: 7 });
    expect(one.logs.map((l: { message: string }) => l.message)).toEqual(["n 7"]);
  });

  it("hands an edge script's published events to the cell before its response leaves", async () => {
    const { slug, key } = await endpoint("export default async () => (await iota.events.publish('order.placed', { n: 1 })).eventId;", { placement: "edge" });
    const res = await hit(slug, "/it");
    expect(placementOf(res)).toBe("edge");
    // No waiting: a 2xx means the event is already the cell's.
    const event = await call(`/api/events/${res.json}`, { token: key });
    expect(event.status).toBe(200);
    expect(event.json).toMatchObject({ type: "order.placed", payload: { n: 1 } });
  });

  it("spends the tenant's outbound requests at the edge past a lease's first allowance, and no more than the minute's", async () => {
    const source = "export default async (e) => { const out = []; for (let i = 0; i < Number(e.query.n); i++) { try { out.push((await fetch('https://echo.test/')).status); } catch (error) { out.push(error.name); } } return out; };";
    const { slug } = await endpoint(source, { placement: "edge" }, { outboundRequestsPerMinute: 15 });
    const first = await hit(slug, "/it?n=12");
    expect(placementOf(first)).toBe("edge");
    expect(first.json).toEqual(Array(12).fill(200));
    const second = await hit(slug, "/it?n=5");
    expect(second.json).toEqual([200, 200, 200, "QuotaExceededError", "QuotaExceededError"]);
  });

  it("runs iota.db from an edge execution against the tenant's cell", async () => {
    const { slug } = await endpoint(
      "export default async () => { await iota.db.insert('hits', { at: 1 }); return await iota.db.count('hits'); };",
      { placement: "edge" },
    );
    const first = await hit(slug, "/it");
    expect(placementOf(first)).toBe("edge");
    expect(first.json).toBe(1);
    expect((await hit(slug, "/it")).json).toBe(2);
  });

  it("serves a saved, paused and archived script accordingly at once in the isolate that handled the write", async () => {
    const { slug, key, script } = await endpoint("export default () => 'v1';");
    expect((await hit(slug, "/it")).json).toBe("v1");
    const saved = await call(`/api/scripts/${script.id}`, { method: "PUT", token: key, body: { source: "export default () => 'v2';" }, headers: { "if-match": `"${script.version}"` } });
    expect(saved.status).toBe(200);
    expect((await hit(slug, "/it")).json).toBe("v2");
    expect((await call(`/api/scripts/${script.id}/status`, { method: "PATCH", token: key, body: { status: "paused" } })).status).toBe(200);
    expect((await hit(slug, "/it")).status).toBe(404);
    expect((await call(`/api/scripts/${script.id}/status`, { method: "PATCH", token: key, body: { status: "active" } })).status).toBe(200);
    expect((await hit(slug, "/it")).json).toBe("v2");
    expect((await call(`/api/scripts/${script.id}`, { method: "DELETE", token: key })).status).toBe(204);
    expect((await hit(slug, "/it")).status).toBe(404);
  });
});

describe("edge caches: a change reaches every isolate within 5 s (API.md §14)", () => {
  it("an isolate that did not handle a write serves the old version until its cache is 5 s old, then the new one", async () => {
    const { slug, key, script } = await endpoint("export default () => 'v1';", { placement: "edge" });
    const { id: tenantId } = (await env.DB.prepare("SELECT id FROM tenants WHERE slug = ?").bind(slug).first<{ id: string }>())!;
    let now = 1_000_000;
    // Another isolate's view of the tenant: its caches, its clock; writes handled here never reach it directly.
    const elsewhere = new EdgeTenant(env, tenantId, () => now);
    expect((await elsewhere.catalogue().script(script.id))?.version.version).toBe(1);
    const saved = await call(`/api/scripts/${script.id}`, { method: "PUT", token: key, body: { source: "export default () => 'v2';" } });
    expect(saved.json.version).toBe(2);
    now += CACHE_TTL_MS - 1;
    expect((await elsewhere.catalogue().script(script.id))?.version.version).toBe(1);
    now += 1;
    expect((await elsewhere.catalogue().script(script.id))?.version.version).toBe(2);
  });
});
