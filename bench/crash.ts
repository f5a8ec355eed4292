/**
 * `npm run bench:crash`: the crash of issue 12, against the real stack. Starts `wrangler
 * dev`, subscribes a ~150 ms script (and one that always fails) to `crash.*`, publishes 50
 * events, SIGKILLs wrangler and workerd once 14 have completed, restarts on the same state,
 * and waits until every event has ended: each delivery completed or dead-lettered, no
 * attempt of a delivery run twice. Exits 1 otherwise. Locally the queue keeps its messages
 * in memory, so the kill loses every message in flight: what brings the events to an end is
 * the cell's outbox and its alarm's sweep (src/tenant/deliveries.ts). Takes 1–3 minutes,
 * which is why it is not part of `npm test`.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type LocalStack, startLocalStack } from "../scripts/local-stack";
import { root } from "../scripts/project-env.mjs";

const EVENTS = 50;
const FAILING = 5;
const KILL_AFTER = 14;
const DEADLINE_MS = 240_000;
const config = join(root, "wrangler.toml");
const stateDir = join(root, ".wrangler", "crash-state");

let stack: LocalStack;

async function api(path: string, token: string, body?: unknown) {
  const res = await fetch(stack.base + path, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${path} → ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

interface Execution {
  status: string;
  attempt: number;
  scriptId: string;
  input: { id: string };
}

async function executions(key: string): Promise<Execution[]> {
  const all: Execution[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: Execution[]; nextCursor: string | null } = await api(`/api/executions?trigger=event&limit=200${cursor ? `&cursor=${cursor}` : ""}`, key);
    all.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main() {
  // wrangler dev serves the admin UI's assets: they must exist.
  if (!existsSync(join(root, "dist", "admin", "index.html"))) spawnSync("npm", ["run", "build:ui"], { cwd: root, stdio: "inherit" });
  const vars = { RETRY_BASE_SECONDS: "1" };
  stack = await startLocalStack({ config, stateDir, vars });
  const { adminToken, secretsKey } = stack;
  await api("/api/tenants", adminToken, { slug: "crash", name: "crash" });
  const { key } = await api("/api/tenants/crash/keys", adminToken, { name: "crash", scopes: ["scripts:write", "events:publish", "executions:read"] });
  await api("/api/scripts", key, { name: "slow", type: "event", trigger: { eventTypes: ["crash.*"] }, source: "export default (e) => { const end = Date.now() + 150; while (Date.now() < end) {} return e.payload.n; };" });
  await api("/api/scripts", key, { name: "failing", type: "event", trigger: { eventTypes: ["crash.fail"] }, source: "export default () => { throw new Error('always'); };" });

  const ids: string[] = [];
  for (let n = 0; n < EVENTS; n++) ids.push((await api("/api/events", key, { type: n < FAILING ? "crash.fail" : "crash.ok", payload: { n } })).eventId);
  for (;;) {
    const done = (await executions(key)).filter((e) => e.status === "completed").length;
    if (done >= KILL_AFTER) break;
    await sleep(50);
  }
  stack.kill();
  console.log(`killed the stack (SIGKILL) after ${KILL_AFTER}+ completed executions of ${EVENTS} events; restarting on the same state`);
  await sleep(1_000);
  stack = await startLocalStack({ config, stateDir, vars, keepState: true, adminToken, secretsKey });

  const started = Date.now();
  let pending: string[] = ids;
  while (pending.length > 0 && Date.now() - started < DEADLINE_MS) {
    await sleep(2_000);
    const views = await Promise.all(pending.map((id) => api(`/api/events/${id}`, key)));
    pending = views.filter((e) => e.deliveries.length === 0 || e.deliveries.some((d: { status: string }) => d.status !== "completed" && d.status !== "dead_lettered")).map((e) => e.id);
    console.log(`${Math.round((Date.now() - started) / 1000)} s after the restart: ${ids.length - pending.length}/${ids.length} events ended`);
  }
  const runs = await executions(key);
  const seen = new Set<string>();
  const repeated = runs.filter((run) => {
    const attempt = `${run.input.id}/${run.scriptId}/${run.attempt}`;
    if (seen.has(attempt)) return true;
    seen.add(attempt);
    return false;
  });
  stack.stop();
  console.log(`${ids.length - pending.length}/${ids.length} events ended (completed or dead-lettered); ${runs.length} executions; ${repeated.length} attempts run twice`);
  if (pending.length > 0 || repeated.length > 0) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  stack?.stop();
  process.exit(1);
});
