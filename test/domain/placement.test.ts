import { describe, expect, it } from "vitest";
import { edgeCpuMs, type PlacementInput, resolvePlacement } from "../../src/domain/placement";

const base: PlacementInput = { placement: "auto", type: "http", usesCellState: false, ownCpuMs: undefined, edgeCpuMs: 50 };

describe("placement (API.md §14)", () => {
  const table: Array<[string, Partial<PlacementInput>, "edge" | "cell"]> = [
    ["auto, stateless http script", {}, "edge"],
    ["auto, a script that may use iota.db or iota.events", { usesCellState: true }, "cell"],
    ["auto, own cpuMs above the edge slice", { ownCpuMs: 51 }, "cell"],
    ["auto, own cpuMs at the edge slice", { ownCpuMs: 50 }, "edge"],
    ["auto, own cpuMs below the edge slice", { ownCpuMs: 10 }, "edge"],
    ["edge chosen, even with state", { placement: "edge", usesCellState: true }, "edge"],
    ["edge chosen, even with more CPU", { placement: "edge", ownCpuMs: 5000 }, "edge"],
    ["cell chosen", { placement: "cell" }, "cell"],
    ["an event script", { type: "event", placement: "edge" }, "cell"],
    ["a scheduled script", { type: "scheduled" }, "cell"],
    ["a manual script", { type: "manual" }, "cell"],
  ];
  for (const [what, input, expected] of table) {
    it(`${what} → ${expected}`, () => expect(resolvePlacement({ ...base, ...input })).toBe(expected));
  }

  const slices: Array<[string | undefined, number]> = [[undefined, 50], ["20", 20], ["0", 50], ["-5", 50], ["abc", 50], ["12.9", 12]];
  for (const [value, expected] of slices) {
    it(`EDGE_CPU_MS=${value} → ${expected} ms`, () => expect(edgeCpuMs({ EDGE_CPU_MS: value })).toBe(expected));
  }
});
