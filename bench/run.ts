/**
 * `npm run bench` (`-- --quick` for CI's smoke run, under a minute; `-- --ui` for the admin
 * UI's first load in Chromium, bench/ui.ts; `-- --events` for the
 * events scenario alone, `-- --saving` for scenario 12 alone, both printed only): starts the benchmark
 * stack with `wrangler dev` on loopback, sets up tenants and scripts through the API, runs
 * every scenario beside its reference in this one run, stops the stack, and writes
 * bench/results.json and bench/RESULTS.md (quick mode: bench/quick-results.json only).
 */
import { execSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { startLocalStack } from "../scripts/local-stack";
import { root } from "../scripts/project-env.mjs";
import { handlerRows, importsBench, sandboxBench, type SandboxBenchResult, wasm, webhookDelivery } from "./sandbox-node";
import { CPU_SCRIPT, DB_SCRIPT, fiftyKilobyteScript, fiftyKilobyteTypeScript, FETCH_OK_SCRIPT, SPIN_SCRIPT, TRIVIAL_SCRIPT, WEBHOOK_HANDLER, WEBHOOK_SECRET } from "./scripts";
import { readUiResult, recordUi, renderUi, uiBench } from "./ui";

const quick = process.argv.includes("--quick");
/** `npm run bench -- --events`: only the events scenario, printed, nothing written (for working on events). */
const eventsOnly = process.argv.includes("--events");
/** `npm run bench -- --observability`: only issue 17's scenarios (13–15), printed, nothing written. */
const observabilityOnly = process.argv.includes("--observability");
/** `npm run bench -- --saving`: only scenario 12 (saving 50 KB JavaScript vs TypeScript), printed, nothing written. */
const savingOnly = process.argv.includes("--saving");
/** `npm run bench -- --edge`: only the placement scenarios (16a–c, 8), printed, nothing written. */
const edgeOnly = process.argv.includes("--edge");
/** `npm run bench -- --imports`: only scenario 18 (a script importing a module and a package vs inlined, in the sandbox), printed, nothing written. */
const importsOnly = process.argv.includes("--imports");
/** `npm run bench -- --handlers`: only issue 14's handler scenarios (the Node rows and scenario 17), printed, nothing written. */
const handlersOnly = process.argv.includes("--handlers");
/** `npm run bench -- --ui`: only the admin UI's first load in Chromium (bench/ui.ts), recorded in bench/RESULTS.md; `--ui --quick`: one load per screen. */
const uiOnly = process.argv.includes("--ui");
const N = quick ? 20 : 400;
const CONCURRENCY = quick ? 2 : 4;
let ADMIN = "";

interface Stats {
  n: number;
  errors: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  rps: number;
  /** Mean of the Server-Timing `sandbox` duration, when the responses carried it. */
  serverMs?: number;
  /** Answers with a status the row tolerates (`load`'s `tolerate`): counted, not errors. */
  tolerated?: number;
  /** What the errors were: status (or "network") → count. */
  errorKinds?: Record<string, number>;
}

interface Scenario {
  id: string;
  title: string;
  rows: Array<{ name: string; stats: Stats }>;
  notes: string[];
}

const scenarios: Scenario[] = [];
let base = "";

function quantile(sorted: number[], q: number) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function round(n: number, digits = 2) {
  return Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : n;
}

/** `n` requests with `concurrency` in flight, each timed from send to full body. */
async function load(path: string, options: LoadOptions = {}): Promise<Stats> {
  return summarize([await sample(path, options)]);
}

interface LoadOptions {
  n?: number;
  concurrency?: number;
  init?: RequestInit;
  expect?: number;
  tolerate?: number[];
}

/** What one run of requests saw, before it is summarised (so interleaved blocks can be merged). */
interface Sample {
  n: number;
  latencies: number[];
  server: number[];
  errors: number;
  errorKinds: Record<string, number>;
  tolerated: number;
  elapsedMs: number;
}

async function sample(path: string, options: LoadOptions = {}): Promise<Sample> {
  const n = options.n ?? N;
  const concurrency = options.concurrency ?? CONCURRENCY;
  const result: Sample = { n, latencies: [], server: [], errors: 0, errorKinds: {}, tolerated: 0, elapsedMs: 0 };
  const failed = (kind: string) => {
    result.errors++;
    result.errorKinds[kind] = (result.errorKinds[kind] ?? 0) + 1;
  };
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next++;
        const t = performance.now();
        try {
          const res = await fetch(base + path, options.init);
          await res.arrayBuffer();
          if (options.tolerate?.includes(res.status)) result.tolerated++;
          else if (res.status !== (options.expect ?? 200)) failed(String(res.status));
          const timing = /sandbox;dur=([\d.]+)/.exec(res.headers.get("server-timing") ?? "");
          if (timing) result.server.push(Number(timing[1]));
        } catch {
          failed("network");
        }
        result.latencies.push(performance.now() - t);
      }
    }),
  );
  result.elapsedMs = performance.now() - started;
  return result;
}

function summarize(samples: Sample[]): Stats {
  const n = samples.reduce((sum, s) => sum + s.n, 0);
  const latencies = samples.flatMap((s) => s.latencies).sort((a, b) => a - b);
  const server = samples.flatMap((s) => s.server);
  const errors = samples.reduce((sum, s) => sum + s.errors, 0);
  const tolerated = samples.reduce((sum, s) => sum + s.tolerated, 0);
  const errorKinds: Record<string, number> = {};
  for (const s of samples) for (const [kind, count] of Object.entries(s.errorKinds)) errorKinds[kind] = (errorKinds[kind] ?? 0) + count;
  const elapsed = samples.reduce((sum, s) => sum + s.elapsedMs, 0);
  return {
    n,
    errors,
    p50: round(quantile(latencies, 0.5)),
    p95: round(quantile(latencies, 0.95)),
    p99: round(quantile(latencies, 0.99)),
    mean: round(latencies.reduce((a, b) => a + b, 0) / latencies.length),
    rps: round((n / elapsed) * 1000, 1),
    ...(server.length ? { serverMs: round(server.reduce((a, b) => a + b, 0) / server.length, 3) } : {}),
    ...(tolerated ? { tolerated } : {}),
    ...(errors ? { errorKinds } : {}),
  };
}

/**
 * The same paths measured in alternating blocks (A B C A B C …), each path's blocks merged:
 * rows compared side by side see the same moments of a machine whose speed drifts.
 */
async function interleaved(paths: string[], options: LoadOptions & { blocks?: number } = {}): Promise<Stats[]> {
  const blocks = quick ? 1 : (options.blocks ?? 8);
  const perBlock = Math.max(1, Math.round((options.n ?? N) / blocks));
  const samples: Sample[][] = paths.map(() => []);
  for (let block = 0; block < blocks; block++) {
    for (const [i, path] of paths.entries()) samples[i]!.push(await sample(path, { ...options, n: perBlock }));
  }
  return samples.map(summarize);
}

async function api(path: string, body?: unknown, token = ADMIN, method = body === undefined ? "GET" : "POST") {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function tenant(slug: string, limits: Record<string, number> = {}) {
  await api("/api/tenants", { slug, name: slug, limits });
  const key = await api(`/api/tenants/${slug}/keys`, { name: "bench", scopes: ["scripts:read", "scripts:write", "scripts:execute", "executions:read", "events:publish", "dlq:manage"] });
  return key.key as string;
}

/** An http script; `cell` unless told (the scenarios before placement measured the cell). */
async function httpScript(key: string, name: string, path: string, source: string, limits?: Record<string, number>, placement: "edge" | "cell" = "cell") {
  return api("/api/scripts", { name, type: "http", trigger: { path, methods: ["GET", "POST"] }, source, limits, placement }, key);
}

/** Resident memory of the workerd processes (kB → bytes). */
function workerdRss(): number {
  const out = execSync("ps -eo rss,comm").toString();
  return out
    .split("\n")
    .filter((line) => line.trim().endsWith("workerd"))
    .reduce((sum, line) => sum + Number(line.trim().split(/\s+/)[0]) * 1024, 0);
}

function scenario(id: string, title: string, rows: Scenario["rows"], notes: string[] = []) {
  const line = rows.map((r) => `${r.name}: p50 ${r.stats.p50} p99 ${r.stats.p99} ms, ${r.stats.rps}/s${r.stats.serverMs !== undefined ? `, sandbox ${r.stats.serverMs} ms` : ""}${r.stats.errors ? `, ${r.stats.errors} errors (${JSON.stringify(r.stats.errorKinds)})` : ""}${r.stats.tolerated ? `, ${r.stats.tolerated} tolerated` : ""}`).join(" | ");
  const tolerated = rows.filter((r) => r.stats.tolerated).map((r) => `${r.name}: ${r.stats.tolerated} of ${r.stats.n} answered a tolerated status (504: the edge CPU slice)`);
  notes = [...notes, ...tolerated];
  scenarios.push({ id, title, rows, notes });
  console.log(`[${id}] ${title}\n    ${line}${notes.length ? `\n    ${notes.join("\n    ")}` : ""}`);
}

/** Stats of `n` sequential calls of `request`, each timed from send to full body. */
async function sequential(n: number, request: (i: number) => Promise<Response>): Promise<Stats> {
  const times: number[] = [];
  let errors = 0;
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const res = await request(i);
    await res.arrayBuffer();
    if (res.status !== 200) errors++;
    times.push(performance.now() - t);
  }
  const elapsed = performance.now() - started;
  times.sort((x, y) => x - y);
  return { n, errors, p50: round(quantile(times, 0.5)), p95: round(quantile(times, 0.95)), p99: round(quantile(times, 0.99)), mean: round(times.reduce((x, y) => x + y, 0) / n), rps: round((n / elapsed) * 1000, 1) };
}

/** In-isolate timings from /bench/diagnose, as Stats (1 ms clock locally); `min` as well: the least disturbed by other load. */
async function inIsolate(query: string): Promise<Stats & { min?: number }> {
  const body = (await (await fetch(`${base}/bench/diagnose?${query}`)).json()) as { n?: number; totalMs: number; times: number[]; error?: string };
  if (!body.times) return { n: 0, errors: 1, p50: NaN, p95: NaN, p99: NaN, mean: NaN, rps: NaN };
  const sorted = body.times.sort((x, y) => x - y);
  return { n: sorted.length, errors: 0, p50: round(quantile(sorted, 0.5)), p95: round(quantile(sorted, 0.95)), p99: round(quantile(sorted, 0.99)), mean: round(body.totalMs / sorted.length), rps: NaN, min: sorted[0] };
}

/**
 * Issue 15's speed goal: saving a 50 KB TypeScript script ≤ 50 ms in workerd, stripping and
 * validation included. Side by side with the same-sized JavaScript: in the isolate (the
 * check alone), POST /api/scripts/validate, and PUT (a new version each time, D1 included).
 */
/**
 * Scenario 16 (API.md §14): a warm trivial script at the edge beside the bare route and the
 * cell, at 1 and 4 in flight (16a); one tenant at 16 in flight, edge vs cell (16b); the
 * records of many edge executions reaching the tenant's history (16c).
 */
async function edgeScenarios(recordsScriptId: string, key: string) {
  // Interleaved blocks: the three rows see the same moments of the machine.
  const at = async (concurrency: number) => {
    const [bare, edge, cell] = await interleaved(["/bench/floor", "/t/bench-a/edge/trivial", "/t/bench-a/trivial"], { concurrency, n: quick ? N : 4 * N });
    return [
      { name: `bare Hono route, ${concurrency} in flight`, stats: bare! },
      { name: `warm trivial script, edge, ${concurrency} in flight`, stats: edge! },
      { name: `warm trivial script, cell, ${concurrency} in flight`, stats: cell! },
    ];
  };
  const one = await at(1);
  const four = await at(4);
  scenario("16a", "placement: warm trivial script at the edge vs in the cell vs the bare route (records included)", [...one, ...four], [
    `edge − bare at 1 in flight: ${round(one[1]!.stats.p50 - one[0]!.stats.p50)} ms p50 (goal ≤ 1 ms); cell − bare: ${round(one[2]!.stats.p50 - one[0]!.stats.p50)} ms`,
    `edge / bare at 4 in flight: ${round(four[1]!.stats.p50 / four[0]!.stats.p50)}× p50 (goal ≤ 1.3×); cell / bare: ${round(four[2]!.stats.p50 / four[0]!.stats.p50)}×`,
  ]);

  // Inside the Worker, no HTTP floor: what each stage of an edge request costs (bench/worker.ts).
  const stages = (await (await fetch(`${base}/bench/edge-stages/bench-a?path=/edge/trivial&n=${quick ? 50 : 1_000}`)).json()) as Record<"lookup" | "place" | "invoke" | "whole", number>;
  const stage = (name: keyof typeof stages) => `${name} ${round(stages[name], 3)} ms`;
  scenario("16d", "where an edge request's time goes inside the Worker (in-process, warm, one at a time; means, the isolate's clock ticks in ms)", [], [
    `${stage("lookup")}: the tenant from its slug and the cached catalogue`,
    `${stage("place")}: the route matched and the placement resolved`,
    `${stage("invoke")}: admission from the lease, the sandbox, the record queued for the cell, the Response built`,
    `${stage("whole")}: the product's fetch of the same URL, all of the above plus Hono's routing`,
  ]);

  const n16 = quick ? 200 : 2_000;
  const edge16 = await load("/t/bench-c/edge/trivial", { concurrency: 16, n: n16 });
  const cell16 = await load("/t/bench-c/cell/trivial", { concurrency: 16, n: n16 });
  scenario("16b", "one tenant at 16 requests in flight: edge vs cell", [
    { name: "edge, 16 in flight", stats: edge16 },
    { name: "cell, 16 in flight", stats: cell16 },
  ], [`throughput edge / cell: ${round(edge16.rps / cell16.rps)}× (one workerd process locally: the cell shares the Worker's thread)`]);

  const total = quick ? 1_000 : 10_000;
  const before = await recordedCount(recordsScriptId, key);
  const driven = await load("/t/bench-c/edge/records", { concurrency: 16, n: total });
  const lastResponse = performance.now();
  let recorded = 0;
  while (performance.now() - lastResponse < 30_000) {
    recorded = (await recordedCount(recordsScriptId, key)) - before;
    if (recorded >= total - driven.errors) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const handOff = performance.now() - lastResponse;
  scenario("16c", `records: ${total} edge executions reaching the tenant's history`, [{ name: `${total} edge executions, 16 in flight`, stats: driven }], [
    `${recorded} of ${total - driven.errors} recorded ${round(handOff / 1000, 2)} s after the last response (goal: all within 5 s; counted through the script's metrics, which roll up from the records)`,
  ]);
}

/** How many executions of a script the tenant's history holds (the sum of its minute metrics over the last hour). */
async function recordedCount(scriptId: string, key: string): Promise<number> {
  const metrics = (await api(`/api/scripts/${scriptId}/metrics`, undefined, key)) as { points: Array<{ invocations: number }> };
  return metrics.points.reduce((sum, p) => sum + p.invocations, 0);
}

async function savingScenario(key: string) {
  const n = quick ? 10 : 100;
  const sources = { javascript: fiftyKilobyteScript(), typescript: fiftyKilobyteTypeScript() };
  const ids: Record<string, string> = {};
  for (const language of ["javascript", "typescript"] as const) {
    ids[language] = (await api("/api/scripts", { name: `save-${language}`, type: "manual", language, source: sources[language] }, key)).id;
    await inIsolate(`language=${language}&n=3`); // warm
  }
  const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
  const validate = (language: "javascript" | "typescript") => () =>
    fetch(`${base}/api/scripts/validate`, { method: "POST", headers, body: JSON.stringify({ source: sources[language], language }) });
  // Each save changes the last line, so each makes a new version.
  const save = (language: "javascript" | "typescript") => (i: number) =>
    fetch(`${base}/api/scripts/${ids[language]}`, { method: "PUT", headers, body: JSON.stringify({ source: `${sources[language]}// save ${i}\n` }) });
  const rows = [
    { name: "in the isolate: strip 50 KB TypeScript", stats: await inIsolate(`language=typescript&step=strip&n=${n}`) },
    { name: "in the isolate: check 50 KB JavaScript", stats: await inIsolate(`language=javascript&n=${n}`) },
    { name: "in the isolate: strip + check 50 KB TypeScript", stats: await inIsolate(`language=typescript&n=${n}`) },
    { name: "POST /api/scripts/validate, 50 KB JavaScript", stats: await sequential(n, validate("javascript")) },
    { name: "POST /api/scripts/validate, 50 KB TypeScript", stats: await sequential(n, validate("typescript")) },
    { name: "PUT (save, new version), 50 KB JavaScript", stats: await sequential(n, save("javascript")) },
    { name: "PUT (save, new version), 50 KB TypeScript", stats: await sequential(n, save("typescript")) },
  ];
  const [strip, checkJs, checkTs, , , saveJs, saveTs] = rows.map((r) => r.stats as Stats & { min?: number });
  scenario("12", "saving a 50 KB script: JavaScript vs TypeScript (one at a time)", rows, [
    `in the isolate, fastest of ${n}: strip ${strip!.min} ms, check JavaScript ${checkJs!.min} ms, strip + check TypeScript ${checkTs!.min} ms`,
    `TypeScript adds ${round(saveTs!.p50 - saveJs!.p50)} ms at p50 to a save; a 50 KB TypeScript save takes ${saveTs!.p50} ms at p50 through wrangler dev (goal ≤ 50 ms in workerd, stripping and validation included)`,
  ]);
}

/**
 * Issue 13's memory scenario: `count` tenants, one trivial http script each, in this one
 * workerd process (the Worker and every tenant cell share one isolate locally, so one pool).
 * Every tenant's second request should be warm; the pool's accounted memory should stay
 * within its 96 MiB budget with room for 4 concurrent executions at 16 MiB; and each idle
 * warm script should hold at most 1 MiB resident.
 */
async function manyTenants(count: number) {
  const slugs = Array.from({ length: count }, (_, i) => `many-${String(i).padStart(2, "0")}`);
  const rssBefore = workerdRss();
  const statsBefore = await api("/bench/stats/bench-a");
  const keys: string[] = [];
  for (const slug of slugs) {
    const key = await tenant(slug, { executionsPerMinute: 100_000 });
    keys.push(key);
    await httpScript(key, "hello", "/hello", TRIVIAL_SCRIPT);
  }
  const first: number[] = [];
  const second: number[] = [];
  for (const slug of slugs) {
    const t = performance.now();
    const res = await fetch(`${base}/t/${slug}/hello`);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${slug}: ${res.status}`);
    first.push(performance.now() - t);
  }
  const afterFirst = await api("/bench/stats/bench-a");
  for (const slug of slugs) {
    const t = performance.now();
    await (await fetch(`${base}/t/${slug}/hello`)).arrayBuffer();
    second.push(performance.now() - t);
  }
  const afterSecond = await api("/bench/stats/bench-a");
  const rssAfter = workerdRss();
  // Four tenants at once, each at the default 16 MiB.
  const together = await Promise.all(slugs.slice(0, 4).map(async (slug) => (await fetch(`${base}/t/${slug}/hello`)).status));
  const warmSecond = afterSecond.reused - afterFirst.reused;
  const MiB = 1024 * 1024;
  const headroom = Math.floor((afterSecond.memoryBudgetBytes - afterSecond.memoryBytes) / (16 * MiB + 1));
  first.sort((x, y) => x - y);
  second.sort((x, y) => x - y);
  const row = (times: number[]): Stats => ({ n: times.length, errors: 0, p50: round(quantile(times, 0.5)), p95: round(quantile(times, 0.95)), p99: round(quantile(times, 0.99)), mean: round(times.reduce((x, y) => x + y, 0) / times.length), rps: NaN });
  scenario("11", `${count} tenants, one warm script each, one workerd process (one pool for the isolate)`, [
    { name: "first request per tenant (cold: new realm)", stats: row(first) },
    { name: "second request per tenant", stats: row(second) },
  ], [
    `${warmSecond} of ${count} second requests were warm (goal: all)`,
    `pool after: ${afterSecond.engines} engines holding ${afterSecond.realms} realms; accounted ${round(afterSecond.memoryBytes / MiB)} MiB of its ${round(afterSecond.memoryBudgetBytes / MiB)} MiB budget (engines hold ${round(afterSecond.engineBytes / MiB)} MiB); before the tenants: ${round(statsBefore.memoryBytes / MiB)} MiB`,
    `room left for ${headroom} more concurrent executions at 16 MiB each beside the warm scripts (goal: 4); 4 tenants at once answered ${together.join(", ")}`,
    `workerd resident memory grew ${round((rssAfter - rssBefore) / MiB)} MiB for ${count} warm scripts: ${round((rssAfter - rssBefore) / count / 1024)} KiB each (goal: ≤ 1024 KiB)`,
  ]);
}

async function main() {
  if (uiOnly) return recordUi(await uiBench(quick));
  if (eventsOnly) return eventsMain();
  if (observabilityOnly) return observabilityMain();
  if (savingOnly) return savingMain();
  if (edgeOnly) return edgeMain();
  if (importsOnly) return console.log("[imports/node]", JSON.stringify(await importsBench(wasm(), quick), null, 2));
  if (handlersOnly) return handlersMain();
  const node = await sandboxBench(quick);
  console.log("[sandbox/node]", JSON.stringify(node));

  const stack = await startLocalStack({ config: join(root, "bench", "wrangler.toml"), stateDir: join(root, "bench", ".state") });
  base = stack.base;
  ADMIN = stack.adminToken;
  try {
    const a = await tenant("bench-a", { concurrency: 10, executionsPerMinute: 100_000, outboundRequestsPerMinute: 0 });
    const b = await tenant("bench-b", { executionsPerMinute: 100_000 });
    const spin = await tenant("bench-spin", { timeoutMs: 200, cpuMs: 200, concurrency: 5, executionsPerMinute: 100_000 });
    await httpScript(a, "trivial", "/trivial", TRIVIAL_SCRIPT);
    await httpScript(a, "cpu", "/cpu", CPU_SCRIPT);
    await httpScript(a, "big", "/big", fiftyKilobyteScript());
    await httpScript(a, "db", "/db", DB_SCRIPT);
    await httpScript(b, "trivial", "/trivial", TRIVIAL_SCRIPT);
    await httpScript(spin, "spin", "/spin", SPIN_SCRIPT);
    // The same scripts at the edge (API.md §14).
    const c = await tenant("bench-c", { concurrency: 20, executionsPerMinute: 100_000, outboundRequestsPerMinute: 0 });
    await httpScript(a, "trivial-edge", "/edge/trivial", TRIVIAL_SCRIPT, undefined, "edge");
    await httpScript(b, "trivial-edge", "/edge/trivial", TRIVIAL_SCRIPT, undefined, "edge");
    await httpScript(spin, "spin-edge", "/edge/spin", SPIN_SCRIPT, undefined, "edge");
    await httpScript(c, "trivial-edge", "/edge/trivial", TRIVIAL_SCRIPT, undefined, "edge");
    await httpScript(c, "trivial-cell", "/cell/trivial", TRIVIAL_SCRIPT, undefined, "cell");
    const records = await httpScript(c, "records-edge", "/edge/records", TRIVIAL_SCRIPT, undefined, "edge");
    await api("/api/scripts", { name: "on-bench", type: "event", trigger: { eventTypes: ["bench.*"] }, source: "export default async (e) => e.payload.n;" }, a);

    // Warm everything once: the first request of each compiles and instantiates.
    for (const path of ["/t/bench-a/edge/trivial", "/t/bench-b/edge/trivial", "/t/bench-c/edge/trivial", "/t/bench-c/cell/trivial", "/t/bench-c/edge/records", "/bench/floor", "/t/bench-a/trivial", "/t/bench-a/cpu", "/t/bench-a/big", "/t/bench-a/db", "/t/bench-b/trivial", "/bench/native/cpu", "/bench/loader/trivial", "/bench/loader/cpu"]) {
      await load(path, { n: 3, concurrency: 1 });
    }
    const cold = { headers: { "x-bench-cold": "1" } };

    scenario("1-2", "floor vs warm trivial script (pooled runtime, cached compile)", [
      { name: "bare Hono route", stats: await load("/bench/floor") },
      { name: "warm trivial script", stats: await load("/t/bench-a/trivial") },
      { name: "Worker → runner round trip, no script (D1 read included)", stats: await load("/bench/do-floor/bench-a") },
    ]);
    await edgeScenarios(records.id as string, c);
    scenario("3", "trivial script, pooling and caching off (new runtime, fresh compile per request)", [
      { name: "warm", stats: await load("/t/bench-a/trivial") },
      { name: "cold", stats: await load("/t/bench-a/trivial", { init: cold, n: Math.min(N, 200) }) },
    ]);
    scenario("4", "50 KB script: compile cache on vs off", [
      { name: "50 KB warm", stats: await load("/t/bench-a/big", { n: Math.min(N, 200) }) },
      { name: "50 KB cold", stats: await load("/t/bench-a/big", { init: cold, n: Math.min(N, 100) }) },
    ]);
    scenario("5", "CPU-heavy (fib(25) + JSON transform of 10 000 items): QuickJS vs native Worker JavaScript", [
      { name: "QuickJS script", stats: await load("/t/bench-a/cpu", { n: quick ? 5 : 40, concurrency: 1 }) },
      { name: "native", stats: await load("/bench/native/cpu", { n: quick ? 5 : 40, concurrency: 1 }) },
    ]);

    const rssBefore = workerdRss();
    const freshN = quick ? 10 : 100;
    let fresh = 0;
    const freshStats = await load("/bench/loader/trivial?fresh=0", { n: 1 });
    const loaderFresh: number[] = [];
    for (fresh = 1; fresh < freshN; fresh++) {
      const t = performance.now();
      await (await fetch(`${base}/bench/loader/trivial?fresh=${fresh}`)).arrayBuffer();
      loaderFresh.push(performance.now() - t);
    }
    loaderFresh.sort((x, y) => x - y);
    const rssAfter = workerdRss();
    scenario(
      "6",
      "Dynamic Worker Loader peer (V8 isolates) beside the QuickJS sandbox",
      [
        { name: "loader, cached isolate, trivial", stats: await load("/bench/loader/trivial") },
        { name: "loader, new isolate per request, trivial", stats: { ...freshStats, n: loaderFresh.length, p50: round(quantile(loaderFresh, 0.5)), p95: round(quantile(loaderFresh, 0.95)), p99: round(quantile(loaderFresh, 0.99)), mean: round(loaderFresh.reduce((x, y) => x + y, 0) / loaderFresh.length), rps: NaN } },
        { name: "loader, cached isolate, CPU-heavy", stats: await load("/bench/loader/cpu", { n: quick ? 5 : 40, concurrency: 1 }) },
        { name: "QuickJS warm trivial (same run)", stats: await load("/t/bench-a/trivial") },
      ],
      [`workerd resident memory grew ${round((rssAfter - rssBefore) / 1024 / 1024)} MiB for ${freshN - 1} new isolates: ~${round((rssAfter - rssBefore) / Math.max(1, freshN - 1) / 1024)} KiB per isolate`],
    );

    scenario("7", "iota.db insert + query round trip inside a script", [
      { name: "warm trivial (reference)", stats: await load("/t/bench-a/trivial") },
      { name: "db insert + query", stats: await load("/t/bench-a/db") },
    ]);

    await isolationScenario();

    await eventsScenario(a);
    await observabilityScenarios(a);

    const stats = await api("/bench/stats/bench-a").catch(() => null);
    scenario("10", "memory", [], [
      `sandbox/node: QuickJS heap of an idle warm realm ${round(node.memory.idleHeapBytes / 1024)} KiB (web globals defined, their groups not loaded); ${round(node.memory.idleHeapWithWebBytes / 1024)} KiB once a script used Response, URL, crypto.subtle and a timer (those groups stay loaded in the realm); a running trivial execution adds ${round(node.memory.runningExtraBytes / 1024)} KiB; an engine (shared by many realms) reserves ${round(node.memory.linearMemoryBytes / 1024 / 1024)} MiB of WebAssembly linear memory to start`,
      stats ? `workerd pool: ${JSON.stringify(stats)}` : "workerd pool stats unavailable",
      `sandbox/node: the hostile catalogue's ${node.overshoot.cases} time-limited cases ended ${node.overshoot.p50Ms} ms past their deadline at p50, ${node.overshoot.worstMs} ms at worst ("${node.overshoot.worstCase}")`,
    ]);

    await manyTenants(quick ? 12 : 60);

    await savingScenario(a);
    await handlersScenario();

    const workerdSandbox = {
      warmTrivial: await sandboxLoop("warm", "trivial"),
      coldTrivial: await sandboxLoop("cold", "trivial"),
    };
    console.log("[sandbox/workerd]", JSON.stringify(workerdSandbox));
    await write(node, workerdSandbox);
  } finally {
    stack.stop();
  }
  const failed = scenarios.flatMap((s) => s.rows).filter((r) => r.stats.errors > 0);
  if (failed.length > 0) {
    console.error(`errors in: ${failed.map((r) => r.name).join(", ")}`);
    process.exitCode = 1;
  }
}

async function observabilityMain() {
  const stack = await startLocalStack({ config: join(root, "bench", "wrangler.toml"), stateDir: join(root, "bench", ".state") });
  base = stack.base;
  ADMIN = stack.adminToken;
  try {
    await observabilityScenarios(await tenant("bench-a", { concurrency: 10, executionsPerMinute: 100_000, outboundRequestsPerMinute: 0 }));
  } finally {
    stack.stop();
  }
}

/** Scenario 8: tenant B's latency alone and while tenant A spins (5 in flight), in the cell and at the edge. */
async function isolationScenario() {
  const whileSpinning = async (spinPath: string, bPath: string) => {
    const alone = await load(bPath, { concurrency: 1 });
    let spinning = true;
    const spinners = Array.from({ length: 5 }, async () => {
      while (spinning) await (await fetch(`${base}${spinPath}`)).arrayBuffer();
    });
    await new Promise((r) => setTimeout(r, 200));
    const underLoad = await load(bPath, { concurrency: 1, n: quick ? 10 : 100 });
    spinning = false;
    await Promise.all(spinners);
    return { alone, underLoad };
  };
  const cell = await whileSpinning("/t/bench-spin/spin", "/t/bench-b/trivial");
  // At the edge A's spins stop at the edge slice (EDGE_CPU_MS, 50 ms) and take turns on the isolate's thread.
  const edge = await whileSpinning("/t/bench-spin/edge/spin", "/t/bench-b/edge/trivial");
  scenario("8", "isolation: tenant B's latency while tenant A saturates its quota with while(1)", [
    { name: "B alone (cell)", stats: cell.alone },
    { name: "B while A spins (cell)", stats: cell.underLoad },
    { name: "B alone (edge)", stats: edge.alone },
    { name: "B while A spins (edge)", stats: edge.underLoad },
  ], [
    `cell: B's p99 under load / alone: ${round(cell.underLoad.p99 / cell.alone.p99)}× (A's executions stop at 200 ms of CPU each)`,
    `edge: B's p99 under load − alone: ${round(edge.underLoad.p99 - edge.alone.p99)} ms (goal: ≤ one edge CPU slice, 50 ms; A's executions there stop at 50 ms)`,
  ]);
}

/** `npm run bench -- --edge`: only the placement scenarios (16a–c and 8), printed, nothing written. */
async function edgeMain() {
  const stack = await startLocalStack({ config: join(root, "bench", "wrangler.toml"), stateDir: join(root, "bench", ".state") });
  base = stack.base;
  ADMIN = stack.adminToken;
  try {
    const a = await tenant("bench-a", { concurrency: 10, executionsPerMinute: 100_000, outboundRequestsPerMinute: 0 });
    const b = await tenant("bench-b", { executionsPerMinute: 100_000 });
    const spin = await tenant("bench-spin", { timeoutMs: 200, cpuMs: 200, concurrency: 5, executionsPerMinute: 100_000 });
    const c = await tenant("bench-c", { concurrency: 20, executionsPerMinute: 100_000, outboundRequestsPerMinute: 0 });
    await httpScript(a, "trivial", "/trivial", TRIVIAL_SCRIPT);
    await httpScript(b, "trivial", "/trivial", TRIVIAL_SCRIPT);
    await httpScript(spin, "spin", "/spin", SPIN_SCRIPT);
    await httpScript(a, "trivial-edge", "/edge/trivial", TRIVIAL_SCRIPT, undefined, "edge");
    await httpScript(b, "trivial-edge", "/edge/trivial", TRIVIAL_SCRIPT, undefined, "edge");
    await httpScript(spin, "spin-edge", "/edge/spin", SPIN_SCRIPT, undefined, "edge");
    await httpScript(c, "trivial-edge", "/edge/trivial", TRIVIAL_SCRIPT, undefined, "edge");
    await httpScript(c, "trivial-cell", "/cell/trivial", TRIVIAL_SCRIPT, undefined, "cell");
    const records = await httpScript(c, "records-edge", "/edge/records", TRIVIAL_SCRIPT, undefined, "edge");
    for (const path of ["/bench/floor", "/t/bench-a/trivial", "/t/bench-a/edge/trivial", "/t/bench-b/trivial", "/t/bench-b/edge/trivial", "/t/bench-c/edge/trivial", "/t/bench-c/cell/trivial", "/t/bench-c/edge/records"]) {
      await load(path, { n: 3, concurrency: 1 });
    }
    await edgeScenarios(records.id as string, c);
    await isolationScenario();
  } finally {
    stack.stop();
  }
}

async function handlersMain() {
  console.log("[sandbox/node handlers]", JSON.stringify(await handlerRows(quick)));
  const stack = await startLocalStack({ config: join(root, "bench", "wrangler.toml"), stateDir: join(root, "bench", ".state") });
  base = stack.base;
  ADMIN = stack.adminToken;
  try {
    await handlersScenario();
  } finally {
    stack.stop();
  }
}

/**
 * Issue 14's scenario 17: the same Workers-style webhook (HMAC verify of the raw body + JSON
 * reply) as an iota script in QuickJS (placement auto: at the edge, in the Worker isolate),
 * in a cached Dynamic Worker Loader isolate, and as native Worker code; and a fetch handler
 * answering `new Response("ok")` beside the function form's trivial script.
 */
async function handlersScenario() {
  const slug = `bench-h-${Date.now().toString(36)}`;
  await api("/api/tenants", { slug, name: slug, limits: { concurrency: 10, executionsPerMinute: 100_000 } });
  const key = (await api(`/api/tenants/${slug}/keys`, { name: "bench", scopes: ["scripts:write", "secrets:manage"] })).key as string;
  await api("/api/secrets/WEBHOOK_SECRET", { value: WEBHOOK_SECRET }, key, "PUT");
  await httpScript(key, "webhook", "/webhook", WEBHOOK_HANDLER, undefined, "edge");
  await httpScript(key, "ok", "/ok", FETCH_OK_SCRIPT, undefined, "edge");
  await httpScript(key, "trivial", "/trivial", TRIVIAL_SCRIPT, undefined, "edge");
  const delivery = webhookDelivery();
  const post: RequestInit = { method: "POST", body: delivery.body, headers: { "content-type": "application/json", "x-signature": delivery.signature } };
  // Warm as many realms as the rows keep in flight: the rows measure warm executions (a realm's
  // build, its web groups included, happens outside the execution's slice but not outside the request).
  for (const path of [`/t/${slug}/webhook`, "/bench/loader-webhook", "/bench/native/webhook"]) await load(path, { n: 4 * CONCURRENCY, concurrency: CONCURRENCY, init: post });
  for (const path of [`/t/${slug}/ok`, `/t/${slug}/trivial`]) await load(path, { n: 5, concurrency: 1 });
  const n = quick ? 20 : 400;
  scenario("17", "Workers-style webhook (HMAC-SHA256 verify of a 1 KB raw body + JSON reply): QuickJS vs Dynamic Worker Loader vs native", [
    // The peers first: each row also pays for what the row before it left in the background (records going to the cell).
    { name: "native Worker code", stats: await load("/bench/native/webhook", { n, init: post }) },
    { name: "Dynamic Worker Loader, cached isolate", stats: await load("/bench/loader-webhook", { n, init: post }) },
    // A 504 here would be the edge's CPU slice measured by the clock on a very busy machine (see RESULTS), not a crash: counted apart.
    { name: "QuickJS handler object (edge)", stats: await load(`/t/${slug}/webhook`, { n, init: post, tolerate: [504] }) },
  ]);
  scenario("17b", 'fetch handler answering new Response("ok") vs the function form\'s trivial script (edge, warm)', [
    { name: "bare Hono route", stats: await load("/bench/floor", { n }) },
    { name: "function form → { ok: true }", stats: await load(`/t/${slug}/trivial`, { n }) },
    { name: 'fetch handler → new Response("ok")', stats: await load(`/t/${slug}/ok`, { n }) },
    { name: "function form → { ok: true }, again", stats: await load(`/t/${slug}/trivial`, { n }) },
  ]);
}

async function savingMain() {
  const stack = await startLocalStack({ config: join(root, "bench", "wrangler.toml"), stateDir: join(root, "bench", ".state") });
  base = stack.base;
  ADMIN = stack.adminToken;
  try {
    await load("/bench/floor", { n: 20, concurrency: 1 });
    scenario("floor", "for scale: a bare route, one at a time", [{ name: "bare Hono route", stats: await load("/bench/floor", { n: 50, concurrency: 1 }) }]);
    await savingScenario(await tenant(`bench-saving-${Date.now().toString(36)}`));
  } finally {
    stack.stop();
  }
}

async function eventsMain() {
  const stack = await startLocalStack({ config: join(root, "bench", "wrangler.toml"), stateDir: join(root, "bench", ".state") });
  base = stack.base;
  ADMIN = stack.adminToken;
  try {
    const a = await tenant("bench-a", { concurrency: 10, executionsPerMinute: 100_000, outboundRequestsPerMinute: 0 });
    await api("/api/scripts", { name: "on-bench", type: "event", trigger: { eventTypes: ["bench.*"] }, source: "export default async (e) => e.payload.n;" }, a);
    await eventsScenario(a);
  } finally {
    stack.stop();
  }
}

/**
 * Scenario 9: events from publish to completed execution, through the local queue, one
 * subscriber; publishers keep CONCURRENCY requests in flight. The end is the last
 * execution's `finishedAt` (same machine, same clock), so polling slowly costs no precision.
 */
async function eventsScenario(key: string) {
  const events = quick ? 10 : 300;
  const publishTimes: number[] = [];
  const since = new Date(Date.now() - 1).toISOString();
  const startedAt = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < events) {
        const n = next++;
        const t = performance.now();
        await api("/api/events", { type: "bench.tick", payload: { n } }, key);
        publishTimes.push(performance.now() - t);
      }
    }),
  );
  const publishedAt = Date.now();
  let finished: number[] = [];
  const deadline = Date.now() + (quick ? 20_000 : 120_000);
  while (finished.length < events && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    finished = await completedEventRuns(key, since);
  }
  const endedAt = finished.length > 0 ? Math.max(...finished) : Date.now();
  const seconds = (endedAt - startedAt) / 1000;
  const completed = finished.length;
  publishTimes.sort((x, y) => x - y);
  const mean = publishTimes.reduce((x, y) => x + y, 0) / events;
  scenario(
    "9",
    "events: publish → completed execution through the local queue, one subscriber",
    [{ name: `POST /api/events (${CONCURRENCY} in flight)`, stats: { n: events, errors: events - completed, p50: round(quantile(publishTimes, 0.5)), p95: round(quantile(publishTimes, 0.95)), p99: round(quantile(publishTimes, 0.99)), mean: round(mean), rps: round(events / ((publishedAt - startedAt) / 1000), 1) } }],
    [
      `${completed}/${events} events completed in ${round(seconds)} s: ${round(completed / seconds, 1)} events/s end to end`,
      `publishing took ${round((publishedAt - startedAt) / 1000)} s; the last execution finished ${round((endedAt - publishedAt) / 1000)} s after the last publish`,
    ],
  );
}

/**
 * Issue 17's scenarios. 12: what recording metrics and offering the record to tails adds to an
 * execution in the cell (A/B in alternating blocks, the rollup timed on its own). 13: 24 h of
 * minute metrics for one script through the API. 14: how soon a tail (SSE) receives an
 * execution while a script runs at 200 executions/s.
 */
async function observabilityScenarios(key: string) {
  const script = await api("/api/scripts", { name: "record-cost", type: "manual", source: "export default async () => ({ ok: true });" }, key);
  // Warm: compiled, realm in the pool.
  await fetch(`${base}/bench/record-cost/bench-a/${script.id}?n=20&observe=1`).then((r) => r.json());
  const blocks = quick ? 2 : 6;
  const n = quick ? 50 : 400;
  const perExecution = { off: [] as number[], on: [] as number[], rollup: [] as number[] };
  for (let block = 0; block < blocks; block++) {
    for (const observe of [false, true]) {
      const res = (await (await fetch(`${base}/bench/record-cost/bench-a/${script.id}?n=${n}&observe=${observe ? 1 : 0}`)).json()) as { n: number; totalMs: number; rollupMs: number; rolledUp: number };
      (observe ? perExecution.on : perExecution.off).push(res.totalMs / res.n);
      if (observe) perExecution.rollup.push(res.rollupMs / Math.max(1, res.rolledUp));
    }
  }
  const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const offMs = median(perExecution.off);
  const onMs = median(perExecution.on);
  const rollupMs = mean(perExecution.rollup);
  const costRow = (values: number[]): Stats => ({ n: values.length * n, errors: 0, p50: round(median(values), 4), p95: NaN, p99: NaN, mean: round(mean(values), 4), rps: NaN });
  scenario("13", "recording cost: a warm trivial execution in the cell (executor, records, metrics, tails), per execution", [
    { name: "today's (finish number, tails and rollup timer stubbed out)", stats: costRow(perExecution.off) },
    { name: "with observability (no tail open)", stats: costRow(perExecution.on) },
  ], [
    `${blocks} alternating blocks of ${n} executions each; median of the blocks' means: ${round(offMs, 4)} ms without, ${round(onMs, 4)} ms with: ${round((onMs - offMs) * 1000, 1)} µs added on the execution's path (goal ≤ 50 µs)`,
    `the rollup, off the execution's path (the cell's 1 s timer): ${round(rollupMs * 1000, 2)} µs per execution, batched (read the record back, add to 4 rollups, write them once per batch)`,
  ]);

  // 13: 24 h of minute rollups, then the API reading them.
  await fetch(`${base}/bench/seed-metrics/bench-a/${script.id}?minutes=1440`).then((r) => r.json());
  const from = encodeURIComponent(new Date(Date.now() - 24 * 3_600_000 + 60_000).toISOString());
  const auth = { headers: { authorization: `Bearer ${key}` } };
  const day = await load(`/api/scripts/${script.id}/metrics?from=${from}`, { n: quick ? 10 : 200, concurrency: 1, init: auth });
  const floor = await load("/api/usage", { n: quick ? 10 : 200, concurrency: 1, init: auth });
  const points = ((await api(`/api/scripts/${script.id}/metrics?from=${from}`, undefined, key)) as { points: unknown[] }).points.length;
  const inCell = (await (await fetch(`${base}/bench/metrics-query/bench-a/${script.id}?n=${quick ? 5 : 50}`)).json()) as { meanMs: number; bytes: number };
  scenario("14", "24 h of minute metrics for one script through the API (sequential)", [
    { name: `GET /api/scripts/:id/metrics, ${points} points`, stats: day },
    { name: "GET /api/usage (an authenticated call into the cell, for reference)", stats: floor },
  ], [
    `goal: ≤ 20 ms locally; p50 ${day.p50} ms, p99 ${day.p99} ms (the reference call: p50 ${floor.p50} ms)`,
    `inside the cell, answering the 1 440 points (rows read, points built, ${round(inCell.bytes / 1024)} KiB of JSON written) takes ${round(inCell.meanMs, 2)} ms on average`,
  ]);

  const tailKey = await tenant("bench-tail", { executionsPerMinute: 100_000, concurrency: 20 });
  await httpScript(tailKey, "tailed", "/tailed", TRIVIAL_SCRIPT);
  await load("/t/bench-tail/tailed", { n: 5, concurrency: 1 });
  // The goal's rate (open loop), and as fast as the stack answers with 4 in flight (closed
  // loop: no backlog of waiting requests, so the tail's own delay shows).
  await tailLatency(tailKey, { rate: 200 }, quick ? 2 : 10);
  await tailLatency(tailKey, { concurrency: 4 }, quick ? 2 : 10);
}

/** Scenario 15: an SSE tail open while a trivial http script runs at `rate`/s (open loop) or with `concurrency` in flight; lag = received − finishedAt. */
async function tailLatency(key: string, drive: { rate: number } | { concurrency: number }, seconds: number) {
  const controller = new AbortController();
  const res = await fetch(`${base}/api/tail`, { headers: { authorization: `Bearer ${key}` }, signal: controller.signal });
  if (!res.ok || !res.body) throw new Error(`tail: ${res.status}`);
  const lags: number[] = [];
  let skipped = 0;
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  const reading = (async () => {
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (event === "ready") ready();
          else if (event === "execution" && data) lags.push(Date.now() - Date.parse(JSON.parse(data).finishedAt));
          else if (event === "skipped" && data) skipped += JSON.parse(data).count;
        }
      }
    } catch {
      // aborted
    }
  })();
  await isReady;
  let sent = 0;
  let errors = 0;
  const requestTimes: number[] = [];
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  while (performance.now() - started < seconds * 1000) {
    if ("rate" in drive) {
      const wait = started + (sent * 1000) / drive.rate - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    } else if (inFlight.size >= drive.concurrency) {
      await Promise.race(inFlight);
      continue;
    }
    sent++;
    const sentAt = performance.now();
    const request = fetch(`${base}/t/bench-tail/tailed`)
      .then(async (r) => {
        await r.arrayBuffer();
        requestTimes.push(performance.now() - sentAt);
        if (r.status !== 200) errors++;
      })
      .catch(() => void errors++)
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - started) / 1000;
  // The last executions' events are on their way: wait for them, at most 5 s.
  const until = Date.now() + 5_000;
  while (lags.length + skipped < sent - errors && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  controller.abort();
  await reading;
  const sorted = [...lags].sort((x, y) => x - y);
  const stats: Stats = { n: lags.length, errors: 0, p50: round(quantile(sorted, 0.5)), p95: round(quantile(sorted, 0.95)), p99: round(quantile(sorted, 0.99)), mean: round(sorted.reduce((x, y) => x + y, 0) / Math.max(1, sorted.length)), rps: round((sent - errors) / elapsed, 1) };
  const requestStats = [...requestTimes].sort((x, y) => x - y);
  const how = "rate" in drive ? `at ${drive.rate}/s (open loop, ${seconds} s)` : `with ${drive.concurrency} requests in flight (closed loop, ${seconds} s)`;
  scenario(`15${"rate" in drive ? "a" : "b"}`, `tail latency: an SSE tail while an http script is driven ${how}`, [{ name: "finishedAt → received by the tail (ms)", stats }], [
    `${sent} requests sent (${errors} failed), achieved ${stats.rps}/s (request latency p50 ${round(quantile(requestStats, 0.5))} ms, p99 ${round(quantile(requestStats, 0.99))} ms); the tail received ${lags.length} executions and was told of ${skipped} skipped; worst lag ${round(sorted.at(-1) ?? NaN)} ms (goal: ≤ 1 000 ms)`,
  ]);
}

/** When each event execution started at or after `since` finished (epoch ms), completed ones only. */
async function completedEventRuns(key: string, since: string) {
  const finished: number[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: Array<{ finishedAt: string }>; nextCursor: string | null } = await api(`/api/executions?trigger=event&status=completed&since=${since}&limit=200${cursor ? `&cursor=${cursor}` : ""}`, undefined, key);
    finished.push(...page.items.map((item) => Date.parse(item.finishedAt)));
    cursor = page.nextCursor;
  } while (cursor);
  return finished;
}

async function sandboxLoop(mode: "warm" | "cold", source: "trivial" | "cpu"): Promise<Result["sandbox"]["workerd"][string]> {
  const n = quick ? 20 : mode === "warm" ? 2000 : 200;
  const res = await fetch(`${base}/bench/sandbox?mode=${mode}&source=${source}&n=${n}`);
  const body = (await res.json()) as { n: number; totalMs: number; times: number[] };
  const sorted = body.times.sort((x, y) => x - y);
  return { n: body.n, meanMs: round(body.totalMs / body.n, 3), p50: round(quantile(sorted, 0.5), 3), p99: round(quantile(sorted, 0.99), 3), perSecond: round((body.n / body.totalMs) * 1000) };
}

function versions() {
  const read = (name: string) => JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version as string;
  return { node: process.version, wrangler: read("wrangler"), "quickjs-emscripten-core": read("quickjs-emscripten-core"), hono: read("hono") };
}

type Result = {
  date: string;
  quick: boolean;
  machine: { cpus: number; cpu: string; memoryGiB: number };
  versions: Record<string, string>;
  scenarios: Scenario[];
  sandbox: { node: SandboxBenchResult; workerd: Record<string, { n: number; meanMs: number; p50: number; p99: number; perSecond: number }> };
};

async function write(node: SandboxBenchResult, workerd: Result["sandbox"]["workerd"]) {
  const machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? "unknown", memoryGiB: round(totalmem() / 1024 ** 3, 1) };
  const result: Result = { date: new Date().toISOString(), quick, machine, versions: versions(), scenarios, sandbox: { node, workerd } };
  if (quick) {
    writeFileSync(join(root, "bench", "quick-results.json"), JSON.stringify(result, null, 2));
    return;
  }
  writeFileSync(join(root, "bench", "results.json"), JSON.stringify(result, null, 2) + "\n");
  writeFileSync(join(root, "bench", "RESULTS.md"), render(result));
}

/** bench/RESULTS.md from a result (also: `npm run bench -- --render`, from bench/results.json). */
function render(result: Result): string {
  const { machine } = result;
  const cell = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? "–" : String(n));
  const lines = [
    "# Benchmark results",
    "",
    `Run ${result.date} on ${machine.cpus} × ${machine.cpu}, ${machine.memoryGiB} GiB; ${Object.entries(result.versions).map(([k, v]) => `${k} ${v}`).join(", ")}.`,
    "All HTTP numbers go through `wrangler dev` on loopback (its proxy dominates the floor), 400 requests per row at 4 in flight unless said otherwise. Compare rows within a scenario (they ran side by side in one run), not with other machines. Regenerate with `npm run bench`.",
    "",
  ];
  for (const s of result.scenarios) {
    lines.push(`## ${s.id}. ${s.title}`, "");
    if (s.rows.length) {
      lines.push("| row | p50 ms | p95 ms | p99 ms | req/s | sandbox ms (mean) |", "|---|---|---|---|---|---|");
      for (const r of s.rows) lines.push(`| ${r.name} | ${cell(r.stats.p50)} | ${cell(r.stats.p95)} | ${cell(r.stats.p99)} | ${cell(r.stats.rps)} | ${cell(r.stats.serverMs)} |`);
      lines.push("");
    }
    for (const note of s.notes) lines.push(`- ${note}`);
    if (s.notes.length) lines.push("");
  }
  lines.push("## The sandbox alone", "", "| runtime | script | executions/s | p50 ms | p99 ms |", "|---|---|---|---|---|");
  for (const [name, row] of Object.entries(result.sandbox.node.rows)) lines.push(`| ${result.sandbox.node.runtime} | ${name} | ${row.perSecond} | ${row.p50} | ${row.p99} |`);
  for (const [name, row] of Object.entries(result.sandbox.workerd)) lines.push(`| workerd (in-isolate loop, 1 ms clock) | ${name} | ${row.perSecond} | ${row.p50} | ${row.p99} |`);
  const imports = result.sandbox.node.imports;
  if (imports) {
    lines.push(
      "",
      "## 18. a script importing one module and one package vs the same code inlined (sandbox, Node)",
      "",
      "| run | linked | inlined | difference |",
      "|---|---|---|---|",
      `| warm, mean of ${imports.n} (ms) | ${imports.warm.linked.mean} | ${imports.warm.inlined.mean} | ${imports.warm.deltaMeanMs} |`,
      `| warm, p50 (ms) | ${imports.warm.linked.p50} | ${imports.warm.inlined.p50} | ${imports.warm.deltaP50Ms} |`,
      `| cold (new realm), p50 of ${imports.cold.coldN} (ms) | ${imports.cold.linkedP50} | ${imports.cold.inlinedP50} | no package at all: ${imports.cold.noPackageP50} |`,
    );
  }
  const ui = readUiResult();
  if (ui) lines.push("", ...renderUi(ui));
  lines.push("", "## Reading", "", previousReading() ?? "(to be written after looking at the numbers)", "");
  return lines.join("\n");
}

/** The hand-written reading of the last results, kept across runs. */
function previousReading(): string | null {
  const file = join(root, "bench", "RESULTS.md");
  if (!existsSync(file)) return null;
  const text = readFileSync(file, "utf8");
  const at = text.indexOf("## Reading\n");
  return at < 0 ? null : text.slice(at + "## Reading\n".length).trim();
}

if (process.argv.includes("--render")) {
  writeFileSync(join(root, "bench", "RESULTS.md"), render(JSON.parse(readFileSync(join(root, "bench", "results.json"), "utf8")) as Result));
} else {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
