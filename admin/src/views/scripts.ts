import { useState } from "preact/hooks";
import { api, LANGUAGES, type Language, type Script } from "../api";
import { describe, ErrorNote, html, navigate, Status, useLoad, when } from "../ui";

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
        <input placeholder="Search name or description" value=${q} onInput=${(e: Event) => setQ((e.target as HTMLInputElement).value)} />
        <select value=${type} onChange=${(e: Event) => setType((e.target as HTMLSelectElement).value)} aria-label="type">
          <option value="">any type</option>
          ${["http", "event", "scheduled", "manual", "module"].map((t) => html`<option value=${t}>${t}</option>`)}
        </select>
        <select value=${status} onChange=${(e: Event) => setStatus((e.target as HTMLSelectElement).value)} aria-label="status">
          <option value="">any status but archived</option>
          ${["draft", "active", "paused", "disabled", "archived"].map((s) => html`<option value=${s}>${s}</option>`)}
        </select>
      </div>
      <${ErrorNote} error=${scripts.error} />
      <table class="list">
        <thead><tr><th>Name</th><th>Type</th><th>Status</th><th>Version</th><th>Updated</th></tr></thead>
        <tbody>
          ${(scripts.data ?? []).map(
            (s) => html`<tr class="link" onClick=${() => navigate(`/scripts/${s.id}`)}>
              <td><a href=${`#/scripts/${s.id}`}>${s.name}</a></td><td>${s.type}${s.language === "typescript" ? " · TS" : ""}</td><td><${Status} value=${s.status} /></td><td>v${s.version}</td><td>${when(s.updatedAt)}</td>
            </tr>`,
          )}
        </tbody>
      </table>
      ${scripts.data?.length === 0 && html`<p class="empty">No scripts yet.</p>`}
    </section>
  `;
}

function NewScript() {
  const [name, setName] = useState("");
  const [type, setType] = useState<Script["type"]>("http");
  const [language, setLanguage] = useState<Language>("javascript");
  const [trigger, setTrigger] = useState(JSON.stringify(STARTERS.http.trigger, null, 2));
  const [error, setError] = useState<string | null>(null);

  function pickType(next: Script["type"]) {
    setType(next);
    setTrigger(JSON.stringify(STARTERS[next].trigger, null, 2));
  }

  async function create(event: Event) {
    event.preventDefault();
    try {
      const body = { name, type, language, trigger: JSON.parse(trigger || "{}"), source: starterSource(type, language), status: "draft" };
      const { data } = await api<Script>("/api/scripts", { method: "POST", body });
      navigate(`/scripts/${data.id}`);
    } catch (e) {
      setError(e instanceof SyntaxError ? `the trigger is not valid JSON: ${e.message}` : describe(e));
    }
  }

  return html`
    <form class="card new-script" onSubmit=${create}>
      <label>Name <input name="name" value=${name} onInput=${(e: Event) => setName((e.target as HTMLInputElement).value)} required /></label>
      <label>Type
        <select name="type" value=${type} onChange=${(e: Event) => pickType((e.target as HTMLSelectElement).value as Script["type"])}>
          ${Object.keys(STARTERS).map((t) => html`<option value=${t}>${t}</option>`)}
        </select>
      </label>
      <label>Language
        <select name="language" value=${language} onChange=${(e: Event) => setLanguage((e.target as HTMLSelectElement).value as Language)}>
          ${LANGUAGES.map((l) => html`<option value=${l}>${l === "typescript" ? "TypeScript" : "JavaScript"}</option>`)}
        </select>
      </label>
      <label>Trigger (JSON) <textarea name="trigger" rows="4" value=${trigger} onInput=${(e: Event) => setTrigger((e.target as HTMLTextAreaElement).value)}></textarea></label>
      <button type="submit">Create</button>
      <${ErrorNote} error=${error} />
    </form>
  `;
}
