import { useState } from "preact/hooks";
import { api, type DeadLetter } from "../api";
import { describe, ErrorNote, html, Json, useLoad, when } from "../ui";

/** Dead letters: replay one, the selected ones, or all of a script's; delete. */
export function DeadLettersView() {
  const [scriptId, setScriptId] = useState("");
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const query = new URLSearchParams({ limit: "100", ...(scriptId && { scriptId }) });
  const list = useLoad(async () => (await api<{ items: DeadLetter[] }>(`/api/dead-letters?${query}`)).data.items, [scriptId], 5_000);

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
      <div class="filters"><input placeholder="script id" value=${scriptId} onInput=${(e: Event) => setScriptId((e.target as HTMLInputElement).value)} /></div>
      ${notice && html`<p class="notice" role="status">${notice}</p>`}
      <${ErrorNote} error=${error ?? list.error} />
      <table class="list" data-testid="dead-letters">
        <thead><tr><th></th><th>Failed</th><th>Script</th><th>Event</th><th>Attempts</th><th>Error</th><th>Replays</th><th></th></tr></thead>
        <tbody>
          ${(list.data ?? []).map(
            (d) => html`<tr class=${open === d.id ? "open" : ""}>
              <td><input type="checkbox" aria-label=${`select ${d.id}`} checked=${selected.has(d.id)} onChange=${() => toggle(d.id)} /></td>
              <td>${when(d.lastFailedAt)}</td><td>${d.scriptId ?? "–"}</td>
              <td><button class="link-button" title="show the payload" onClick=${() => setOpen(open === d.id ? null : d.id)}>${d.eventType ?? d.eventId}</button></td>
              <td>${d.attempts}</td><td>${d.error.name}: ${d.error.message}</td><td>${d.replayCount}${d.replayedAt ? ` (last ${when(d.replayedAt)})` : ""}</td>
              <td><button onClick=${() => replayOne(d.id)}>Replay</button> <button class="danger" onClick=${() => remove(d.id)}>Delete</button></td>
            </tr>`,
          )}
        </tbody>
      </table>
      ${list.data?.length === 0 && html`<p class="empty">No dead letters.</p>`}
      ${open && html`<${Json} value=${list.data?.find((d) => d.id === open)?.payload} />`}
    </section>
  `;
}
