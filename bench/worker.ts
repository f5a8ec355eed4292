/**
 * The benchmark's Worker: the product's Worker, unchanged, plus `/bench/*` routes for the
 * reference points (a bare route, the same code as native JavaScript, the Dynamic Worker
 * Loader peer, sandbox internals) and a TenantRunner that can run a request cold. Served by
 * `wrangler dev -c bench/wrangler.toml` from bench/run.ts, never deployed.
 */
import { Hono } from "hono";
import product from "../src/index";
import { compileScript } from "../src/sandbox/compile";
import { Sandbox } from "../src/sandbox/sandbox";
import { tenantLimits } from "../src/domain/limits";
import { loadQuickJSWasm } from "../src/lib/quickjs-wasm";
import type { RunnableScript } from "../src/tenant/catalogue";
import type { HttpInvocation } from "../src/tenant/http-mapping";
import { TenantRunner as ProductRunner } from "../src/tenant/runner";
import { metricsWindow } from "../src/observability/window";
import { diagnose } from "../src/services/source-check";
import { openDb } from "../src/db/client";
import { placeRequest } from "../src/edge/placement";
import { edgeTenant } from "../src/edge/registry";
import { tenantIdFor } from "../src/services/tenant-ids";
import { stripTypes } from "../src/sandbox/typescript";
import { CPU_SCRIPT, TRIVIAL_SCRIPT, WEBHOOK_HANDLER, WEBHOOK_SECRET, fiftyKilobyteScript, fiftyKilobyteTypeScript, nativeCpuWork, nativeWebhook } from "./scripts";

/** With `x-bench-cold: 1`, a request runs in a new sandbox with a fresh compile, then drops it. */
export class TenantRunner extends ProductRunner {
  protected override forRequest(runnable: RunnableScript, invocation: HttpInvocation): RunnableScript {
    if (!invocation.headers.some(([name, value]) => name.toLowerCase() === "x-bench-cold" && value === "1")) return runnable;
    return { ...runnable, key: `${runnable.key}:cold:${crypto.randomUUID()}`, compiled: compileScript(runnable.version.source, runnable.version.language) };
  }

  protected override afterRequest(runnable: RunnableScript): void {
    if (runnable.key.includes(":cold:")) this.sandbox.pool.evictScript(runnable.key);
  }

  /** Nothing: the cost of the Worker → Durable Object hop alone. */
  async ping() {
    return { ok: true };
  }

  /**
   * Scenario 12: what recording observability adds to an execution in the cell. Runs `n`
   * manual executions of a trivial script through the cell's executor, either as shipped
   * (`observe`: the finish number written with the record, the tails offered the record, the
   * rollup timer armed) or with those three stubbed out ("today's"); the rollup itself runs
   * once afterwards, timed on its own (off the execution's path, still on the cell's thread).
   */
  async benchRecordCost(tenantId: string, scriptId: string, n: number, observe: boolean) {
    const self = this as unknown as BenchInsides;
    const catalogue = self.catalogue(tenantId);
    const tenant = (await catalogue.tenant())!;
    const runnable = (await catalogue.script(scriptId))!;
    self.metrics.rollUpPending();
    const real = { nextSeq: self.metrics.nextSeq, soon: self.metrics.soon, publish: self.tails.publish };
    if (!observe) {
      self.metrics.nextSeq = () => null as unknown as number;
      self.tails.publish = () => {};
    }
    // The timer's rollup is timed below, not inside the loop.
    self.metrics.soon = () => {};
    const started = performance.now();
    try {
      for (let i = 0; i < n; i++) {
        const run = await self.executor.execute(tenant, { runnable, trigger: "manual", event: { input: i }, recordedInput: { input: i } });
        if ("refused" in run) throw new Error(`refused: ${run.refused.reason}`);
      }
    } finally {
      Object.assign(self.metrics, { nextSeq: real.nextSeq, soon: real.soon });
      self.tails.publish = real.publish;
    }
    const totalMs = performance.now() - started;
    const rollupStarted = performance.now();
    const rolledUp = self.metrics.rollUpPending();
    return { n, totalMs, rollupMs: performance.now() - rollupStarted, rolledUp };
  }

  /** Scenario 13: 24 h of minute rollups for a script (and the tenant), as busy minutes leave them. */
  async benchSeedMetrics(tenantId: string, scriptId: string, minutes: number) {
    const self = this as unknown as BenchInsides;
    self.catalogue(tenantId);
    const sql = this.ctx.storage.sql;
    const now = Math.floor(Date.now() / 60_000) * 60_000;
    const sketch = JSON.stringify([0, ...Array.from({ length: 40 }, (_, i) => [i - 20, 50 + i]).flat()]);
    this.ctx.storage.transactionSync(() => {
      for (let i = 0; i < minutes; i++) {
        for (const scope of [scriptId, ""]) {
          sql.exec(
            `INSERT OR REPLACE INTO metrics (step, script_id, at, invocations, completed, failed, timeouts, refused, cpu_sum, cpu_max, sdk_calls, p50, p95, p99, sketch)
             VALUES (60000, ?, ?, 3000, 2990, 8, 2, 0, 900, 4.5, 1200, 0.5, 1.2, 2.5, ?)`,
            scope,
            now - i * 60_000,
            sketch,
          );
        }
      }
    });
    return { minutes };
  }

  /** Scenario 13, inside the cell: the time to answer 24 h of minute points (rows read, points built, JSON written). */
  async benchMetricsQuery(tenantId: string, scriptId: string, n: number) {
    const result = metricsWindow({ from: Date.now() - 24 * 3_600_000 + 60_000 }, Date.now());
    if (!("window" in result)) throw new Error("bad window");
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const started = performance.now();
      bytes = (await this.metricsJson(tenantId, scriptId, result.window)).length;
      times.push(performance.now() - started);
    }
    return { n, meanMs: times.reduce((a, b) => a + b, 0) / n, bytes };
  }

  /** Pool statistics and each idle sandbox's QuickJS heap, for the memory scenario. */
  async benchStats() {
    return this.sandbox.stats();
  }
}

/** The product runner's insides the benchmark reaches into (private there, on purpose). */
interface BenchInsides {
  catalogue(tenantId: string): import("../src/tenant/catalogue").Catalogue;
  executor: import("../src/executor/executor").Executor;
  metrics: import("../src/tenant/metrics").CellMetrics;
  tails: import("../src/tenant/tails").Tails;
}

const bench = new Hono<{ Bindings: Env & { LOADER: WorkerLoader } }>();

bench.get("/floor", (c) => c.json({ ok: true }));

/** A round trip to a tenant's runner that runs nothing: the floor of the script path. */
bench.get("/do-floor/:slug", async (c) => {
  const row = await c.env.DB.prepare("SELECT id FROM tenants WHERE slug = ?").bind(c.req.param("slug")).first<{ id: string }>();
  const stub = c.env.TENANT_RUNNER.get(c.env.TENANT_RUNNER.idFromName(row!.id)) as unknown as TenantRunner;
  return c.json(await stub.ping());
});

/** The tenant runner's sandbox pool, for the memory scenario. */
bench.get("/stats/:slug", async (c) => {
  const row = await c.env.DB.prepare("SELECT id FROM tenants WHERE slug = ?").bind(c.req.param("slug")).first<{ id: string }>();
  if (!row) return c.json({ error: "no tenant" }, 404);
  const stub = c.env.TENANT_RUNNER.get(c.env.TENANT_RUNNER.idFromName(row.id)) as unknown as TenantRunner;
  return c.json(await stub.benchStats());
});

const runnerOf = async (c: { env: Env }, slug: string) => {
  const row = await c.env.DB.prepare("SELECT id FROM tenants WHERE slug = ?").bind(slug).first<{ id: string }>();
  return { tenantId: row!.id, stub: c.env.TENANT_RUNNER.get(c.env.TENANT_RUNNER.idFromName(row!.id)) as unknown as TenantRunner };
};

bench.get("/record-cost/:slug/:scriptId", async (c) => {
  const { tenantId, stub } = await runnerOf(c, c.req.param("slug"));
  return c.json(await stub.benchRecordCost(tenantId, c.req.param("scriptId"), Number(c.req.query("n") ?? "200"), c.req.query("observe") === "1"));
});

bench.get("/seed-metrics/:slug/:scriptId", async (c) => {
  const { tenantId, stub } = await runnerOf(c, c.req.param("slug"));
  return c.json(await stub.benchSeedMetrics(tenantId, c.req.param("scriptId"), Number(c.req.query("minutes") ?? "1440")));
});

bench.get("/metrics-query/:slug/:scriptId", async (c) => {
  const { tenantId, stub } = await runnerOf(c, c.req.param("slug"));
  return c.json(await stub.benchMetricsQuery(tenantId, c.req.param("scriptId"), Number(c.req.query("n") ?? "20")));
});

/**
 * Scenario 16d: where an edge request's time goes inside the Worker, stage by stage, `n`
 * times in this isolate (no HTTP floor): the tenant's lookup, the placement decision, the
 * edge execution (admission, sandbox, record queued for the cell), and the whole product
 * `fetch` of the same URL for comparison.
 */
bench.get("/edge-stages/:slug", async (c) => {
  const slug = c.req.param("slug");
  const path = c.req.query("path") ?? "/edge/trivial";
  const n = Number(c.req.query("n") ?? "500");
  const url = new URL(`/t/${slug}${path}`, c.req.url).href;
  const stages = { lookup: [] as number[], place: [] as number[], invoke: [] as number[], whole: [] as number[] };
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const tenantId = (await tenantIdFor(openDb(c.env.DB), slug))!;
    const edge = edgeTenant(c.env, tenantId);
    const tenant = (await edge.catalogue().tenant())!;
    const t1 = performance.now();
    const invocation: HttpInvocation = { method: "GET", path, search: "", headers: [], body: null, url, basePath: `/t/${slug}` };
    const placement = await placeRequest(edge, c.env, invocation);
    if (placement !== "edge") return c.json({ error: `placed in the ${placement}` }, 400);
    const t2 = performance.now();
    const reply = await edge.invoke(tenant, invocation, c.executionCtx);
    new Response(reply.body, { status: reply.status, headers: reply.headers });
    const t3 = performance.now();
    await (await product.fetch(new Request(url), c.env, c.executionCtx)).arrayBuffer();
    const t4 = performance.now();
    stages.lookup.push(t1 - t0);
    stages.place.push(t2 - t1);
    stages.invoke.push(t3 - t2);
    stages.whole.push(t4 - t3);
  }
  const mean = (times: number[]) => times.reduce((x, y) => x + y, 0) / times.length;
  // The isolate's clock ticks in whole milliseconds: a mean over many runs, not a percentile.
  return c.json(Object.fromEntries(Object.entries(stages).map(([name, times]) => [name, mean(times)])));
});

bench.get("/native/cpu", (c) => c.json(nativeCpuWork()));

/** The Workers-style webhook (scenario 16) as native code in this Worker. */
bench.post("/native/webhook", (c) => nativeWebhook(c.req.raw, { WEBHOOK_SECRET }));

/** The same webhook module in a cached Dynamic Worker Loader isolate, the secret in its env. */
bench.post("/loader-webhook", async (c) => {
  const worker = c.env.LOADER.get("webhook-cached", () => ({
    compatibilityDate: "2026-11-01",
    mainModule: "main.js",
    modules: { "main.js": WEBHOOK_HANDLER },
    env: { WEBHOOK_SECRET },
    globalOutbound: null,
  }));
  return worker.getEntrypoint().fetch(c.req.raw);
});

/** The same scripts in a V8 isolate through the Worker Loader: cached (`fresh=0`) or new (`fresh=N`, N < 100). */
bench.get("/loader/:kind", async (c) => {
  const kind = c.req.param("kind") === "cpu" ? "cpu" : "trivial";
  const fresh = c.req.query("fresh");
  const id = fresh ? `${kind}-fresh-${Number(fresh) % 100}` : `${kind}-cached`;
  const body = kind === "cpu" ? CPU_SCRIPT : TRIVIAL_SCRIPT;
  const worker = c.env.LOADER.get(id, () => ({
    compatibilityDate: "2026-11-01",
    mainModule: "main.js",
    modules: { "main.js": `const handler = (() => { ${body.replace("export default", "return")} })();\nexport default { async fetch() { return Response.json(await handler({}, {})); } };` },
    globalOutbound: null,
  }));
  return worker.getEntrypoint().fetch(c.req.raw);
});

/** The sandbox alone, in this isolate: `n` executions warm (one instance) or cold (a new one each). */
let sandbox: Sandbox | undefined;
bench.get("/sandbox", async (c) => {
  sandbox ??= new Sandbox({ wasmModule: loadQuickJSWasm, memoryBudgetBytes: 96 * 1024 * 1024 });
  const source = c.req.query("source") === "cpu" ? CPU_SCRIPT : TRIVIAL_SCRIPT;
  const cold = c.req.query("mode") === "cold";
  const n = Math.min(Number(c.req.query("n") ?? "100"), 5_000);
  const limits = tenantLimits({});
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const compiled = compileScript(source);
    if (!compiled.ok) return c.json(compiled.diagnostics, 500);
    const key = cold ? `cold-${crypto.randomUUID()}` : "warm";
    const result = await sandbox.execute({ tenant: "bench", scriptKey: key, script: compiled.script, event: {}, ctx: {}, limits });
    if (cold) sandbox.pool.evictScript(key);
    if (result.status !== "completed") return c.json(result, 500);
    times.push(performance.now() - started);
  }
  return c.json({ n, totalMs: times.reduce((a, b) => a + b, 0), times });
});

/**
 * What saving a 50 KB script costs in this isolate, without HTTP or D1: `diagnose` (TypeScript:
 * strip, then the script rules and the factory parse, then QuickJS's own compile) `n` times,
 * or with `step=strip` the stripping alone.
 */
bench.get("/diagnose", async (c) => {
  const language = c.req.query("language") === "typescript" ? "typescript" : "javascript";
  const source = language === "typescript" ? fiftyKilobyteTypeScript() : fiftyKilobyteScript();
  const stripOnly = c.req.query("step") === "strip";
  const n = Math.min(Number(c.req.query("n") ?? "20"), 500);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    if (stripOnly) {
      if (!stripTypes(source).ok) return c.json({ error: "refused" }, 500);
    } else if ((await diagnose(source, language)).length > 0) {
      return c.json({ error: "diagnostics" }, 500);
    }
    times.push(performance.now() - started);
  }
  return c.json({ n, totalMs: times.reduce((a, b) => a + b, 0), times });
});

export default {
  fetch(request: Request, env: Env & { LOADER: WorkerLoader }, ctx: ExecutionContext) {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/bench/")) return bench.fetch(new Request(new URL(url.pathname.slice("/bench".length) + url.search, url), request), env, ctx);
    return product.fetch(request, env, ctx);
  },
  queue: product.queue,
  scheduled: product.scheduled,
} satisfies ExportedHandler<Env & { LOADER: WorkerLoader }>;
