import { useState } from "preact/hooks";
import { api, type DeadLetter } from "../api";
import { nameMap, useScriptNames } from "../names";
import { ConfirmButton, describe, ErrorNote, html, Json, ListState, useLoad, valueOf, when } from "../ui";

/** Dead letters: replay one, the selected ones, or all of a script's; delete. */
export function DeadLettersView() {
  const [scriptId, setScriptId] = useState("");
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const query = new URLSearchParams({ limit: "100", ...(scriptId && { scriptId }) });
  const list = useLoad(async () => (await api<{ items: DeadLetter[] }>(`/api/dead-letters?${query}`)).data.items, [scriptId], 5_000);
  const scripts = useScriptNames();
  const names = nameMap(scripts.data);

  async function act(what: () => Promise<string>) {
    setError(null);
    try {
      setNotice(await what());
      setSelected(new Set());
      list.reload();
    } catch (e) {
      setError(describe(e));
    }
  }
  const replayOne = (id: string) => act(async () => (await api(`/api/dead-letters/${id}/replay`, { method: "POST" }), "Replayed 1 dead letter."));
  const replaySelected = () =>
    act(async () => `Replayed ${(await api<{ replayed: number }>("/api/dead-letters/replay", { method: "POST", body: { ids: [...selected] } })).data.replayed} dead letters.`);
  const replayScript = () =>
    act(async () => `Replayed ${(await api<{ replayed: number }>("/api/dead-letters/replay", { method: "POST", body: { scriptId } })).data.replayed} dead letters.`);
  const remove = (id: string) => act(async () => (await api(`/api/dead-letters/${id}`, { method: "DELETE" }), "Deleted."));
  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };

  return html`
    <section>
      <header class="bar">
        <h2>Dead letters</h2>
        <div class="actions">
          <button disabled=${selected.size === 0} onClick=${replaySelected}>Replay selected (${selected.size})</button>
          <button disabled=${!scriptId} onClick=${replayScript} title="Filter by a script first">Replay all for this script</button>
        </div>
      </header>
      <div class="filters">
        <label class="inline">Script
          <select name="script" value=${scriptId} onChange=${(e: Event) => setScriptId(valueOf(e))}>
            <option value="">any script</option>
            ${(scripts.data ?? []).map((s) => html`<option value=${s.id}>${s.name}</option>`)}
          </select>
        </label>
      </div>
      ${notice && html`<p class="notice" role="status">${notice}</p>`}
      <${ErrorNote} error=${error} />
      <table class="list" data-testid="dead-letters">
        <thead><tr><th><span class="sr-only">Select</span></th><th>Failed</th><th>Script</th><th>Event</th><th>Attempts</th><th>Error</th><th>Replays</th><th><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>
          ${(list.data ?? []).map(
            (d) => html`<tr class=${open === d.id ? "open" : ""}>
              <td><input type="checkbox" aria-label=${`select ${d.eventType ?? d.id}`} checked=${selected.has(d.id)} onChange=${() => toggle(d.id)} /></td>
              <td data-label="Failed">${when(d.lastFailedAt)}</td><td data-label="Script">${d.scriptId ? html`<a href=${`#/scripts/${d.scriptId}`}>${names.get(d.scriptId) ?? d.scriptId}</a>` : "–"}</td>
              <td data-label="Event"><button class="link-button" title="show the payload" aria-expanded=${open === d.id ? "true" : "false"} onClick=${() => setOpen(open === d.id ? null : d.id)}>${d.eventType ?? d.eventId}</button></td>
              <td data-label="Attempts">${d.attempts}</td><td data-label="Error">${d.error.name}: ${d.error.message}</td>
              <td data-label="Replays">${d.replayCount}${d.replayedAt ? ` (last ${when(d.replayedAt)})` : ""}${d.replayExecutionId && html` · <a href=${`#/executions/${d.replayExecutionId}`} data-testid="replay-execution">replay's execution</a>`}</td>
              <td><button onClick=${() => replayOne(d.id)}>Replay</button> <${ConfirmButton} label="Delete" question="Delete this dead letter?" onConfirm=${() => remove(d.id)} /></td>
            </tr>`,
          )}
        </tbody>
      </table>
      <${ListState} loaded=${list} empty="No dead letters." />
      ${open && html`<${Json} value=${list.data?.find((d) => d.id === open)?.payload} />`}
    </section>
  `;
}
