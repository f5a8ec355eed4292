/**
 * Monaco's diff editor over two texts, torn down in the order Monaco needs: the models are
 * detached from the editor first, then the editor goes, then the models. Disposing models
 * still attached to a disposed diff editor made its observers touch its disposed context
 * keys ("AbstractContextKeyService has been disposed", thrown on leaving the Versions tab).
 */
import type * as Monaco from "monaco-editor";
import { useEffect, useRef } from "preact/hooks";
import type { Language } from "../api";
import { setUpMonaco } from "../monaco";
import { html } from "../ui";

export interface DiffSide {
  text: string;
  language: Language;
}

export function DiffEditor({ original, modified, editable = false, testId, onModified }: { original: DiffSide; modified: DiffSide; editable?: boolean; testId: string; onModified?: (model: Monaco.editor.ITextModel) => void }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const monaco = setUpMonaco();
    const originalModel = monaco.editor.createModel(original.text, original.language);
    const modifiedModel = monaco.editor.createModel(modified.text, modified.language);
    const editor = monaco.editor.createDiffEditor(host.current!, {
      readOnly: !editable,
      originalEditable: false,
      automaticLayout: true,
      renderSideBySide: true,
      useInlineViewWhenSpaceIsLimited: true,
      minimap: { enabled: false },
    });
    editor.setModel({ original: originalModel, modified: modifiedModel });
    onModified?.(modifiedModel);
    return () => {
      editor.setModel(null);
      editor.dispose();
      originalModel.dispose();
      modifiedModel.dispose();
    };
  }, [original.text, original.language, modified.text, modified.language, editable]);
  return html`<div class="diff" ref=${host} data-testid=${testId}></div>`;
}
