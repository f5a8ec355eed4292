/**
 * Monaco, bundled with its workers (no CDN), set up for iota scripts: JavaScript or
 * TypeScript (API.md §13), both with the SDK's own declarations (sdk/iota.d.ts) for
 * IntelliSense, and the platform's diagnostics (POST /api/scripts/validate) as markers.
 * TypeScript is checked here, in the editor; the platform only strips its types.
 */
import * as monaco from "./monaco-lean";
import EditorWorker from "monaco-editor/editor/editor.worker?worker";
import TsWorker from "monaco-editor/language/typescript/ts.worker?worker";
import iotaTypes from "../../sdk/iota.d.ts?raw";
import type { Diagnostic, Language } from "./api";

declare global {
  interface Window {
    MonacoEnvironment?: monaco.Environment;
  }
}

let ready = false;

export function setUpMonaco(): typeof monaco {
  if (ready) return monaco;
  ready = true;
  window.MonacoEnvironment = {
    getWorker: (_id, label) => (label === "typescript" || label === "javascript" ? new TsWorker() : new EditorWorker()),
  };
  const js = monaco.typescript.javascriptDefaults;
  js.setCompilerOptions({
    allowJs: true,
    checkJs: true,
    allowNonTsExtensions: true,
    target: monaco.typescript.ScriptTarget.ESNext,
    module: monaco.typescript.ModuleKind.ESNext,
    // Standard JavaScript only: no DOM in a script.
    lib: ["es2023"],
  });
  js.addExtraLib(iotaTypes, "file:///iota.d.ts");
  const ts = monaco.typescript.typescriptDefaults;
  ts.setCompilerOptions({
    strict: true,
    allowNonTsExtensions: true,
    target: monaco.typescript.ScriptTarget.ESNext,
    module: monaco.typescript.ModuleKind.ESNext,
    lib: ["es2023"],
    // What the platform runs: types erased in place, class fields as written (ES semantics).
    // The editor flags what cannot be erased (enum, namespaces with values, parameter
    // properties, import = / export =, <T>x), as the save would.
    erasableSyntaxOnly: true,
    useDefineForClassFields: true,
    verbatimModuleSyntax: true,
    experimentalDecorators: false,
  });
  ts.addExtraLib(iotaTypes, "file:///iota.d.ts");
  return monaco;
}

/** A model for a script's text, in its language (the file name tells Monaco's TypeScript which). */
export function scriptModel(source: string, language: Language, name: string) {
  const extension = language === "typescript" ? "ts" : "js";
  const uri = monaco.Uri.parse(`file:///scripts/${name}.${extension}`);
  monaco.editor.getModel(uri)?.dispose();
  return monaco.editor.createModel(source, language, uri);
}

/** Shows the platform's diagnostics on a model (they are 1-based lines and columns). */
export function showDiagnostics(model: monaco.editor.ITextModel, diagnostics: Diagnostic[]) {
  monaco.editor.setModelMarkers(
    model,
    "iota",
    diagnostics.map((d) => ({
      severity: monaco.MarkerSeverity.Error,
      message: d.message,
      startLineNumber: d.line,
      startColumn: d.column,
      endLineNumber: d.line,
      endColumn: d.column + 1,
    })),
  );
}
