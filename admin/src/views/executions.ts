import { useEffect, useState } from "preact/hooks";
import { api, type Execution } from "../api";
import { ExecutionDetail } from "../components/execution-detail";
import { nameMap, useScriptNames } from "../names";
import { ErrorNote, html, ListState, Status, useLoad, valueOf, when } from "../ui";

const PAGE_SIZE = 50;

/**
 * Executions, newest first, with filters (the script by name) and cursor paging; the first
 * page refreshes every 5 s. A row (clicked, or Enter on it) opens its details in a drawer
 * beside the list. With `traceId`: the executions of one trace; with `openId`: that
 * execution's details open (`#/executions/<id>`).
 */
export function ExecutionsView({ scriptId, traceId, openId }: { scriptId?: string; traceId?: string; openId?: string }) {
  const [status, setStatus] = useState("");
  const [trigger, setTrigger] = useState("");
  const [script, setScript] = useState(scriptId ?? "");
  const [open, setOpen] = useState<string | null>(openId ?? null);
  // The cursors of the pages before this one; the last is this page's (undefined: the first).
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const scripts = useScriptNames();
  const names = nameMap(scripts.data);
  const filters = [status, trigger, script, traceId];
  useEffect(() => setCursors([undefined]), filters);
  const query = new URLSearchParams({ limit: String(PAGE_SIZE), ...(status && { status }), ...(trigger && { trigger }), ...(script && { scriptId: script }), ...(traceId && { traceId }), ...(cursor && { cursor }) });
  const page = useLoad(async () => (await api<{ items: Execution[]; nextCursor: string | null }>(`/api/executions?${query}`)).data, [...filters, cursor], cursor ? undefined : 5_000);
  const items = page.data?.items;
  const list = { ...page, data: items };

  const toggle = (id: string) => setOpen(open === id ? null : id);
  const onRowKey = (event: KeyboardEvent, id: string) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      toggle(id);
    }
  };

  return html`
    <section class=${`executions-view ${open ? "with-drawer" : ""}`}>
      ${!scriptId && html`<header class="bar"><h2>${traceId ? html`Trace <code>${traceId}</code>` : "Executions"}</h2></header>`}
      <div class="filters">
        ${!scriptId &&
        html`<label class="inline">Script
          <select name="script" value=${script} onChange=${(e: Event) => setScript(valueOf(e))}>
            <option value="">any script</option>
            ${(scripts.data ?? []).map((s) => html`<option value=${s.id}>${s.name}${s.status === "archived" ? " (archived)" : ""}</option>`)}
          </select></label>`}
        <label class="inline">Status
          <select aria-label="status" name="status" value=${status} onChange=${(e: Event) => setStatus(valueOf(e))}>
            <option value="">any status</option>
            ${["pending", "running", "completed", "failed", "timeout", "cancelled"].map((s) => html`<option value=${s}>${s}</option>`)}
          </select></label>
        <label class="inline">Trigger
          <select aria-label="trigger" name="trigger" value=${trigger} onChange=${(e: Event) => setTrigger(valueOf(e))}>
            <option value="">any trigger</option>
            ${["http", "event", "scheduled", "manual"].map((t) => html`<option value=${t}>${t}</option>`)}
          </select></label>
        <span class="hint">${cursor ? "an older page (not refreshing)" : "refreshes every 5 s"}</span>
      </div>
      <div class="list-and-drawer">
        <div class="list-pane">
          <table class="list" data-testid="executions">
            <thead><tr><th>Started</th><th>Status</th><th>Trigger</th><th>Script</th><th>Version</th><th>Attempt</th><th>Duration</th><th>Error</th></tr></thead>
            <tbody>
              ${(items ?? []).map(
                (e) => html`<tr class=${`link ${open === e.id ? "open" : ""}`} tabindex="0" aria-selected=${open === e.id ? "true" : "false"} data-id=${e.id} onClick=${() => toggle(e.id)} onKeyDown=${(ev: KeyboardEvent) => onRowKey(ev, e.id)}>
                  <td data-label="Started">${when(e.startedAt)}</td><td data-label="Status"><${Status} value=${e.status} /></td><td data-label="Trigger">${e.trigger}</td>
                  <td data-label="Script"><a href=${`#/scripts/${e.scriptId}`} onClick=${(ev: Event) => ev.stopPropagation()}>${names.get(e.scriptId) ?? e.scriptId}</a></td><td data-label="Version">v${e.version}</td>
                  <td data-label="Attempt">${e.attempt}</td><td data-label="Duration">${e.durationMs ?? "–"} ms</td><td data-label="Error">${e.error ? `${e.error.name}: ${e.error.message}` : ""}</td>
                </tr>`,
              )}
            </tbody>
          </table>
          <${ListState} loaded=${list} empty="No executions." />
          <div class="pager">
            <button type="button" disabled=${cursors.length === 1} onClick=${() => setCursors(cursors.slice(0, -1))}>← Newer</button>
            <span class="hint">page ${cursors.length}</span>
            <button type="button" disabled=${!page.data?.nextCursor} onClick=${() => setCursors([...cursors, page.data!.nextCursor!])}>Older →</button>
          </div>
        </div>
        ${open && html`<${ExecutionDrawer} id=${open} name=${(id: string) => names.get(id) ?? id} onClose=${() => setOpen(null)} />`}
      </div>
    </section>
  `;
}

/** One execution's details beside the list (over it on a narrow screen); Escape closes. */
function ExecutionDrawer({ id, name, onClose }: { id: string; name: (scriptId: string) => string; onClose: () => void }) {
  // It refreshes too: one that was running shows how it ended.
  const detail = useLoad(async () => (await api<Execution>(`/api/executions/${id}`)).data, [id], 5_000);
  useEffect(() => {
    const listener = (event: KeyboardEvent) => event.key === "Escape" && onClose();
    addEventListener("keydown", listener);
    return () => removeEventListener("keydown", listener);
  }, [onClose]);
  return html`
    <aside class="drawer" aria-label="Execution details" data-testid="drawer">
      <header class="bar">
        <h3>${detail.data ? html`<a href=${`#/scripts/${detail.data.scriptId}`}>${name(detail.data.scriptId)}</a>` : "Execution"}</h3>
        <button type="button" aria-label="Close details" onClick=${onClose}>✕</button>
      </header>
      <${ErrorNote} error=${detail.error} />
      ${detail.data ? html`<${ExecutionDetail} execution=${detail.data} />` : !detail.error && html`<p class="loading" role="status">Loading…</p>`}
    </aside>
  `;
}
