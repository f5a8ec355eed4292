import { useState } from "preact/hooks";
import { api, LANGUAGES, type Language, type Script } from "../api";
import { TriggerForm } from "../components/trigger-form";
import { describe, html, ListState, navigate, Status, useLoad, valueOf, when } from "../ui";

/** A new script's trigger, and the body of its handler (the event's type in sdk/iota.d.ts). */
const STARTERS: Record<Script["type"], { trigger: Record<string, unknown>; event: string; body: string }> = {
  http: { trigger: { path: "/hello/:name", methods: ["GET"] }, event: "HttpEvent", body: "  return { hello: event.params.name };\n" },
  event: { trigger: { eventTypes: ["order.*"] }, event: "EventEvent", body: '  iota.log.info("got", event.type);\n' },
  scheduled: { trigger: { cron: "*/5 * * * *" }, event: "ScheduledEvent", body: "  return { ranAt: event.scheduledTime };\n" },
  manual: { trigger: {}, event: "ManualEvent", body: "  return { input: event.input };\n" },
  // A module has no trigger and no handler: other scripts import its exports (API.md §13).
  module: { trigger: {}, event: "", body: "" },
};

/** The starter source: JavaScript typed with JSDoc, or TypeScript (API.md §13). */
export function starterSource(type: Script["type"], language: Language): string {
  const { event, body } = STARTERS[type];
  if (type === "module") {
    return language === "typescript"
      ? `// Imported by this tenant's scripts as "./<this module's name>".\nexport function greet(name: string): string {\n  return "hello " + name;\n}\n`
      : `// Imported by this tenant's scripts as "./<this module's name>".\nexport function greet(name) {\n  return "hello " + name;\n}\n`;
  }
  return language === "typescript"
    ? `export default async function (event: Iota.${event}, ctx: Iota.Context) {\n${body}}\n`
    : `/** @param {Iota.${event}} event @param {Iota.Context} ctx */\nexport default async function (event, ctx) {\n${body}}\n`;
}

/** The tenant's scripts, filterable, and a form for a new one. */
export function ScriptsList() {
  const [type, setType] = useState("");
  const [status, setStatus] = useState("");
  const [q, setQ] = useState("");
  const [creating, setCreating] = useState(false);
  const query = new URLSearchParams({ limit: "200", ...(type && { type }), ...(status && { status }), ...(q && { q }) });
  const scripts = useLoad(async () => (await api<{ items: Script[] }>(`/api/scripts?${query}`)).data.items, [type, status, q]);


  return html`
    <section>
      <header class="bar">
        <h2>Scripts</h2>
        <button onClick=${() => setCreating(!creating)}>${creating ? "Cancel" : "New script"}</button>
      </header>
      ${creating && html`<${NewScript} />`}
      <div class="filters">
        <label class="inline">Search <input name="q" placeholder="name or description" value=${q} onInput=${(e: Event) => setQ(valueOf(e))} /></label>
        <label class="inline">Type
          <select name="type-filter" value=${type} onChange=${(e: Event) => setType(valueOf(e))} aria-label="type">
            <option value="">any type</option>
            ${["http", "event", "scheduled", "manual", "module"].map((t) => html`<option value=${t}>${t}</option>`)}
          </select>
        </label>
        <label class="inline">Status
          <select name="status-filter" value=${status} onChange=${(e: Event) => setStatus(valueOf(e))} aria-label="status">
            <option value="">any status but archived</option>
            ${["draft", "active", "paused", "disabled", "archived"].map((s) => html`<option value=${s}>${s}</option>`)}
          </select>
        </label>
      </div>
      <table class="list" data-testid="scripts">
        <thead><tr><th>Name</th><th>Type</th><th>Status</th><th>Version</th><th>Updated</th></tr></thead>
        <tbody>
          ${(scripts.data ?? []).map(
            (s) => html`<tr class="link" onClick=${() => navigate(`/scripts/${s.id}`)}>
              <td data-label="Name"><a href=${`#/scripts/${s.id}`}>${s.name}</a></td><td data-label="Type">${s.type}${s.language === "typescript" ? " · TS" : ""}</td><td data-label="Status"><${Status} value=${s.status} /></td><td data-label="Version">v${s.version}</td><td data-label="Updated">${when(s.updatedAt)}</td>
            </tr>`,
          )}
        </tbody>
      </table>
      <${ListState} loaded=${scripts} empty=${q || type || status ? "No scripts match." : "No scripts yet."} />
    </section>
  `;
}

/** A new script: its name, type, language and trigger; saved as a draft or saved and activated at once. */
function NewScript() {
  const [name, setName] = useState("");
  const [type, setType] = useState<Script["type"]>("http");
  const [language, setLanguage] = useState<Language>("javascript");
  const [trigger, setTrigger] = useState(JSON.stringify(STARTERS.http.trigger, null, 2));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  function pickType(next: Script["type"]) {
    setType(next);
    setTrigger(JSON.stringify(STARTERS[next].trigger, null, 2));
  }

  async function create(event: SubmitEvent) {
    event.preventDefault();
    const status = (event.submitter as HTMLButtonElement | null)?.value === "draft" ? "draft" : "active";
    setBusy(true);
    try {
      const body = { name, type, language, trigger: JSON.parse(trigger || "{}"), source: starterSource(type, language), status };
      const { data } = await api<Script>("/api/scripts", { method: "POST", body });
      navigate(`/scripts/${data.id}`);
    } catch (e) {
      setError(e instanceof SyntaxError ? `the trigger is not valid JSON: ${e.message}` : describe(e));
    } finally {
      setBusy(false);
    }
  }

  return html`
    <form class="card new-script" onSubmit=${create} aria-label="New script">
      <label>Name <input name="name" value=${name} onInput=${(e: Event) => setName(valueOf(e))} required /></label>
      <label>Type
        <select name="type" value=${type} onChange=${(e: Event) => pickType(valueOf(e) as Script["type"])}>
          ${Object.keys(STARTERS).map((t) => html`<option value=${t}>${t}</option>`)}
        </select>
      </label>
      <label>Language
        <select name="language" value=${language} onChange=${(e: Event) => setLanguage(valueOf(e) as Language)}>
          ${LANGUAGES.map((l) => html`<option value=${l}>${l === "typescript" ? "TypeScript" : "JavaScript"}</option>`)}
        </select>
      </label>
      <${TriggerForm} key=${type} type=${type} text=${trigger} onChange=${setTrigger} />
      <div class="actions">
        <button type="submit" name="status" value="active" disabled=${busy}>Save & activate</button>
        <button type="submit" name="status" value="draft" disabled=${busy}>Save as draft</button>
      </div>
      <p class="hint">A draft is saved but not live: it runs only by hand${type === "http" ? ", and its endpoint answers 404" : ""} until you activate it.</p>
      ${error && html`<p class="error" role="alert">${error}</p>`}
    </form>
  `;
}
