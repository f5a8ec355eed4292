import { useState } from "preact/hooks";
import { api } from "../api";
import { bytes, ConfirmButton, describe, ErrorNote, html, ListState, useLoad, when } from "../ui";

interface Usage {
  limits: Record<string, number>;
  current: { running: number; executionsLastMinute: number; outboundRequestsLastMinute: number; dbBytes: number };
}

/** The tenant's limits and what it uses now; its secrets, by name. */
export function SettingsView() {
  const usage = useLoad(async () => (await api<Usage>("/api/usage")).data, [], 5_000);
  const secrets = useLoad(async () => (await api<{ items: Array<{ name: string; updatedAt: string }> }>("/api/secrets")).data.items, []);
  const [name, setName] = useState("");
  const [value, setValue] = useState("");
  const [error, setError] = useState<string | null>(null);

  async function setSecret(event: Event) {
    event.preventDefault();
    setError(null);
    try {
      await api(`/api/secrets/${encodeURIComponent(name)}`, { method: "PUT", body: { value } });
      setName("");
      setValue("");
      secrets.reload();
    } catch (e) {
      setError(describe(e));
    }
  }

  async function remove(secret: string) {
    try {
      await api(`/api/secrets/${encodeURIComponent(secret)}`, { method: "DELETE" });
      secrets.reload();
    } catch (e) {
      setError(describe(e));
    }
  }

  const u = usage.data;
  return html`
    <section>
      <header class="bar"><h2>Limits and usage</h2></header>
      <${ErrorNote} error=${usage.error} />
      ${!u && !usage.error && html`<p class="loading" role="status">Loading…</p>`}
      ${u &&
      html`<dl class="usage" data-testid="usage">
        <dt>Running now</dt><dd>${u.current.running} of ${u.limits.concurrency}</dd>
        <dt>Executions, last minute</dt><dd>${u.current.executionsLastMinute} of ${u.limits.executionsPerMinute}</dd>
        <dt>Outbound requests, last minute</dt><dd>${u.current.outboundRequestsLastMinute} of ${u.limits.outboundRequestsPerMinute}</dd>
        <dt>iota.db storage</dt><dd>${bytes(u.current.dbBytes)} of ${bytes(u.limits.dbBytes)}</dd>
      </dl>
      <table class="list limits"><thead><tr><th>Limit</th><th>Value</th></tr></thead>
        <tbody>${Object.entries(u.limits).map(([k, v]) => html`<tr><td data-label="Limit">${k}</td><td data-label="Value">${/Bytes$/.test(k) ? bytes(v) : v}</td></tr>`)}</tbody>
      </table>`}
      <header class="bar"><h2>Secrets</h2></header>
      <${ErrorNote} error=${error} />
      <table class="list" data-testid="secrets">
        <thead><tr><th>Name</th><th>Updated</th><th><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>${(secrets.data ?? []).map((s) => html`<tr><td data-label="Name"><code>${s.name}</code></td><td data-label="Updated">${when(s.updatedAt)}</td><td><${ConfirmButton} label="Delete" question=${`Delete ${s.name}? Scripts reading it get null.`} onConfirm=${() => remove(s.name)} /></td></tr>`)}</tbody>
      </table>
      <${ListState} loaded=${secrets} empty="No secrets yet." />
      <form class="card" onSubmit=${setSecret}>
        <label>Name <input name="secret-name" placeholder="API_KEY" value=${name} onInput=${(e: Event) => setName((e.target as HTMLInputElement).value)} required /></label>
        <label>Value <input name="secret-value" type="password" autocomplete="off" value=${value} onInput=${(e: Event) => setValue((e.target as HTMLInputElement).value)} required /></label>
        <button type="submit">Set secret</button>
        <p class="hint">Values are stored encrypted and never shown again.</p>
      </form>
    </section>
  `;
}
