/**
 * A script's trigger and limits edited through forms, with the JSON one click away. Both
 * edit the same JSON text: a form change rewrites it, and JSON that does not parse keeps
 * the JSON view open until it does.
 */
import { Cron } from "croner";
import { useState } from "preact/hooks";
import type { Script } from "../api";
import { html, valueOf } from "../ui";

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

function parse(text: string): Record<string, any> | null {
  try {
    const value = JSON.parse(text);
    return value && typeof value === "object" && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

/** A form over JSON text, with a toggle to the text itself. */
function JsonBacked({ legend, name, text, onChange, children }: { legend: string; name: string; text: string; onChange: (text: string) => void; children: (value: Record<string, any>, set: (next: Record<string, any>) => void) => unknown }) {
  const [asJson, setAsJson] = useState(false);
  const value = parse(text);
  const showJson = asJson || value === null;
  const set = (next: Record<string, any>) => onChange(JSON.stringify(next, null, 2));
  return html`
    <fieldset class="json-backed" data-testid=${`${name}-form`}>
      <legend>${legend}</legend>
      <label class="inline"><input type="checkbox" name=${`${name}-as-json`} checked=${showJson} disabled=${value === null} onChange=${(e: Event) => setAsJson((e.target as HTMLInputElement).checked)} /> Edit as JSON</label>
      ${showJson
        ? html`<label>${legend} (JSON) <textarea name=${name} rows="4" value=${text} onInput=${(e: Event) => onChange(valueOf(e))}></textarea></label>
            ${value === null && html`<p class="error" role="alert">${legend} must be a JSON object.</p>`}`
        : children(value, set)}
    </fieldset>
  `;
}

export function TriggerForm({ type, text, onChange }: { type: Script["type"]; text: string; onChange: (text: string) => void }) {
  return html`<${JsonBacked} legend="Trigger" name="trigger" text=${text} onChange=${onChange}>${(value: Record<string, any>, set: (next: Record<string, any>) => void) => {
    if (type === "http") return html`<${HttpTriggerFields} value=${value} set=${set} />`;
    if (type === "event") return html`<${EventTriggerFields} value=${value} set=${set} />`;
    if (type === "scheduled") return html`<${ScheduleFields} value=${value} set=${set} />`;
    return html`<p class="hint">A manual script runs only when asked (the Run panel, or <code>POST /api/scripts/:id/run</code>).</p>`;
  }}<//>`;
}

function HttpTriggerFields({ value, set }: { value: Record<string, any>; set: (next: Record<string, any>) => void }) {
  const methods: string[] = Array.isArray(value.methods) ? value.methods : [];
  const toggle = (method: string, on: boolean) => set({ ...value, methods: on ? [...methods, method] : methods.filter((m) => m !== method) });
  return html`
    <label>Path <input name="trigger-path" placeholder="/orders/:id" value=${value.path ?? ""} onInput=${(e: Event) => set({ ...value, path: valueOf(e) })} /></label>
    <div class="methods" role="group" aria-label="Methods">
      ${METHODS.map((m) => html`<label class="inline"><input type="checkbox" name=${`method-${m}`} checked=${methods.includes(m)} onChange=${(e: Event) => toggle(m, (e.target as HTMLInputElement).checked)} /> ${m}</label>`)}
    </div>
  `;
}

function EventTriggerFields({ value, set }: { value: Record<string, any>; set: (next: Record<string, any>) => void }) {
  const types: string[] = Array.isArray(value.eventTypes) ? value.eventTypes : [];
  // The text as typed (a trailing comma stays while typing); the trigger gets the list.
  const [raw, setRaw] = useState(types.join(", "));
  const input = (text: string) => (setRaw(text), set({ ...value, eventTypes: text.split(",").map((t) => t.trim()).filter(Boolean) }));
  return html`
    <label>Event types <small>(comma-separated; <code>order.*</code> matches <code>order.created</code>)</small>
      <input name="trigger-event-types" value=${raw} onInput=${(e: Event) => input(valueOf(e))} />
    </label>
  `;
}

function ScheduleFields({ value, set }: { value: Record<string, any>; set: (next: Record<string, any>) => void }) {
  return html`
    <label>Cron expression <input name="trigger-cron" placeholder="*/5 * * * *" value=${value.cron ?? ""} onInput=${(e: Event) => set({ ...value, cron: valueOf(e) })} /></label>
    <label>Time zone <input name="trigger-timezone" placeholder="UTC" value=${value.timezone ?? ""} onInput=${(e: Event) => set({ ...value, timezone: valueOf(e) || undefined })} /></label>
    <label class="inline"><input type="checkbox" name="trigger-allow-overlap" checked=${!!value.allowOverlap} onChange=${(e: Event) => set({ ...value, allowOverlap: (e.target as HTMLInputElement).checked })} /> Run even while the previous run is still going</label>
    <${NextRuns} cron=${value.cron ?? ""} timezone=${value.timezone || "UTC"} />
  `;
}

/** The next five times a cron expression fires, as typed (croner, as the platform uses). */
export function NextRuns({ cron, timezone }: { cron: string; timezone: string }) {
  let runs: Date[] = [];
  let problem: string | null = null;
  try {
    runs = new Cron(cron.trim(), { paused: true, timezone }).nextRuns(5);
  } catch (e) {
    problem = e instanceof Error ? e.message.replace(/^CronPattern: /, "") : String(e);
  }
  if (!cron.trim()) problem = "type a cron expression";
  return html`
    <div class="next-runs" data-testid="next-runs" aria-live="polite">
      <strong>Next runs</strong> <small>(${timezone}, shown in your time)</small>
      ${problem ? html`<p class="error">${problem}</p>` : html`<ol>${runs.map((d) => html`<li><time datetime=${d.toISOString()}>${d.toLocaleString()}</time></li>`)}</ol>`}
    </div>
  `;
}

/** The limits a script may lower for itself (API.md §8); empty means the tenant's. */
const SCRIPT_LIMITS: Array<{ key: string; label: string }> = [
  { key: "timeoutMs", label: "Timeout (ms)" },
  { key: "cpuMs", label: "CPU (ms)" },
  { key: "memoryBytes", label: "Memory (bytes)" },
  { key: "stackBytes", label: "Stack (bytes)" },
  { key: "sdkCallsPerExecution", label: "SDK calls per execution" },
  { key: "outputBytes", label: "Result size (bytes)" },
  { key: "logBytes", label: "Logs (bytes)" },
];

export function LimitsForm({ text, onChange }: { text: string; onChange: (text: string) => void }) {
  return html`<${JsonBacked} legend="Limits" name="limits" text=${text} onChange=${onChange}>${(value: Record<string, any>, set: (next: Record<string, any>) => void) => html`
    <p class="hint">Empty: the tenant's limit. A script can only lower a limit.</p>
    <div class="limit-fields">
      ${SCRIPT_LIMITS.map(
        ({ key, label }) => html`<label>${label}
          <input type="number" min="0" name=${`limit-${key}`} placeholder="tenant's" value=${value[key] ?? ""}
            onInput=${(e: Event) => {
              const next = { ...value };
              const raw = valueOf(e);
              if (raw === "") delete next[key];
              else next[key] = Number(raw);
              set(next);
            }} />
        </label>`,
      )}
    </div>`}<//>`;
}
