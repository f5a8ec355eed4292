import { formatPatch, structuredPatch, type StructuredPatch } from "diff";
import type { ScriptVersionRow } from "../db/schema";
import { jsonEqual } from "../lib/json";

/** Diffing gives up after this long on pathological inputs and shows a whole replacement. */
const DIFF_TIMEOUT_MS = 2_000;

/** The difference between two versions (API.md §6): unified text, hunks, and what else moved. */
export function diffVersions(from: ScriptVersionRow, to: ScriptVersionRow) {
  const oldName = `v${from.version}`;
  const newName = `v${to.version}`;
  const patch =
    structuredPatch(oldName, newName, from.source, to.source, undefined, undefined, { context: 3, timeout: DIFF_TIMEOUT_MS }) ??
    wholeReplacement(oldName, newName, from.source, to.source);
  return {
    from: from.version,
    to: to.version,
    unified: formatPatch(patch),
    // Every hunk line starts with "+", "-" or a space (API.md §6): the unified text's
    // "\ No newline at end of file" markers stay in `unified` only.
    hunks: patch.hunks.map(({ oldStart, oldLines, newStart, newLines, lines }) => ({ oldStart, oldLines, newStart, newLines, lines: lines.filter((line) => !line.startsWith("\\")) })),
    languageChanged: from.language !== to.language,
    placementChanged: from.placement !== to.placement,
    triggerChanged: !jsonEqual(from.trigger, to.trigger),
    limitsChanged: !jsonEqual(from.limits, to.limits),
  };
}

function wholeReplacement(oldFileName: string, newFileName: string, oldText: string, newText: string): StructuredPatch {
  const oldLines = oldText === "" ? [] : oldText.replace(/\n$/, "").split("\n");
  const newLines = newText === "" ? [] : newText.replace(/\n$/, "").split("\n");
  return {
    oldFileName,
    newFileName,
    oldHeader: undefined,
    newHeader: undefined,
    hunks: [
      {
        oldStart: 1,
        oldLines: oldLines.length,
        newStart: 1,
        newLines: newLines.length,
        lines: [...oldLines.map((l) => "-" + l), ...newLines.map((l) => "+" + l)],
      },
    ],
  };
}
