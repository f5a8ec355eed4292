import { useState } from "preact/hooks";
import { api, type Execution } from "../api";
import { ErrorNote, html, Status, useLoad, when } from "../ui";
import { ExecutionDetail } from "../components/execution-detail";

/** Executions, newest first, refreshed every 5 s, with filters; a row opens its details. With `traceId`: the executions of one trace. */
export function ExecutionsView({ scriptId, traceId }: { scriptId?: string; traceId?: string }) {
  const [status, setStatus] = useState("");
  const [trigger, setTrigger] = useState("");
  const [script, setScript] = useState(scriptId ?? "");
  const [open, setOpen] = useState<string | null>(null);
  const query = new URLSearchParams({ limit: "50", ...(status && { status }), ...(trigger && { trigger }), ...(script && { scriptId: script }), ...(traceId && { traceId }) });
  const list = useLoad(async () => (await api<{ items: Execution[] }>(`/api/executions?${query}`)).data.items, [status, trigger, script, traceId], 5_000);
  // The open execution refreshes too: one that was running shows how it ended.
  const detail = useLoad(async () => (open ? (await api<Execution>(`/api/executions/${open}`)).data : null), [open], 5_000);

  return html`
    <section>
      ${!scriptId && html`<header class="bar"><h2>${traceId ? html`Trace <code>${traceId}</code>` : "Executions"}</h2></header>`}
      <div class="filters">
        ${!scriptId && html`<input placeholder="script id" value=${script} onInput=${(e: Event) => setScript((e.target as HTMLInputElement).value)} />`}
        <select aria-label="status" value=${status} onChange=${(e: Event) => setStatus((e.target as HTMLSelectElement).value)}>
          <option value="">any status</option>
          ${["pending", "running", "completed", "failed", "timeout", "cancelled"].map((s) => html`<option value=${s}>${s}</option>`)}
        </select>
        <select aria-label="trigger" value=${trigger} onChange=${(e: Event) => setTrigger((e.target as HTMLSelectElement).value)}>
          <option value="">any trigger</option>
          ${["http", "event", "scheduled", "manual"].map((t) => html`<option value=${t}>${t}</option>`)}
        </select>
        <span class="hint">refreshes every 5 s</span>
      </div>
      <${ErrorNote} error=${list.error} />
      <table class="list" data-testid="executions">
        <thead><tr><th>Started</th><th>Status</th><th>Trigger</th><th>Script</th><th>Version</th><th>Duration</th><th>Error</th></tr></thead>
        <tbody>
          ${(list.data ?? []).map(
            (e) => html`<tr class=${`link ${open === e.id ? "open" : ""}`} onClick=${() => setOpen(open === e.id ? null : e.id)}>
              <td>${when(e.startedAt)}</td><td><${Status} value=${e.status} /></td><td>${e.trigger}</td>
              <td><a href=${`#/scripts/${e.scriptId}`} onClick=${(ev: Event) => ev.stopPropagation()}>${e.scriptId}</a></td><td>v${e.version}</td>
              <td>${e.durationMs ?? "–"} ms</td><td>${e.error ? `${e.error.name}: ${e.error.message}` : ""}</td>
            </tr>`,
          )}
        </tbody>
      </table>
      ${list.data?.length === 0 && html`<p class="empty">No executions.</p>`}
      ${detail.data && html`<${ExecutionDetail} execution=${detail.data} />`}
    </section>
  `;
}
