import { describe, expect, it } from "vitest";
import { afterFailure, MAX_RETRIES, retryBase } from "../../src/events/retry-policy";
import { subscribes } from "../../src/events/subscriptions";
import { dueAt, dueToStart, nextDueMinute } from "../../src/tenant/schedules";

describe("retry policy (API.md §10)", () => {
  it("waits 2, 4, 8, 16, 32 s, then dead-letters after the 6th attempt", () => {
    const delays = [1, 2, 3, 4, 5].map((attempt) => afterFailure(attempt, 2, 0.5));
    expect(delays).toEqual([2, 4, 8, 16, 32].map((delaySeconds) => ({ action: "retry", delaySeconds })));
    expect(afterFailure(6, 2, 0.5)).toEqual({ action: "dead-letter" });
    expect(MAX_RETRIES).toBe(5);
  });

  it("adds at most 10% jitter either way", () => {
    for (const random of [0, 0.25, 0.75, 0.999]) {
      const { delaySeconds } = afterFailure(5, 2, random) as { delaySeconds: number };
      expect(delaySeconds).toBeGreaterThanOrEqual(29);
      expect(delaySeconds).toBeLessThanOrEqual(35);
    }
  });

  it("scales with RETRY_BASE_SECONDS, 0 retrying at once", () => {
    expect(afterFailure(3, 10, 0.5)).toEqual({ action: "retry", delaySeconds: 40 });
    expect(afterFailure(3, 0, 0.9)).toEqual({ action: "retry", delaySeconds: 0 });
    expect(retryBase({ RETRY_BASE_SECONDS: "5" })).toBe(5);
    expect(retryBase({ RETRY_BASE_SECONDS: "nonsense" })).toBe(2);
    expect(retryBase({})).toBe(2);
  });
});

describe("subscriptions", () => {
  const table: Array<[string, string, boolean]> = [
    ["order.created", "order.created", true],
    ["order.created", "order.updated", false],
    ["order.*", "order.created", true],
    ["order.*", "order.a.b", true],
    ["order.*", "order", false],
    ["order.*", "orders.created", false],
    ["*", "anything.at.all", true],
    ["a.b.*", "a.b.c", true],
    ["a.b.*", "a.bc", false],
  ];
  for (const [pattern, type, expected] of table) {
    it(`${pattern} ${expected ? "matches" : "does not match"} ${type}`, () => expect(subscribes(pattern, type)).toBe(expected));
  }
});

describe("cron matching", () => {
  const at = (iso: string) => Date.parse(iso);
  const s = (cron: string, timezone = "UTC") => ({ scriptId: cron, cron, timezone, allowOverlap: false });
  const table: Array<[string, string, string, boolean]> = [
    ["* * * * *", "UTC", "2026-11-25T10:07:00Z", true],
    ["*/5 * * * *", "UTC", "2026-11-25T10:05:00Z", true],
    ["*/5 * * * *", "UTC", "2026-11-25T10:06:00Z", false],
    ["0 9 * * 1-5", "UTC", "2026-11-25T09:00:00Z", true],
    ["0 9 * * 1-5", "UTC", "2026-11-29T09:00:00Z", false],
    ["0 9 * * *", "Europe/Paris", "2026-11-25T08:00:00Z", true],
    ["0 9 * * *", "Europe/Paris", "2026-11-25T09:00:00Z", false],
    ["30 2 1 * *", "UTC", "2026-12-01T02:30:00Z", true],
  ];
  for (const [cron, zone, time, due] of table) {
    it(`${cron} (${zone}) is ${due ? "" : "not "}due at ${time}`, () => expect(dueAt([s(cron, zone)], at(time)).length).toBe(due ? 1 : 0));
  }

  // What a late alarm at 10:10 starts for each minute it catches up on: a schedule saved at 10:07:30 has no 10:07.
  const saved = { ...s("* * * * *"), since: at("2026-11-25T10:07:30Z") };
  const catchUp: Array<[string, string, boolean]> = [
    ["a past minute before the save", "2026-11-25T10:07:00Z", false],
    ["a past minute after the save", "2026-11-25T10:08:00Z", true],
    ["the current minute", "2026-11-25T10:10:00Z", true],
  ];
  for (const [name, minute, started] of catchUp) {
    it(`a schedule saved at 10:07:30, an alarm at 10:10: ${name} is ${started ? "" : "not "}started`, () =>
      expect(dueToStart([saved], at(minute), at("2026-11-25T10:10:00Z")).length).toBe(started ? 1 : 0));
  }
  it("a schedule with no known save time catches up on every due minute", () => {
    expect(dueToStart([s("* * * * *")], at("2026-11-25T10:07:00Z"), at("2026-11-25T10:10:00Z"))).toHaveLength(1);
  });

  it("finds the next due minute across schedules", () => {
    expect(nextDueMinute([s("*/15 * * * *"), s("0 * * * *")], at("2026-11-25T10:07:30Z"))).toBe(at("2026-11-25T10:15:00Z"));
    expect(nextDueMinute([], at("2026-11-25T10:07:30Z"))).toBeNull();
  });
});
