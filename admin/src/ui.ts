/** Small shared pieces of the admin UI: html templates, data loading, formatting. */
import { h } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import htm from "htm";
import { ApiFailure } from "./api";

export const html = htm.bind(h);

export interface Loaded<T> {
  data: T | undefined;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

/** Loads `fetcher()` now, again whenever `deps` change, and every `refreshMs` if given. */
export function useLoad<T>(fetcher: () => Promise<T>, deps: unknown[], refreshMs?: number): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  useEffect(() => {
    let live = true;
    setLoading(true);
    fetcher()
      .then((value) => live && (setData(value), setError(null)))
      .catch((e) => live && setError(describe(e)))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  useEffect(() => {
    if (!refreshMs) return;
    const timer = setInterval(reload, refreshMs);
    return () => clearInterval(timer);
  }, [refreshMs, reload]);
  return { data, error, loading, reload };
}

export function describe(error: unknown): string {
  if (error instanceof ApiFailure) {
    const details = Array.isArray(error.details)
      ? error.details.map((d: { path?: string; line?: number; column?: number; message: string }) => (d.line ? `${d.line}:${d.column} ${d.message}` : `${d.path || "body"}: ${d.message}`)).join("; ")
      : "";
    return `${error.message}${details ? ` (${details})` : ""}`;
  }
  return error instanceof Error ? error.message : String(error);
}

export function ErrorNote({ error }: { error: string | null }) {
  return error ? html`<p class="error" role="alert">${error}</p>` : null;
}

export function Status({ value }: { value: string }) {
  return html`<span class=${`status status-${value}`}>${value}</span>`;
}

export function Json({ value }: { value: unknown }) {
  return html`<pre class="json">${value === undefined ? "undefined" : JSON.stringify(value, null, 2)}</pre>`;
}

export function when(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : "–";
}

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return "–";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function navigate(path: string) {
  location.hash = `#${path}`;
}

/**
 * A destructive action asks first, in place: the button turns into the question, a
 * confirming button and Cancel.
 */
export function ConfirmButton({ label, question, onConfirm, className = "danger" }: { label: string; question: string; onConfirm: () => void; className?: string }) {
  const [asking, setAsking] = useState(false);
  if (!asking) return html`<button type="button" class=${className} onClick=${() => setAsking(true)}>${label}</button>`;
  return html`<span class="confirm" role="group" aria-label=${question}>
    <span>${question}</span>
    <button type="button" class=${className} onClick=${() => (setAsking(false), onConfirm())}>Yes, ${label.toLowerCase()}</button>
    <button type="button" onClick=${() => setAsking(false)}>Cancel</button>
  </span>`;
}

/** Copies `text` to the clipboard, and says so for a moment. */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  async function copy() {
    await navigator.clipboard.writeText(text);
    setCopied(true);
    setTimeout(() => setCopied(false), 1500);
  }
  return html`<button type="button" class="copy" onClick=${copy}>${copied ? "Copied" : label}</button>`;
}

/** What a list shows while it loads, when it failed, and when it is empty. */
export function ListState({ loaded, empty }: { loaded: Loaded<unknown[]>; empty: string }) {
  if (loaded.error) return html`<${ErrorNote} error=${loaded.error} />`;
  if (loaded.data === undefined) return html`<p class="loading" role="status">Loading…</p>`;
  return loaded.data.length === 0 ? html`<p class="empty">${empty}</p>` : null;
}

/** Runs `action` on Ctrl+`key` or Cmd+`key` anywhere on the page (before Monaco sees the key). */
export function useShortcut(key: string, action: () => void) {
  const latest = useRef(action);
  latest.current = action;
  useEffect(() => {
    const listener = (event: KeyboardEvent) => {
      if (!(event.ctrlKey || event.metaKey) || event.altKey || event.key.toLowerCase() !== key.toLowerCase()) return;
      event.preventDefault();
      event.stopPropagation();
      latest.current();
    };
    addEventListener("keydown", listener, true);
    return () => removeEventListener("keydown", listener, true);
  }, [key]);
}

/** The value of an input or textarea from its event. */
export const valueOf = (event: Event) => (event.target as HTMLInputElement).value;
