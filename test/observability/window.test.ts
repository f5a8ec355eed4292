import { describe, expect, it } from "vitest";
import { bucketsOf, metricsWindow, type WindowQuery } from "../../src/observability/window";

const NOW = Date.UTC(2026, 11, 2, 12, 30, 20);
const H = 3_600_000;
const M = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe("the metrics window (pure)", () => {
  const answered: Array<[string, WindowQuery, { step: string; from: number; to: number; points: number }]> = [
    ["default: the last hour by minute, the current minute included", {}, { step: "minute", from: NOW - H - 20_000, to: NOW - 20_000 + M, points: 61 }],
    ["step=hour: the last day by hour", { step: "hour" }, { step: "hour", from: Date.UTC(2026, 11, 1, 12), to: Date.UTC(2026, 11, 2, 13), points: 25 }],
    ["from and to aligned outward", { from: NOW - 10 * M, to: NOW - 5 * M }, { step: "minute", from: NOW - 10 * M - 20_000, to: NOW - 5 * M + 40_000, points: 6 }],
    ["to alone: the hour before it", { to: NOW - 2 * H }, { step: "minute", from: NOW - 3 * H - 20_000, to: NOW - 2 * H + 40_000, points: 61 }],
    ["24 h by minute fits (1 440 points)", { from: NOW - 24 * H + 40_000 }, { step: "minute", from: NOW - 24 * H + 40_000 - 20_000 - 40_000 + M, to: NOW - 20_000 + M, points: 1440 }],
    ["48 h by minute is the oldest minute window", { from: NOW - 48 * H + M, to: NOW - 24 * H - M }, { step: "minute", from: NOW - 48 * H + M - 20_000, to: NOW - 24 * H - 20_000, points: 1439 }],
    ["30 days by hour", { step: "hour", from: NOW - 30 * 24 * H + H }, { step: "hour", from: Date.UTC(2026, 10, 2, 13), to: Date.UTC(2026, 11, 2, 13), points: 720 }],
  ];
  for (const [name, query, expected] of answered) {
    it(name, () => {
      const result = metricsWindow(query, NOW);
      expect("window" in result, JSON.stringify(result)).toBe(true);
      if (!("window" in result)) return;
      expect({ step: result.window.step, from: iso(result.window.from), to: iso(result.window.to), points: bucketsOf(result.window).length }).toEqual({
        step: expected.step,
        from: iso(expected.from),
        to: iso(expected.to),
        points: expected.points,
      });
    });
  }

  const refused: Array<[string, WindowQuery, string]> = [
    ["from after to", { from: NOW - M, to: NOW - 2 * M }, "from"],
    ["from equal to to", { from: NOW - M, to: NOW - M }, "from"],
    ["minutes older than 48 h", { from: NOW - 49 * H, to: NOW - 48 * H + 10 * M }, "from"],
    ["hours older than 30 days", { step: "hour", from: NOW - 31 * 24 * H }, "from"],
    ["more than 1 500 points", { step: "minute", from: NOW - 26 * H }, "from"],
    ["to in the future", { to: NOW + 10 * M }, "to"],
  ];
  for (const [name, query, path] of refused) {
    it(`refuses ${name}`, () => {
      const result = metricsWindow(query, NOW);
      expect("problems" in result && result.problems.map((p) => p.path)).toContain(path);
    });
  }
});
