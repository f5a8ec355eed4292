/**
 * Trying a script as its trigger would: an http script gets a request builder that calls
 * its real endpoint; an event script an event publisher that follows the event's
 * deliveries; manual and scheduled scripts a JSON input run by hand. Ctrl/Cmd+Enter runs.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { api, type Execution, type Script } from "../api";
import { useDirty } from "../drafts";
import { useWhoAmI } from "../tenant";
import { describe, ErrorNote, html, Status, useShortcut, valueOf } from "../ui";
import { curlLine, examplePath, firstMethod } from "./endpoint";
import { ExecutionDetail } from "./execution-detail";

export function RunPanel({ script, names, onActivate }: { script: Script; names?: Map<string, string>; onActivate: () => void }) {
  return html`
    <section class="run" aria-label="Run">
      ${script.type === "http" && html`<${HttpRequestBuilder} script=${script} onActivate=${onActivate} />`}
      ${script.type === "event" && html`<${EventPublisher} script=${script} names=${names} onActivate=${onActivate} />`}
      ${(script.type === "manual" || script.type === "scheduled") && html`<${ManualRun} script=${script} />`}
    </section>
  `;
}

/** A form whose submit Ctrl/Cmd+Enter also triggers. */
function useSubmitShortcut() {
  const form = useRef<HTMLFormElement>(null);
  useShortcut("Enter", () => form.current?.requestSubmit());
  return form;
}

function NotLive({ script, onActivate }: { script: Script; onActivate: () => void }) {
  const dirty = useDirty(script.id);
  if (script.status === "active") return dirty ? html`<p class="hint" role="note">This calls the saved version; your unsaved edits are not live yet.</p>` : null;
  return html`<p class="warning" role="note">This script is <strong>${script.status}</strong>, so it is not live: its trigger does not run it${script.type === "http" ? " and its endpoint answers 404" : ""}.
    ${script.status !== "archived" && script.status !== "disabled" && html` <button type="button" onClick=${onActivate}>Activate</button>`}</p>`;
}

function parseHeaders(text: string): Array<[string, string]> {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const colon = line.indexOf(":");
      return (colon < 0 ? [line, ""] : [line.slice(0, colon).trim(), line.slice(colon + 1).trim()]) as [string, string];
    });
}

interface HttpReply {
  status: number;
  statusText: string;
  headers: Array<[string, string]>;
  body: string;
  ms: number;
}

function HttpRequestBuilder({ script, onActivate }: { script: Script; onActivate: () => void }) {
  const who = useWhoAmI();
  const methods = Array.isArray(script.trigger.methods) && script.trigger.methods.length ? (script.trigger.methods as string[]) : ["GET"];
  const [method, setMethod] = useState(firstMethod(script));
  const [path, setPath] = useState(examplePath(script));
  const [query, setQuery] = useState("");
  const [headers, setHeaders] = useState("content-type: application/json");
  const [body, setBody] = useState("{}");
  const [reply, setReply] = useState<HttpReply | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const form = useSubmitShortcut();
  const hasBody = method !== "GET" && method !== "HEAD";
  const base = who?.endpoints.path ?? "";
  const url = `${base}${path.startsWith("/") ? path : `/${path}`}${query ? `?${query.replace(/^\?/, "")}` : ""}`;
  const sentHeaders = parseHeaders(headers).filter(([name]) => hasBody || name.toLowerCase() !== "content-type");

  async function send(event: Event) {
    event.preventDefault();
    setError(null);
    setBusy(true);
    const started = performance.now();
    try {
      // Same origin (`/t/<slug>/…`), so the UI's Content-Security-Policy allows it.
      const res = await fetch(new URL(url).pathname + new URL(url).search, { method, headers: sentHeaders, body: hasBody ? body : undefined });
      const text = await res.text();
      setReply({ status: res.status, statusText: res.statusText, headers: [...res.headers], body: text, ms: Math.round(performance.now() - started) });
    } catch (e) {
      setError(describe(e));
    } finally {
      setBusy(false);
    }
  }

  return html`
    <form ref=${form} class="request-builder" onSubmit=${send} aria-label="HTTP request">
      <h3>Send a request</h3>
      <${NotLive} script=${script} onActivate=${onActivate} />
      <div class="request-line">
        <label>Method <select name="method" value=${method} onChange=${(e: Event) => setMethod(valueOf(e))}>${methods.map((m) => html`<option value=${m}>${m}</option>`)}</select></label>
        <label class="grow">Path <input name="path" value=${path} onInput=${(e: Event) => setPath(valueOf(e))} /></label>
      </div>
      <label>Query <input name="query" placeholder="a=1&b=2" value=${query} onInput=${(e: Event) => setQuery(valueOf(e))} /></label>
      <label>Headers <small>(one <code>Name: value</code> a line)</small> <textarea name="headers" rows="2" value=${headers} onInput=${(e: Event) => setHeaders(valueOf(e))}></textarea></label>
      ${hasBody && html`<label>Body <textarea name="body" rows="4" value=${body} onInput=${(e: Event) => setBody(valueOf(e))}></textarea></label>`}
      <p class="hint"><code class="url">${method} ${url}</code></p>
      <button type="submit" disabled=${busy}>${busy ? "Sending…" : "Send"}</button> <span class="hint">Ctrl/⌘+Enter</span>
    </form>
    <${ErrorNote} error=${error} />
    ${reply &&
    html`<div class="http-reply" data-testid="http-reply">
      <p><strong data-testid="reply-status">${reply.status} ${reply.statusText}</strong> · ${reply.ms} ms</p>
      <details><summary>Headers (${reply.headers.length})</summary><dl class="headers">${reply.headers.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl></details>
      <h4>Body</h4>
      <pre class="json" data-testid="reply-body">${pretty(reply.body)}</pre>
      <p class="hint">As curl: <code class="url">${curlLine(method, url, sentHeaders, hasBody ? body : undefined)}</code></p>
    </div>`}
  `;
}

function pretty(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

interface EventRecord {
  id: string;
  type: string;
  deliveries: Array<{ scriptId: string; status: string; attempts: number; executionId: string | null }>;
}

const SETTLED = new Set(["completed", "dead_lettered"]);

function EventPublisher({ script, names, onActivate }: { script: Script; names?: Map<string, string>; onActivate: () => void }) {
  const patterns = Array.isArray(script.trigger.eventTypes) ? (script.trigger.eventTypes as string[]) : [];
  const [type, setType] = useState((patterns[0] ?? "test.event").replace(/\*/g, "test"));
  const [payload, setPayload] = useState("{}");
  const [idempotencyKey, setIdempotencyKey] = useState("");
  const [eventId, setEventId] = useState<string | null>(null);
  const [replayed, setReplayed] = useState(false);
  const [record, setRecord] = useState<EventRecord | null>(null);
  const [error, setError] = useState<string | null>(null);
  const form = useSubmitShortcut();

  // Follows the event until every delivery has settled.
  useEffect(() => {
    if (!eventId) return;
    let live = true;
    let timer: ReturnType<typeof setTimeout>;
    const poll = async () => {
      try {
        const { data } = await api<EventRecord>(`/api/events/${eventId}`);
        if (!live) return;
        setRecord(data);
        if (data.deliveries.length > 0 && data.deliveries.every((d) => SETTLED.has(d.status))) return;
      } catch (e) {
        if (live) setError(describe(e));
      }
      if (live) timer = setTimeout(poll, 1000);
    };
    void poll();
    return () => ((live = false), clearTimeout(timer));
  }, [eventId]);

  async function publish(event: Event) {
    event.preventDefault();
    setError(null);
    try {
      const body = { type, payload: JSON.parse(payload), ...(idempotencyKey && { idempotencyKey }) };
      const { data, headers } = await api<{ eventId: string }>("/api/events", { method: "POST", body });
      setRecord(null);
      setReplayed(headers.get("idempotent-replayed") === "true");
      setEventId(data.eventId);
    } catch (e) {
      setError(e instanceof SyntaxError ? `The payload must be JSON: ${e.message}` : describe(e));
    }
  }

  return html`
    <form ref=${form} class="event-publisher" onSubmit=${publish} aria-label="Publish an event">
      <h3>Publish an event</h3>
      <${NotLive} script=${script} onActivate=${onActivate} />
      <label>Type <input name="event-type" value=${type} onInput=${(e: Event) => setType(valueOf(e))} /></label>
      <label>Payload (JSON) <textarea name="payload" rows="4" value=${payload} onInput=${(e: Event) => setPayload(valueOf(e))}></textarea></label>
      <label>Idempotency key <small>(optional)</small> <input name="idempotency-key" value=${idempotencyKey} onInput=${(e: Event) => setIdempotencyKey(valueOf(e))} /></label>
      <button type="submit">Publish</button> <span class="hint">Ctrl/⌘+Enter</span>
    </form>
    <${ErrorNote} error=${error} />
    ${eventId &&
    html`<div class="event-record" data-testid="event-record">
      <p>Event <code>${eventId}</code>${replayed && html` <span class="flag">idempotent replay: the first event</span>`}</p>
      ${!record || record.deliveries.length === 0
        ? html`<p class="loading" role="status">${record ? "No active script subscribes to this type (yet)…" : "Publishing…"}</p>`
        : html`<table class="list">
            <thead><tr><th>Script</th><th>Delivery</th><th>Attempts</th><th>Execution</th></tr></thead>
            <tbody>${record.deliveries.map(
              (d) => html`<tr>
                <td data-label="Script">${names?.get(d.scriptId) ?? (d.scriptId === script.id ? script.name : d.scriptId)}</td>
                <td data-label="Delivery"><${Status} value=${d.status} /></td><td data-label="Attempts">${d.attempts}</td>
                <td data-label="Execution">${d.executionId ? html`<a href=${`#/executions/${d.executionId}`}>open</a>` : "–"}</td>
              </tr>`,
            )}</tbody>
          </table>`}
    </div>`}
  `;
}

function ManualRun({ script }: { script: Script }) {
  const [input, setInput] = useState("null");
  const [running, setRunning] = useState(false);
  const [execution, setExecution] = useState<Execution | null>(null);
  const [error, setError] = useState<string | null>(null);
  const form = useSubmitShortcut();

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
    <form ref=${form} onSubmit=${run} aria-label="Run by hand">
      <h3>Run by hand</h3>
      <p class="hint">Runs the saved version${script.type === "scheduled" ? ", with the input below instead of a schedule" : ""}.</p>
      <label>Input (JSON, the script's <code>event.input</code>) <textarea name="input" rows="4" value=${input} onInput=${(e: Event) => setInput(valueOf(e))}></textarea></label>
      <button type="submit" disabled=${running}>${running ? "Running…" : "Run"}</button> <span class="hint">Ctrl/⌘+Enter</span>
    </form>
    <${ErrorNote} error=${error} />
    ${execution && html`<${ExecutionDetail} execution=${execution} />`}
  `;
}
