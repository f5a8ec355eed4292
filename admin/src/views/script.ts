import type * as Monaco from "monaco-editor";
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiFailure, LANGUAGES, type Diagnostic, type Execution, type Language, type Script } from "../api";
import { scriptModel, setTenantModules, setUpMonaco, showDiagnostics } from "../monaco";
import { ExecutionDetail } from "../components/execution-detail";
import { bytes, describe, ErrorNote, html, Json, Status, useLoad, when } from "../ui";
import { ExecutionsView } from "./executions";
import { MetricsTab } from "./metrics";

const TABS = ["editor", "versions", "run", "executions", "metrics"] as const;
type Tab = (typeof TABS)[number];

/** One script: its editor, its versions and their diffs, a run panel, its executions. */
export function ScriptPage({ id, tab }: { id: string; tab: Tab }) {
  const script = useLoad(async () => (await api<Script>(`/api/scripts/${id}`)).data, [id]);
  const [error, setError] = useState<string | null>(null);
  if (script.error) return html`<${ErrorNote} error=${script.error} />`;
  const s = script.data;
  if (!s) return html`<p>Loading…</p>`;

  async function setStatus(status: Script["status"]) {
    try {
      await api(`/api/scripts/${id}/status`, { method: "PATCH", body: { status } });
      setError(null);
      script.reload();
    } catch (e) {
      setError(describe(e));
    }
  }

  return html`
    <section>
      <header class="bar">
        <h2>${s.name} <small>${s.type} · ${s.language === "typescript" ? "TypeScript" : "JavaScript"} · v${s.version}</small> <${Status} value=${s.status} /></h2>
        <div class="actions">
          ${s.status !== "active" && s.status !== "archived" && html`<button onClick=${() => setStatus("active")}>Activate</button>`}
          ${s.status === "active" && html`<button onClick=${() => setStatus("paused")}>Pause</button>`}
          ${s.status === "archived" ? html`<button onClick=${() => setStatus("draft")}>Unarchive</button>` : html`<button class="danger" onClick=${() => setStatus("archived")}>Archive</button>`}
        </div>
      </header>
      <${ErrorNote} error=${error} />
      <nav class="tabs">
        ${TABS.map((t) => html`<a class=${t === tab ? "active" : ""} href=${`#/scripts/${id}${t === "editor" ? "" : `/${t}`}`}>${t}</a>`)}
      </nav>
      ${tab === "editor" && html`<${EditorTab} script=${s} onSaved=${script.reload} />`}
      ${tab === "versions" && html`<${VersionsTab} script=${s} onRestored=${script.reload} />`}
      ${tab === "run" && html`<${RunTab} script=${s} />`}
      ${tab === "executions" && html`<${ExecutionsView} scriptId=${id} />`}
      ${tab === "metrics" && html`<${MetricsTab} scriptId=${id} />`}
    </section>
  `;
}

function EditorTab({ script, onSaved }: { script: Script; onSaved: () => void }) {
  const host = useRef<HTMLDivElement>(null);
  const editor = useRef<Monaco.editor.IStandaloneCodeEditor | null>(null);
  const [diagnostics, setDiagnostics] = useState<Diagnostic[]>([]);
  // True from an edit until the platform's diagnostics for the text as it now is are shown.
  const [checking, setChecking] = useState(true);
  const [trigger, setTrigger] = useState(JSON.stringify(script.trigger, null, 2));
  const [limits, setLimits] = useState(JSON.stringify(script.limits, null, 2));
  const [language, setLanguage] = useState<Language>(script.language);
  // The text carried from one model to the next when the language changes.
  const carried = useRef<string | null>(null);
  const [message, setMessage] = useState("");
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  // A new language is a new model (Monaco's TypeScript tells the two apart by file name), with the text as it is.
  // The tenant's modules resolve in IntelliSense (API.md §13).
  useEffect(() => {
    setUpMonaco();
    void loadTenantModules(script.id).then(setTenantModules, () => undefined);
  }, [script.id]);

  useEffect(() => {
    const monaco = setUpMonaco();
    const model = scriptModel(carried.current ?? script.source ?? "", language, script.id);
    const instance = monaco.editor.create(host.current!, { model, automaticLayout: true, minimap: { enabled: false }, fontSize: 13, scrollBeyondLastLine: false });
    editor.current = instance;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const validate = async () => {
      // Answers can arrive out of order: one for text that has changed since is dropped
      // (the change scheduled a check of its own).
      const version = model.getVersionId();
      try {
        const { data } = await api<{ ok: boolean; diagnostics: Diagnostic[] }>("/api/scripts/validate", { method: "POST", body: { source: model.getValue(), language, ...(script.type === "module" && { type: "module", name: script.name }) } });
        if (model.isDisposed() || model.getVersionId() !== version) return;
        setDiagnostics(data.diagnostics);
        showDiagnostics(model, data.diagnostics);
      } catch (e) {
        if (model.isDisposed() || model.getVersionId() !== version) return;
        setError(describe(e));
      }
      setChecking(false);
    };
    const subscription = model.onDidChangeContent(() => {
      setChecking(true);
      clearTimeout(timer);
      timer = setTimeout(validate, 400);
    });
    void validate();
    return () => {
      clearTimeout(timer);
      subscription.dispose();
      carried.current = model.getValue();
      editor.current = null;
      instance.dispose();
      model.dispose();
    };
  }, [script.id, language]);

  async function save(event: Event) {
    event.preventDefault();
    setError(null);
    try {
      const body = { source: editor.current!.getValue(), language, trigger: JSON.parse(trigger), limits: JSON.parse(limits), ...(message ? { message } : {}) };
      const { data } = await api<Script>(`/api/scripts/${script.id}`, { method: "PUT", body, headers: { "if-match": `"${script.version}"` } });
      setNotice(data.version === script.version ? "Nothing changed." : `Saved as version ${data.version}.`);
      setMessage("");
      onSaved();
    } catch (e) {
      if (e instanceof ApiFailure && e.code === "version_mismatch") setError("Someone saved this script since you opened it. Reload to get their version, then apply your change again.");
      else if (e instanceof SyntaxError) setError(`Trigger and limits must be JSON: ${e.message}`);
      else setError(describe(e));
    }
  }

  return html`
    <div class="editor-tab">
      <div class="editor" ref=${host} data-testid="editor"></div>
      <ul class="diagnostics" aria-label="diagnostics" aria-busy=${checking ? "true" : "false"}>
        ${diagnostics.map((d) => html`<li>Line ${d.line}, column ${d.column}: ${d.message}</li>`)}
      </ul>
      <form class="save" onSubmit=${save}>
        <label>Language
          <select name="language" value=${language} onChange=${(e: Event) => setLanguage((e.target as HTMLSelectElement).value as Language)}>
            ${LANGUAGES.map((l) => html`<option value=${l}>${l === "typescript" ? "TypeScript" : "JavaScript"}</option>`)}
          </select>
        </label>
        <label>Trigger <textarea name="trigger" rows="3" value=${trigger} onInput=${(e: Event) => setTrigger((e.target as HTMLTextAreaElement).value)}></textarea></label>
        <label>Limits <textarea name="limits" rows="3" value=${limits} onInput=${(e: Event) => setLimits((e.target as HTMLTextAreaElement).value)}></textarea></label>
        <label>Message <input name="message" placeholder="what changed" value=${message} onInput=${(e: Event) => setMessage((e.target as HTMLInputElement).value)} /></label>
        <button type="submit">Save</button>
        ${notice && html`<p class="notice" role="status">${notice}</p>`}
        <${ErrorNote} error=${error} />
      </form>
    </div>
  `;
}

interface VersionSummary {
  version: number;
  message: string;
  createdAt: string;
  createdBy: string;
}

function VersionsTab({ script, onRestored }: { script: Script; onRestored: () => void }) {
  const versions = useLoad(async () => (await api<{ items: VersionSummary[] }>(`/api/scripts/${script.id}/versions?limit=200`)).data.items, [script.id, script.version]);
  const [from, setFrom] = useState(Math.max(1, script.version - 1));
  const [to, setTo] = useState(script.version);
  const [error, setError] = useState<string | null>(null);

  async function restore(n: number) {
    try {
      await api(`/api/scripts/${script.id}/versions/${n}/restore`, { method: "POST" });
      onRestored();
    } catch (e) {
      setError(describe(e));
    }
  }

  return html`
    <div class="versions">
      <${ErrorNote} error=${error ?? versions.error} />
      <table class="list">
        <thead><tr><th>Version</th><th>Message</th><th>By</th><th>When</th><th>From</th><th>To</th><th></th></tr></thead>
        <tbody>
          ${(versions.data ?? []).map(
            (v) => html`<tr>
              <td>v${v.version}</td><td>${v.message}</td><td>${v.createdBy}</td><td>${when(v.createdAt)}</td>
              <td><input type="radio" name="from" aria-label=${`from v${v.version}`} checked=${from === v.version} onChange=${() => setFrom(v.version)} /></td>
              <td><input type="radio" name="to" aria-label=${`to v${v.version}`} checked=${to === v.version} onChange=${() => setTo(v.version)} /></td>
              <td>${v.version !== script.version && html`<button onClick=${() => restore(v.version)}>Restore</button>`}</td>
            </tr>`,
          )}
        </tbody>
      </table>
      <${DiffView} scriptId=${script.id} from=${from} to=${to} />
    </div>
  `;
}

function DiffView({ scriptId, from, to }: { scriptId: string; from: number; to: number }) {
  const host = useRef<HTMLDivElement>(null);
  const diff = useLoad(async () => {
    const [a, b, d] = await Promise.all([
      api<{ source: string; language: Language }>(`/api/scripts/${scriptId}/versions/${from}`),
      api<{ source: string; language: Language }>(`/api/scripts/${scriptId}/versions/${to}`),
      api<{ languageChanged: boolean; triggerChanged: boolean; limitsChanged: boolean }>(`/api/scripts/${scriptId}/diff?from=${from}&to=${to}`),
    ]);
    return { original: a.data.source, modified: b.data.source, originalLanguage: a.data.language, modifiedLanguage: b.data.language, ...d.data };
  }, [scriptId, from, to]);

  useEffect(() => {
    if (!diff.data || !host.current) return;
    const monaco = setUpMonaco();
    const original = monaco.editor.createModel(diff.data.original, diff.data.originalLanguage);
    const modified = monaco.editor.createModel(diff.data.modified, diff.data.modifiedLanguage);
    const editor = monaco.editor.createDiffEditor(host.current, { readOnly: true, automaticLayout: true, renderSideBySide: true, minimap: { enabled: false } });
    editor.setModel({ original, modified });
    return () => {
      editor.dispose();
      original.dispose();
      modified.dispose();
    };
  }, [diff.data]);

  return html`
    <div>
      <h3>v${from} → v${to} ${diff.data?.languageChanged && html`<span class="flag">language changed</span>`} ${diff.data?.triggerChanged && html`<span class="flag">trigger changed</span>`} ${diff.data?.limitsChanged && html`<span class="flag">limits changed</span>`}</h3>
      <${ErrorNote} error=${diff.error} />
      <div class="diff" ref=${host} data-testid="diff"></div>
    </div>
  `;
}

function RunTab({ script }: { script: Script }) {
  const [input, setInput] = useState("null");
  const [running, setRunning] = useState(false);
  const [execution, setExecution] = useState<Execution | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function run(event: Event) {
    event.preventDefault();
    setError(null);
    setRunning(true);
    try {
      const { data } = await api<Execution>(`/api/scripts/${script.id}/run`, { method: "POST", body: { input: JSON.parse(input) } });
      setExecution(data);
    } catch (e) {
      setError(e instanceof SyntaxError ? `The input must be JSON: ${e.message}` : describe(e));
    } finally {
      setRunning(false);
    }
  }

  return html`
    <div class="run">
      <form onSubmit=${run}>
        <label>Input (JSON, the script's <code>event.input</code>) <textarea name="input" rows="5" value=${input} onInput=${(e: Event) => setInput((e.target as HTMLTextAreaElement).value)}></textarea></label>
        <button type="submit" disabled=${running}>${running ? "Running…" : "Run"}</button>
      </form>
      <${ErrorNote} error=${error} />
      ${execution && html`<${ExecutionDetail} execution=${execution} />`}
    </div>
  `;
}

/** The tenant's active modules with their sources, except the script being edited. */
async function loadTenantModules(except: string): Promise<Array<{ name: string; language: Language; source: string }>> {
  const { data } = await api<{ items: Array<{ id: string }> }>("/api/scripts?type=module&status=active&limit=200");
  const others = data.items.filter((m) => m.id !== except);
  return Promise.all(others.map(async (m) => (await api<{ name: string; language: Language; source: string }>(`/api/scripts/${m.id}`)).data));
}
