import { useEffect, useRef, useState } from "preact/hooks";
import { loadSession } from "../api";
import { nameMap, useScriptNames } from "../names";
import { html, Status } from "../ui";

/** What the tail sends for each finished execution (API.md §15). */
interface TailSummary {
  id: string;
  scriptId: string;
  status: string;
  trigger: string;
  finishedAt: string;
  durationMs: number | null;
  traceId: string | null;
  error: { name: string; message: string } | null;
  logs: Array<{ level: string; message: string; at: string }>;
}

type Row = { kind: "execution"; summary: TailSummary } | { kind: "skipped"; count: number; at: number };

/** Rows kept on screen (and while paused); older ones go. */
const MAX_ROWS = 200;

/**
 * The live tail: `GET /api/tail` as Server-Sent Events read through `fetch` (which, unlike
 * EventSource, sends the bearer token). Filters reconnect; pause keeps reading but holds
 * what arrives until resumed; clear empties the list.
 */
export function TailView({ scriptId: initialScript }: { scriptId?: string }) {
  const [scriptId, setScriptId] = useState(initialScript ?? "");
  const [status, setStatus] = useState("");
  const [level, setLevel] = useState("");
  const [rows, setRows] = useState<Row[]>([]);
  const [paused, setPaused] = useState(false);
  const [held, setHeld] = useState<Row[]>([]);
  const [state, setState] = useState<"connecting" | "live" | "error">("connecting");
  const [error, setError] = useState<string | null>(null);
  const scripts = useScriptNames();
  const names = nameMap(scripts.data);
  const pausedRef = useRef(paused);
  pausedRef.current = paused;

  useEffect(() => {
    const abort = new AbortController();
    const query = new URLSearchParams({ ...(scriptId && { scriptId }), ...(status && { status }), ...(level && { level }) });
    const add = (row: Row) => {
      if (pausedRef.current) setHeld((h) => [row, ...h].slice(0, MAX_ROWS));
      else setRows((r) => [row, ...r].slice(0, MAX_ROWS));
    };
    setState("connecting");
    setError(null);
    void (async () => {
      try {
        const session = loadSession();
        const headers: Record<string, string> = { accept: "text/event-stream" };
        if (session) {
          headers.authorization = `Bearer ${session.token}`;
          if (session.tenant) headers["x-tenant"] = session.tenant;
        }
        const res = await fetch(`/api/tail?${query}`, { headers, signal: abort.signal });
        if (!res.ok || !res.body) {
          const body = await res.json().catch(() => null);
          throw new Error(body?.error?.message ?? `the tail answered ${res.status}`);
        }
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event = /^event: (.*)$/m.exec(frame)?.[1];
            const data = /^data: (.*)$/m.exec(frame)?.[1];
            if (event === "ready") setState("live");
            else if (event === "execution" && data) add({ kind: "execution", summary: JSON.parse(data) });
            else if (event === "skipped" && data) add({ kind: "skipped", count: JSON.parse(data).count, at: Date.now() });
          }
        }
        if (!abort.signal.aborted) throw new Error("the tail closed");
      } catch (e) {
        if (abort.signal.aborted) return;
        setState("error");
        setError(e instanceof Error ? e.message : String(e));
      }
    })();
    return () => abort.abort();
  }, [scriptId, status, level]);

  function togglePause() {
    if (paused) {
      setRows((r) => [...held, ...r].slice(0, MAX_ROWS));
      setHeld([]);
    }
    setPaused(!paused);
  }

  return html`
    <section>
      ${!initialScript && html`<header class="bar"><h2>Live tail</h2></header>`}
      <div class="filters">
        ${!initialScript &&
        html`<select aria-label="script" value=${scriptId} onChange=${(e: Event) => setScriptId((e.target as HTMLSelectElement).value)}>
          <option value="">any script</option>
          ${(scripts.data ?? []).map((s) => html`<option value=${s.id}>${s.name}</option>`)}
        </select>`}
        <select aria-label="tail status" value=${status} onChange=${(e: Event) => setStatus((e.target as HTMLSelectElement).value)}>
          <option value="">any status</option>
          <option value="completed">completed</option>
          <option value="failed,timeout">failed or timeout</option>
        </select>
        <select aria-label="log level" value=${level} onChange=${(e: Event) => setLevel((e.target as HTMLSelectElement).value)}>
          <option value="">any logs</option>
          ${["debug", "info", "warn", "error"].map((l) => html`<option value=${l}>${l} and above</option>`)}
        </select>
        <button onClick=${togglePause}>${paused ? `Resume${held.length ? ` (${held.length} new)` : ""}` : "Pause"}</button>
        <button onClick=${() => (setRows([]), setHeld([]))}>Clear</button>
        <span class="hint" data-testid="tail-state" data-state=${state}>${state === "live" ? "live" : state === "connecting" ? "connecting…" : "disconnected"}</span>
      </div>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <table class="list tail" data-testid="tail">
        <thead><tr><th>Finished</th><th>Status</th><th>Script</th><th>Duration</th><th>Logs</th><th>Trace</th></tr></thead>
        <tbody>
          ${rows.map((row) =>
            row.kind === "skipped"
              ? html`<tr class="skipped"><td>${new Date(row.at).toLocaleTimeString()}</td><td colspan="5">${row.count} executions skipped (the tail's rate limit)</td></tr>`
              : html`<tr data-execution=${row.summary.id}>
                  <td>${new Date(row.summary.finishedAt).toLocaleTimeString()}</td><td><${Status} value=${row.summary.status} /></td>
                  <td><a href=${`#/scripts/${row.summary.scriptId}`}>${names.get(row.summary.scriptId) ?? row.summary.scriptId}</a></td><td>${row.summary.durationMs ?? "–"} ms</td>
                  <td class="tail-logs">${row.summary.error && html`<div class="log-error">${row.summary.error.name}: ${row.summary.error.message}</div>`}${row.summary.logs.slice(0, 5).map((l) => html`<div class=${`log-${l.level}`}><b>${l.level}</b> ${l.message}</div>`)}${row.summary.logs.length > 5 && html`<div class="hint">… ${row.summary.logs.length - 5} more</div>`}</td>
                  <td>${row.summary.traceId && html`<a href=${`#/traces/${row.summary.traceId}`}>trace</a>`}</td>
                </tr>`,
          )}
        </tbody>
      </table>
      ${rows.length === 0 && html`<p class="empty">${paused ? "Paused." : "Waiting for executions…"}</p>`}
    </section>
  `;
}
