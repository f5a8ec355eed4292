/**
 * `npm run bench:crash`: the crash of issue 12, against the real stack. Starts `wrangler
 * dev`, subscribes a ~150 ms script (and one that always fails) to `crash.*`, publishes 50
 * events, SIGKILLs wrangler and workerd once 14 have completed, restarts on the same state,
 * and waits until every event has ended: each delivery completed or dead-lettered, no
 * attempt of a delivery run twice; meanwhile an edge script publishes under load, and every
 * event behind one of its 2xx must be there after the restart. Exits 1 otherwise. Locally the queue keeps its messages
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

/** How many executions of a script the history holds. */
async function recordedOf(key: string, scriptId: string): Promise<number> {
  let count = 0;
  let cursor: string | null = null;
  do {
    const page: { items: unknown[]; nextCursor: string | null } = await api(`/api/executions?scriptId=${scriptId}&limit=200${cursor ? `&cursor=${cursor}` : ""}`, key);
    count += page.items.length;
    cursor = page.nextCursor;
  } while (cursor);
  return count;
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

  // An edge script that publishes (API.md §14): its 2xx responses must never hide a lost event.
  const edgeScript = await api("/api/scripts", key, { name: "edge-publisher", type: "http", placement: "edge", trigger: { path: "/publish", methods: ["POST"] }, source: "export default async (e) => (await iota.events.publish('edge.sent', { n: e.body.n })).eventId;" });
  const edgeAnswered: string[] = [];
  let edgeDriving = true;
  let edgeN = 0;
  const edgeDrivers = Array.from({ length: 4 }, async () => {
    while (edgeDriving) {
      try {
        const res = await fetch(`${stack.base}/t/crash/publish`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ n: edgeN++ }) });
        if (res.ok) edgeAnswered.push((await res.json()) as string);
        else await res.arrayBuffer();
      } catch {
        // the stack was killed under it
      }
    }
  });

  const ids: string[] = [];
  for (let n = 0; n < EVENTS; n++) ids.push((await api("/api/events", key, { type: n < FAILING ? "crash.fail" : "crash.ok", payload: { n } })).eventId);
  for (;;) {
    const done = (await executions(key)).filter((e) => e.status === "completed").length;
    if (done >= KILL_AFTER) break;
    await sleep(50);
  }
  stack.kill();
  edgeDriving = false;
  await Promise.all(edgeDrivers);
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
  // Every event behind an edge 2xx is the cell's; edge records lost with the kill are at most the last batch.
  const edgeEvents = await Promise.all(edgeAnswered.map((id) => fetch(`${stack.base}/api/events/${id}`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.status)));
  const lostEvents = edgeEvents.filter((status) => status !== 200).length;
  const edgeRecords = await recordedOf(key, edgeScript.id as string);
  console.log(`edge: ${edgeAnswered.length} publishes answered 2xx before the kill, ${lostEvents} of their events missing after the restart (goal 0); ${edgeRecords} of their records in the history (${edgeAnswered.length - edgeRecords} lost with the kill: the last batch)`);
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
  if (pending.length > 0 || repeated.length > 0 || lostEvents > 0) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  stack?.stop();
  process.exit(1);
});
