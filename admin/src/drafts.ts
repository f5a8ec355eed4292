/**
 * Unsaved edits, kept per script while the page lives: leaving the editor for another tab
 * (or another screen) and coming back finds the text as it was. A draft is dirty when it
 * differs from the version it started from; the page warns before unloading while any is.
 */
import { useEffect, useState } from "preact/hooks";
import type { Language, Script } from "./api";

export interface Draft {
  source: string;
  language: Language;
  /** Trigger and limits as the JSON text being edited (forms write it too). */
  trigger: string;
  limits: string;
  /** The saved version the edit started from: the If-Match of the save, the base of a conflict. */
  baseVersion: number;
}

export const json = (value: unknown) => JSON.stringify(value, null, 2);

export function draftOf(script: Script): Draft {
  return { source: script.source ?? "", language: script.language, trigger: json(script.trigger), limits: json(script.limits), baseVersion: script.version };
}

const drafts = new Map<string, { draft: Draft; saved: Draft }>();
const listeners = new Set<() => void>();
const changed = () => listeners.forEach((listener) => listener());

function differs(a: Draft, b: Draft) {
  return a.source !== b.source || a.language !== b.language || a.trigger !== b.trigger || a.limits !== b.limits;
}

/** The draft to edit: the unsaved one if any, else the script as saved. */
export function openDraft(script: Script): Draft {
  const kept = drafts.get(script.id);
  if (kept && differs(kept.draft, kept.saved)) return kept.draft;
  const fresh = draftOf(script);
  drafts.set(script.id, { draft: fresh, saved: draftOf(script) });
  return fresh;
}

export function updateDraft(scriptId: string, patch: Partial<Draft>) {
  const kept = drafts.get(scriptId);
  if (!kept) return;
  const wasDirty = differs(kept.draft, kept.saved);
  kept.draft = { ...kept.draft, ...patch };
  if (wasDirty !== differs(kept.draft, kept.saved)) changed();
}

export function getDraft(scriptId: string): Draft | undefined {
  return drafts.get(scriptId)?.draft;
}

/** After a save (or taking theirs): the script as saved now is the draft's new start. */
export function resetDraft(script: Script) {
  drafts.set(script.id, { draft: draftOf(script), saved: draftOf(script) });
  changed();
}

export function isDirty(scriptId: string): boolean {
  const kept = drafts.get(scriptId);
  return !!kept && differs(kept.draft, kept.saved);
}

export const anyDirty = () => [...drafts.keys()].some(isDirty);

/** Whether the script has unsaved edits, kept up to date. */
export function useDirty(scriptId: string): boolean {
  const [dirty, setDirty] = useState(isDirty(scriptId));
  useEffect(() => {
    const listener = () => setDirty(isDirty(scriptId));
    listeners.add(listener);
    listener();
    return () => void listeners.delete(listener);
  }, [scriptId]);
  return dirty;
}

/** The browser's "leave site?" question while any edit is unsaved. */
addEventListener("beforeunload", (event) => {
  if (!anyDirty()) return;
  event.preventDefault();
  event.returnValue = "";
});
