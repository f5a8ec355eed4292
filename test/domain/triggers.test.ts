import { describe, expect, it } from "vitest";
import { cronProblem, pathPatternProblem, routeKey, TRIGGER_SCHEMAS } from "../../src/domain/triggers";

describe("http route patterns", () => {
  const table: Array<[string, boolean]> = [
    ["/", true],
    ["/orders", true],
    ["/orders/:id", true],
    ["/orders/:id/items/:itemId", true],
    ["/files/*", true],
    ["/v1.2/a-b_c~d", true],
    ["orders", false],
    ["/a/*/b", false],
    ["/a/:id/:id", false],
    ["/a/:1x", false],
    ["/a b", false],
    ["/a/%20", false],
    ["/a?x=1", false],
    ["/" + "a".repeat(300), false],
  ];
  for (const [path, valid] of table) {
    it(`${JSON.stringify(path).slice(0, 40)} is ${valid ? "valid" : "refused"}`, () => {
      expect(pathPatternProblem(path) === null).toBe(valid);
    });
  }

  it("gives patterns that match the same requests the same route key", () => {
    expect(routeKey("/orders/:id")).toBe(routeKey("/orders/:orderId/"));
    expect(routeKey("/orders/:id")).not.toBe(routeKey("/orders/id"));
  });

  it("normalizes the path and fills every method by default", () => {
    expect(TRIGGER_SCHEMAS.http.parse({ path: "//a//b/" })).toEqual({
      path: "/a/b",
      methods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    });
    expect(TRIGGER_SCHEMAS.http.parse({ path: "/a", methods: ["POST", "GET", "GET"] }).methods).toEqual(["GET", "POST"]);
  });
});

describe("cron expressions", () => {
  const table: Array<[string, boolean]> = [
    ["* * * * *", true],
    ["*/5 * * * *", true],
    ["0 9 * * 1-5", true],
    ["0 0 1 1 *", true],
    ["* * * *", false],
    ["* * * * * *", false],
    ["61 * * * *", false],
    ["* 25 * * *", false],
    ["hello", false],
  ];
  for (const [cron, valid] of table) {
    it(`"${cron}" is ${valid ? "valid" : "refused"}`, () => expect(cronProblem(cron) === null).toBe(valid));
  }
});

describe("event subscriptions", () => {
  const schema = TRIGGER_SCHEMAS.event;
  for (const pattern of ["order.created", "order.*", "*", "a-b_c.d"]) {
    it(`accepts ${pattern}`, () => expect(schema.safeParse({ eventTypes: [pattern] }).success).toBe(true));
  }
  for (const pattern of ["Order.created", "order.", ".order", "order.*.x", "order*", "", "a b"]) {
    it(`refuses ${JSON.stringify(pattern)}`, () => expect(schema.safeParse({ eventTypes: [pattern] }).success).toBe(false));
  }
});
