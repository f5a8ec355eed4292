import { describe, expect, it } from "vitest";
import { applyFilter, logsAtLeast, sseFrame, socketFrame, TAIL_BYTES_PER_SECOND, TAIL_EVENTS_PER_SECOND, TailBudget, type TailFilter, type TailSummary } from "../../src/observability/tail";

const summary = (over: Partial<TailSummary> = {}): TailSummary => ({
  id: "exe_1",
  scriptId: "scr_A",
  version: 1,
  trigger: "http",
  status: "completed",
  attempt: 1,
  startedAt: "2026-12-02T00:00:00.000Z",
  finishedAt: "2026-12-02T00:00:00.010Z",
  durationMs: 10,
  cpuMs: 1,
  memoryBytes: 1024,
  sdkCalls: 0,
  traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
  error: null,
  logs: [
    { level: "debug", message: "d", at: "t" },
    { level: "info", message: "i", at: "t" },
    { level: "warn", message: "w", at: "t" },
  ],
  ...over,
});

describe("tail filters and budget (pure)", () => {
  const table: Array<[string, TailFilter, Partial<TailSummary>, string[] | null]> = [
    ["no filter: everything, every line", {}, {}, ["d", "i", "w"]],
    ["by script: its own", { scriptId: "scr_A" }, {}, ["d", "i", "w"]],
    ["by script: not another's", { scriptId: "scr_B" }, {}, null],
    ["by status: one of the list", { statuses: ["failed", "completed"] }, {}, ["d", "i", "w"]],
    ["by status: not in the list", { statuses: ["failed", "timeout"] }, {}, null],
    ["by level: lines at or above it", { level: "info" }, {}, ["i", "w"]],
    ["by level: an execution without such lines is left out", { level: "error" }, {}, null],
    ["by level: error lines of a failure", { level: "error", statuses: ["failed"] }, { status: "failed", logs: [{ level: "error", message: "e", at: "t" }] }, ["e"]],
  ];
  for (const [name, filter, over, lines] of table) {
    it(name, () => {
      const shown = applyFilter(summary(over), filter);
      expect(shown === null ? null : shown.logs.map((l) => l.message)).toEqual(lines);
    });
  }

  it("levels order debug < info < warn < error", () => {
    const logs = summary().logs;
    expect(logsAtLeast(logs, "debug")).toHaveLength(3);
    expect(logsAtLeast(logs, "warn").map((l) => l.level)).toEqual(["warn"]);
  });

  it("a tail's budget passes a second's worth at once, then refills with time", () => {
    let now = 1_000_000;
    const budget = new TailBudget(() => now);
    let passed = 0;
    for (let i = 0; i < TAIL_EVENTS_PER_SECOND + 50; i++) if (budget.take(100)) passed++;
    expect(passed).toBe(TAIL_EVENTS_PER_SECOND);
    now += 100; // a tenth of a second: a tenth of the events again
    passed = 0;
    for (let i = 0; i < 100; i++) if (budget.take(100)) passed++;
    expect(passed).toBe(TAIL_EVENTS_PER_SECOND / 10);
  });

  it("and bounds bytes too: large summaries run out first", () => {
    let now = 0;
    const budget = new TailBudget(() => now);
    const size = 64 * 1024;
    let passed = 0;
    for (let i = 0; i < 100; i++) if (budget.take(size)) passed++;
    expect(passed).toBe(Math.floor(TAIL_BYTES_PER_SECOND / size));
    now += 1000;
    expect(budget.take(size)).toBe(true);
  });

  it("frames: SSE event lines, and WebSocket JSON", () => {
    expect(sseFrame({ event: "skipped", data: { count: 3 } })).toBe('event: skipped\ndata: {"count":3}\n\n');
    const frame = sseFrame({ event: "execution", data: summary({ logs: [{ level: "info", message: "two\nlines", at: "t" }] }) });
    expect(frame.split("\n")).toHaveLength(4); // event, data, and the blank line: JSON escapes newlines
    expect(JSON.parse(socketFrame({ event: "skipped", data: { count: 2 } }))).toEqual({ event: "skipped", data: { count: 2 } });
  });
});
