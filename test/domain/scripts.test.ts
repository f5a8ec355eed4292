import { describe, expect, it } from "vitest";
import { SCRIPT_STATUSES, type ScriptStatus } from "../../src/domain/scripts";
import { jsonDepth } from "../../src/http/body";
import { decodeCursor, encodeCursor } from "../../src/services/pagination";
import { parseIfMatch, statusChangeRefusal } from "../../src/services/scripts";

describe("status changes (API.md §6)", () => {
  const expected = (from: ScriptStatus, to: ScriptStatus, admin: boolean): number | null => {
    if (from === to) return null;
    if (!admin && (from === "disabled" || to === "disabled")) return 403;
    if (from === "archived" && to !== "draft") return 409;
    return null;
  };
  for (const admin of [false, true]) {
    for (const from of SCRIPT_STATUSES) {
      for (const to of SCRIPT_STATUSES) {
        const want = expected(from, to, admin);
        it(`${admin ? "admin" : "key"}: ${from} → ${to} is ${want ?? "allowed"}`, () => {
          expect(statusChangeRefusal(from, to, admin)?.status ?? null).toBe(want);
        });
      }
    }
  }
});

describe("If-Match", () => {
  const table: Array<[string | undefined, number | "*" | undefined | "error"]> = [
    [undefined, undefined],
    ['"3"', 3],
    ['W/"3"', 3],
    ["3", 3],
    [" 12 ", 12],
    ["*", "*"],
    ["W/3", "error"],
    ['"3', "error"],
    ['"a"', "error"],
    ["0", "error"],
    ["3, 4", "error"],
    ["", "error"],
  ];
  for (const [header, want] of table) {
    it(`${JSON.stringify(header)} → ${want}`, () => {
      if (want === "error") expect(() => parseIfMatch(header)).toThrow(/If-Match/);
      else expect(parseIfMatch(header)).toBe(want);
    });
  }
});

describe("cursors and JSON depth", () => {
  it("round-trips a cursor and refuses a forged one", () => {
    const isKey = (k: string) => /^scr_[0-9A-Z]{26}$/.test(k);
    const key = "scr_01ARZ3NDEKTSV4RRFFQ69G5FAV";
    expect(decodeCursor(encodeCursor(key), isKey)).toBe(key);
    expect(() => decodeCursor(encodeCursor("scr_' OR 1=1"), isKey)).toThrow(/cursor/);
    expect(() => decodeCursor("%%%", isKey)).toThrow(/cursor/);
  });

  it("measures depth without recursion and stops early", () => {
    expect(jsonDepth(1, 10)).toBe(0);
    expect(jsonDepth({ a: [1, { b: 2 }] }, 10)).toBe(3);
    let deep: unknown = 0;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(jsonDepth(deep, 64)).toBe(65);
  });
});
