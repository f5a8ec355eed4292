import { describe, expect, it } from "vitest";
import { RouteTable } from "../../src/tenant/routes";

const table = new RouteTable([
  { scriptId: "param", path: "/orders/:id", methods: ["GET", "PUT"] },
  { scriptId: "literal", path: "/orders/new", methods: ["GET"] },
  { scriptId: "items", path: "/orders/:id/items/:item", methods: ["GET"] },
  { scriptId: "files", path: "/files/*", methods: ["GET"] },
  { scriptId: "deep-files", path: "/files/public/*", methods: ["GET"] },
  { scriptId: "root", path: "/", methods: ["GET", "POST"] },
]);

describe("route matching", () => {
  const cases: Array<[string, string, string | null, Record<string, string>?]> = [
    ["GET", "/orders/42", "param", { id: "42" }],
    ["PUT", "/orders/42/", "param", { id: "42" }],
    ["GET", "/orders/new", "literal", {}],
    ["GET", "/orders/7/items/x", "items", { id: "7", item: "x" }],
    ["GET", "/orders/a%20b", "param", { id: "a b" }],
    ["GET", "/files/a/b/c.txt", "files", { "*": "a/b/c.txt" }],
    ["GET", "/files/public/x", "deep-files", { "*": "x" }],
    ["GET", "/files", "files", { "*": "" }],
    ["GET", "/", "root", {}],
    ["HEAD", "/orders/42", "param", { id: "42" }],
    ["GET", "/nothing", null],
  ];
  for (const [method, path, scriptId, params] of cases) {
    it(`${method} ${path} → ${scriptId ?? "no match"}`, () => {
      const found = table.match(method, path);
      if (scriptId === null) return expect(found).toBeNull();
      expect(found && "match" in found ? { id: found.match.route.scriptId, params: found.match.params } : found).toEqual({ id: scriptId, params });
    });
  }

  it("lets a catch-all take whatever nothing more specific takes", () => {
    const withCatchAll = new RouteTable([
      { scriptId: "catch-all", path: "/*", methods: ["POST"] },
      { scriptId: "hook", path: "/hooks/:name", methods: ["POST"] },
    ]);
    const found = withCatchAll.match("POST", "/anything/at/all");
    expect(found && "match" in found && found.match).toMatchObject({ route: { scriptId: "catch-all" }, params: { "*": "anything/at/all" } });
    const hook = withCatchAll.match("POST", "/hooks/github");
    expect(hook && "match" in hook && hook.match.route.scriptId).toBe("hook");
  });

  it("names the methods a path answers when the method does not match", () => {
    expect(table.match("DELETE", "/orders/42")).toEqual({ allowed: ["GET", "PUT"] });
  });
});
