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
import { diagnose } from "../src/services/source-check";
import { stripTypes } from "../src/sandbox/typescript";
import { CPU_SCRIPT, TRIVIAL_SCRIPT, fiftyKilobyteScript, fiftyKilobyteTypeScript, nativeCpuWork } from "./scripts";

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

  /** Pool statistics and each idle sandbox's QuickJS heap, for the memory scenario. */
  async benchStats() {
    return this.sandbox.stats();
  }
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

bench.get("/native/cpu", (c) => c.json(nativeCpuWork()));

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
