import type * as Monaco from "monaco-editor";
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiFailure, LANGUAGES, type Diagnostic, type Language, type Script } from "../api";
import { DiffEditor } from "../components/diff-editor";
import { EndpointUrls } from "../components/endpoint";
import { RunPanel } from "../components/run-panel";
import { LimitsForm, TriggerForm } from "../components/trigger-form";
import { getDraft, openDraft, resetDraft, updateDraft, useDirty, type Draft } from "../drafts";
import { scriptModel, setTenantModules, setUpMonaco, showDiagnostics } from "../monaco";
import { nameMap, useScriptNames } from "../names";
import { ConfirmButton, describe, ErrorNote, html, ListState, Status, useLoad, useShortcut, valueOf, when } from "../ui";
import { ExecutionsView } from "./executions";
import { MetricsTab } from "./metrics";

const TABS = ["editor", "versions", "run", "executions", "metrics"] as const;
type Tab = (typeof TABS)[number];

/** One script: its editor (with the run panel beside it), its versions and their diffs, a run panel, its executions. */
export function ScriptPage({ id, tab }: { id: string; tab: Tab }) {
  const script = useLoad(async () => (await api<Script>(`/api/scripts/${id}`)).data, [id]);
  const dirty = useDirty(id);
  const [error, setError] = useState<string | null>(null);
  const names = useScriptNames();
  if (script.error) return html`<${ErrorNote} error=${script.error} />`;
  const s = script.data;
  if (!s) return html`<p class="loading" role="status">Loading…</p>`;

  async function setStatus(status: Script["status"]) {
    try {
      await api(`/api/scripts/${id}/status`, { method: "PATCH", body: { status } });
      setError(null);
      script.reload();
    } catch (e) {
      setError(describe(e));
    }
  }
  const activate = () => setStatus("active");
  const runPanel = html`<${RunPanel} script=${s} names=${nameMap(names.data)} onActivate=${activate} />`;

  return html`
    <section class="script-page">
      <header class="bar">
        <h2>${s.name}${dirty && html` <span class="unsaved" title="unsaved changes" data-testid="unsaved">● unsaved</span>`} <small>${s.type} · ${s.language === "typescript" ? "TypeScript" : "JavaScript"} · v${s.version}</small> <${Status} value=${s.status} /></h2>
        <div class="actions">
          ${s.status !== "active" && s.status !== "archived" && html`<button onClick=${activate}>Activate</button>`}
          ${s.status === "active" && html`<button onClick=${() => setStatus("paused")}>Pause</button>`}
          ${s.status === "archived"
            ? html`<button onClick=${() => setStatus("draft")}>Unarchive</button>`
            : html`<${ConfirmButton} label="Archive" question="Archive this script? It stops running and frees its route." onConfirm=${() => setStatus("archived")} />`}
        </div>
      </header>
      <${LiveNote} script=${s} onActivate=${activate} />
      <${EndpointUrls} script=${s} />
      <${ErrorNote} error=${error} />
      <nav class="tabs" aria-label="Script">
        ${TABS.map((t) => html`<a class=${t === tab ? "active" : ""} aria-current=${t === tab ? "page" : undefined} href=${`#/scripts/${id}${t === "editor" ? "" : `/${t}`}`}>${t}${t === "editor" && dirty ? " •" : ""}</a>`)}
      </nav>
      ${tab === "editor" && html`<div class="workbench"><${EditorTab} script=${s} onSaved=${script.reload} /><aside class="beside">${runPanel}</aside></div>`}
      ${tab === "versions" && html`<${VersionsTab} script=${s} onRestored=${script.reload} />`}
      ${tab === "run" && runPanel}
      ${tab === "executions" && html`<${ExecutionsView} scriptId=${id} />`}
      ${tab === "metrics" && html`<${MetricsTab} scriptId=${id} />`}
    </section>
  `;
}

/** Says plainly when a script is not live, and why its endpoint or trigger does nothing. */
function LiveNote({ script, onActivate }: { script: Script; onActivate: () => void }) {
  if (script.status === "active") return null;
  const what = script.type === "http" ? "its endpoint answers 404" : script.type === "event" ? "events do not reach it" : script.type === "scheduled" ? "its schedule does not fire" : "it runs only by hand";
  const why: Record<string, string> = {
    draft: "This script is a draft: it is saved but not live",
    paused: "This script is paused",
    disabled: "The platform admin disabled this script",
    archived: "This script is archived",
  };
  return html`<p class="warning" role="note" data-testid="not-live">${why[script.status]}, so ${what}.
    ${(script.status === "draft" || script.status === "paused") && html` <button type="button" onClick=${onActivate}>Activate now</button>`}</p>`;
}

function parseObject(text: string, what: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text);
    if (value && typeof value === "object" && !Array.isArray(value)) return value;
  } catch {
    // reported below
  }
  throw new Error(`${what} must be a JSON object`);
}

interface Conflict {
  base: { source: string; language: Language; version: number };
  theirs: Script;
}

function EditorTab({ script, onSaved }: { script: Script; onSaved: () => void }) {
  const host = useRef<HTMLDivElement>(null);
  const model = useRef<Monaco.editor.ITextModel | null>(null);
  const [draft, setDraftState] = useState<Draft>(() => openDraft(script));
  const [diagnostics, setDiagnostics] = useState<Diagnostic[]>([]);
  // True from an edit until the platform's diagnostics for the text as it now is are shown.
  const [checking, setChecking] = useState(true);
  const [message, setMessage] = useState("");
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [conflict, setConflict] = useState<Conflict | null>(null);

  // The tenant's modules resolve in IntelliSense (API.md §13).
  useEffect(() => {
    setUpMonaco();
    void loadTenantModules(script.id).then(setTenantModules, () => undefined);
  }, [script.id]);

  const edit = (patch: Partial<Draft>) => {
    updateDraft(script.id, patch);
    setDraftState(getDraft(script.id)!);
  };

  // A newer saved version (a restore, a save elsewhere) shows when nothing here is unsaved.
  useEffect(() => {
    const next = openDraft(script);
    setDraftState(next);
    if (model.current && !model.current.isDisposed() && model.current.getValue() !== next.source && next.language === draft.language) model.current.setValue(next.source);
  }, [script.version]);

  // A new language is a new model (Monaco's TypeScript tells the two apart by file name), with the draft's text.
  useEffect(() => {
    if (conflict) return;
    const monaco = setUpMonaco();
    const current = scriptModel(getDraft(script.id)?.source ?? script.source ?? "", draft.language, script.id);
    model.current = current;
    const instance = monaco.editor.create(host.current!, { model: current, automaticLayout: true, minimap: { enabled: false }, fontSize: 13, scrollBeyondLastLine: false });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const validate = async () => {
      // Answers can arrive out of order: one for text that has changed since is dropped
      // (the change scheduled a check of its own).
      const version = current.getVersionId();
      try {
        const { data } = await api<{ ok: boolean; diagnostics: Diagnostic[] }>("/api/scripts/validate", { method: "POST", body: { source: current.getValue(), language: draft.language, ...(script.type === "module" && { type: "module", name: script.name }) } });
        if (current.isDisposed() || current.getVersionId() !== version) return;
        setDiagnostics(data.diagnostics);
        showDiagnostics(current, data.diagnostics);
      } catch (e) {
        if (current.isDisposed() || current.getVersionId() !== version) return;
        setError(describe(e));
      }
      setChecking(false);
    };
    const subscription = current.onDidChangeContent(() => {
      edit({ source: current.getValue() });
      setChecking(true);
      clearTimeout(timer);
      timer = setTimeout(validate, 400);
    });
    void validate();
    return () => {
      clearTimeout(timer);
      subscription.dispose();
      model.current = null;
      instance.dispose();
      current.dispose();
    };
  }, [script.id, draft.language, !!conflict]);

  async function save() {
    if (saving || conflict) return;
    setError(null);
    setNotice(null);
    const d = getDraft(script.id)!;
    let body;
    try {
      body = { source: d.source, language: d.language, trigger: parseObject(d.trigger, "The trigger"), limits: parseObject(d.limits, "The limits"), ...(message && { message }) };
    } catch (e) {
      setError(describe(e));
      return;
    }
    setSaving(true);
    try {
      const { data } = await api<Script>(`/api/scripts/${script.id}`, { method: "PUT", body, headers: { "if-match": `"${d.baseVersion}"` } });
      resetDraft(data);
      setDraftState(getDraft(script.id)!);
      setNotice(data.version === d.baseVersion ? "Nothing changed." : `Saved as version ${data.version}.`);
      setMessage("");
      onSaved();
    } catch (e) {
      if (e instanceof ApiFailure && e.code === "version_mismatch") await openConflict(d);
      else setError(describe(e));
    } finally {
      setSaving(false);
    }
  }

  async function openConflict(d: Draft) {
    try {
      const [theirs, base] = await Promise.all([
        api<Script>(`/api/scripts/${script.id}`),
        api<{ source: string; language: Language }>(`/api/scripts/${script.id}/versions/${d.baseVersion}`),
      ]);
      setConflict({ theirs: theirs.data, base: { ...base.data, version: d.baseVersion } });
    } catch (e) {
      setError(describe(e));
    }
  }

  function resolved(saved: Script, how: string) {
    resetDraft(saved);
    setDraftState(getDraft(script.id)!);
    setConflict(null);
    setNotice(how);
    onSaved();
  }

  useShortcut("s", () => void save());

  if (conflict) return html`<${ConflictView} scriptId=${script.id} conflict=${conflict} mine=${draft} message=${message} onResolved=${resolved} onTheirsChanged=${(theirs: Script) => setConflict({ ...conflict, theirs })} />`;

  return html`
    <div class="editor-tab">
      <div class="editor" ref=${host} data-testid="editor"></div>
      <ul class="diagnostics" aria-label="diagnostics" aria-busy=${checking ? "true" : "false"}>
        ${diagnostics.map((d) => html`<li>Line ${d.line}, column ${d.column}: ${d.message}</li>`)}
      </ul>
      <form class="save" onSubmit=${(e: Event) => (e.preventDefault(), void save())}>
        <label>Language
          <select name="language" value=${draft.language} onChange=${(e: Event) => edit({ language: valueOf(e) as Language })}>
            ${LANGUAGES.map((l) => html`<option value=${l}>${l === "typescript" ? "TypeScript" : "JavaScript"}</option>`)}
          </select>
        </label>
        <label>Message <input name="message" placeholder="what changed" value=${message} onInput=${(e: Event) => setMessage(valueOf(e))} /></label>
        <${TriggerForm} type=${script.type} text=${draft.trigger} onChange=${(trigger: string) => edit({ trigger })} />
        <${LimitsForm} text=${draft.limits} onChange=${(limits: string) => edit({ limits })} />
        <div class="save-row">
          <button type="submit" disabled=${saving}>${saving ? "Saving…" : "Save"}</button> <span class="hint">Ctrl/⌘+S · edits are kept when you switch tabs</span>
        </div>
        ${notice && html`<p class="notice" role="status">${notice}</p>`}
        <${ErrorNote} error=${error} />
      </form>
    </div>
  `;
}

/**
 * A save refused with 412: someone saved since this edit started. Shows what they changed
 * (base → theirs) and what saving yours would change (theirs → yours, editable), and saves
 * yours as the version after theirs.
 */
function ConflictView({ scriptId, conflict, mine, message, onResolved, onTheirsChanged }: { scriptId: string; conflict: Conflict; mine: Draft; message: string; onResolved: (saved: Script, how: string) => void; onTheirsChanged: (theirs: Script) => void }) {
  const { base, theirs } = conflict;
  const merged = useRef<Monaco.editor.ITextModel | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function keepMine() {
    setError(null);
    setBusy(true);
    try {
      const source = merged.current?.getValue() ?? mine.source;
      const body = { source, language: mine.language, trigger: parseObject(mine.trigger, "The trigger"), limits: parseObject(mine.limits, "The limits"), message: message || `on top of v${theirs.version}` };
      const { data } = await api<Script>(`/api/scripts/${scriptId}`, { method: "PUT", body, headers: { "if-match": `"${theirs.version}"` } });
      onResolved(data, `Saved yours on top of theirs as version ${data.version}.`);
    } catch (e) {
      if (e instanceof ApiFailure && e.code === "version_mismatch") {
        onTheirsChanged((await api<Script>(`/api/scripts/${scriptId}`)).data);
        setError("Someone saved again in the meantime: here is their newest version.");
      } else setError(describe(e));
    } finally {
      setBusy(false);
    }
  }

  return html`
    <div class="conflict" data-testid="conflict" role="region" aria-label="Conflict">
      <p class="warning" role="alert">Someone saved this script since you started editing: version ${theirs.version} (${theirs.updatedAt ? when(theirs.updatedAt) : ""}) is newer than v${base.version}, which your edit started from. Your text is kept below.</p>
      <div class="three-way">
        <div>
          <h4>What they changed <small>base v${base.version} → theirs v${theirs.version}</small></h4>
          <${DiffEditor} testId="conflict-theirs" original=${{ text: base.source, language: base.language }} modified=${{ text: theirs.source ?? "", language: theirs.language }} />
        </div>
        <div>
          <h4>Yours on top of theirs <small>theirs v${theirs.version} → yours (editable)</small></h4>
          <${DiffEditor} testId="conflict-mine" editable original=${{ text: theirs.source ?? "", language: theirs.language }} modified=${{ text: mine.source, language: mine.language }} onModified=${(m: Monaco.editor.ITextModel) => (merged.current = m)} />
        </div>
      </div>
      <div class="actions">
        <button type="button" disabled=${busy} onClick=${keepMine}>Keep mine on top of theirs</button>
        <${ConfirmButton} label="Take theirs" question="Discard your edit and take their version?" onConfirm=${() => onResolved(theirs, `Took their version ${theirs.version}; your edit is discarded.`)} />
      </div>
      <${ErrorNote} error=${error} />
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
      <${ErrorNote} error=${error} />
      <table class="list">
        <thead><tr><th>Version</th><th>Message</th><th>By</th><th>When</th><th>From</th><th>To</th><th><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>
          ${(versions.data ?? []).map(
            (v) => html`<tr>
              <td data-label="Version">v${v.version}</td><td data-label="Message">${v.message}</td><td data-label="By">${v.createdBy}</td><td data-label="When">${when(v.createdAt)}</td>
              <td data-label="From"><input type="radio" name="from" aria-label=${`from v${v.version}`} checked=${from === v.version} onChange=${() => setFrom(v.version)} /></td>
              <td data-label="To"><input type="radio" name="to" aria-label=${`to v${v.version}`} checked=${to === v.version} onChange=${() => setTo(v.version)} /></td>
              <td>${v.version !== script.version && html`<${ConfirmButton} className="" label="Restore" question=${`Restore v${v.version} as a new version?`} onConfirm=${() => restore(v.version)} />`}</td>
            </tr>`,
          )}
        </tbody>
      </table>
      <${ListState} loaded=${versions} empty="No versions." />
      <${VersionDiff} scriptId=${script.id} from=${from} to=${to} />
    </div>
  `;
}

function VersionDiff({ scriptId, from, to }: { scriptId: string; from: number; to: number }) {
  const diff = useLoad(async () => {
    const [a, b, d] = await Promise.all([
      api<{ source: string; language: Language }>(`/api/scripts/${scriptId}/versions/${from}`),
      api<{ source: string; language: Language }>(`/api/scripts/${scriptId}/versions/${to}`),
      api<{ languageChanged: boolean; triggerChanged: boolean; limitsChanged: boolean }>(`/api/scripts/${scriptId}/diff?from=${from}&to=${to}`),
    ]);
    return { original: { text: a.data.source, language: a.data.language }, modified: { text: b.data.source, language: b.data.language }, ...d.data };
  }, [scriptId, from, to]);

  return html`
    <div>
      <h3>v${from} → v${to} ${diff.data?.languageChanged && html`<span class="flag">language changed</span>`} ${diff.data?.triggerChanged && html`<span class="flag">trigger changed</span>`} ${diff.data?.limitsChanged && html`<span class="flag">limits changed</span>`}</h3>
      <${ErrorNote} error=${diff.error} />
      ${diff.data ? html`<${DiffEditor} testId="diff" original=${diff.data.original} modified=${diff.data.modified} />` : html`<p class="loading" role="status">Loading…</p>`}
    </div>
  `;
}

/** The tenant's active modules with their sources, except the script being edited. */
async function loadTenantModules(except: string): Promise<Array<{ name: string; language: Language; source: string }>> {
  const { data } = await api<{ items: Array<{ id: string }> }>("/api/scripts?type=module&status=active&limit=200");
  const others = data.items.filter((m) => m.id !== except);
  return Promise.all(others.map(async (m) => (await api<{ name: string; language: Language; source: string }>(`/api/scripts/${m.id}`)).data));
}
