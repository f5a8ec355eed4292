import { describe, expect, it } from "vitest";
import { call, tenantWithKey } from "../helpers/api";
import { resultOf, runScript } from "../helpers/scripts";

const SEED = `
  for (const [i, name] of ["Ada", "bob", "Cy", "dee", "Eve"].entries()) {
    await iota.db.insert("users", { id: "u" + i, name, age: 20 + i * 5, active: i % 2 === 0, team: { name: i < 2 ? "red" : "blue" } });
  }
`;

describe("iota.db: documents (API.md §9)", () => {
  it("inserts (keeping a given id or making one), gets, updates by merge patch, deletes, counts", async () => {
    const { key } = await tenantWithKey();
    const result = await resultOf(
      key,
      `
      const given = await iota.db.insert("notes", { id: "n1", text: "hi", tags: ["a"], meta: { x: 1, y: 2 } });
      const made = await iota.db.insert("notes", { text: "auto" });
      const got = await iota.db.get("notes", "n1");
      const missing = await iota.db.get("notes", "nope");
      const updated = await iota.db.update("notes", "n1", { text: "hello", meta: { x: null, z: 3 }, id: "ignored" });
      const updatedMissing = await iota.db.update("notes", "nope", { a: 1 });
      const countBefore = await iota.db.count("notes");
      const deleted = await iota.db.delete("notes", made.id);
      const deletedAgain = await iota.db.delete("notes", made.id);
      return { given, madeId: made.id, got, missing, updated, updatedMissing, countBefore, deleted, deletedAgain, countAfter: await iota.db.count("notes") };
    `,
    );
    expect(result).toEqual({
      given: { id: "n1", text: "hi", tags: ["a"], meta: { x: 1, y: 2 } },
      madeId: expect.stringMatching(/^doc_/),
      got: { id: "n1", text: "hi", tags: ["a"], meta: { x: 1, y: 2 } },
      missing: null,
      updated: { id: "n1", text: "hello", tags: ["a"], meta: { y: 2, z: 3 } },
      updatedMissing: null,
      countBefore: 2,
      deleted: true,
      deletedAgain: false,
      countAfter: 1,
    });
  });

  it("keeps an integer id as given, and finds the document by it", async () => {
    const { key } = await tenantWithKey();
    const result = await resultOf(key, `await iota.db.insert("orders", { id: 1, total: 5 }); return [await iota.db.get("orders", 1), await iota.db.update("orders", 1, { total: 6 }), await iota.db.delete("orders", 1)];`);
    expect(result).toEqual([{ id: 1, total: 5 }, { id: 1, total: 6 }, true]);
  });

  it("refuses a duplicate id with ConflictError", async () => {
    const { key } = await tenantWithKey();
    const result = await resultOf(key, `await iota.db.insert("c", { id: "x" }); try { await iota.db.insert("c", { id: "x" }); } catch (e) { return e.name; }`);
    expect(result).toBe("ConflictError");
  });

  const queries: Array<[string, string, string[]]> = [
    ["no options: insertion order", "{}", ["Ada", "bob", "Cy", "dee", "Eve"]],
    ["equality", "{ where: { active: true } }", ["Ada", "Cy", "Eve"]],
    ["equality on a nested field", "{ where: { 'team.name': 'red' } }", ["Ada", "bob"]],
    ["$gt", "{ where: { age: { $gt: 30 } } }", ["dee", "Eve"]],
    ["$gte and $lt together", "{ where: { age: { $gte: 25, $lt: 35 } } }", ["bob", "Cy"]],
    ["$lte", "{ where: { age: { $lte: 25 } } }", ["Ada", "bob"]],
    ["$ne", "{ where: { name: { $ne: 'Cy' } } }", ["Ada", "bob", "dee", "Eve"]],
    ["$in", "{ where: { name: { $in: ['Ada', 'Eve', 'zed'] } } }", ["Ada", "Eve"]],
    ["$like, case-insensitive", "{ where: { name: { $like: '%E%' } } }", ["dee", "Eve"]],
    ["a string never equals a number", "{ where: { age: '20' } }", []],
    ["orderBy a field", "{ orderBy: 'name' }", ["Ada", "Cy", "Eve", "bob", "dee"]],
    ["orderBy descending", "{ orderBy: '-age' }", ["Eve", "dee", "Cy", "bob", "Ada"]],
    ["orderBy several", "{ orderBy: ['-active', 'age'] }", ["Ada", "Cy", "Eve", "bob", "dee"]],
    ["limit and offset", "{ limit: 2, offset: 1 }", ["bob", "Cy"]],
    ["a field nobody has", "{ where: { missing: 1 } }", []],
    ["null matches a missing field", "{ where: { missing: null } }", ["Ada", "bob", "Cy", "dee", "Eve"]],
  ];
  for (const [what, options, names] of queries) {
    it(`query: ${what}`, async () => {
      const { key } = await tenantWithKey();
      const result = await resultOf(key, `${SEED} return (await iota.db.query("users", ${options})).map((u) => u.name);`);
      expect(result).toEqual(names);
    });
  }

  it("defaults to 100 results and refuses more than 1000", async () => {
    const { key } = await tenantWithKey({ sdkCallsPerExecution: 200 });
    const result = await resultOf(
      key,
      `for (let i = 0; i < 120; i++) await iota.db.insert("many", { i });
       const page = await iota.db.query("many");
       let refused; try { await iota.db.query("many", { limit: 1001 }); } catch (e) { refused = e.name; }
       return [page.length, (await iota.db.query("many", { limit: 1000 })).length, refused];`,
    );
    expect(result).toEqual([100, 120, "ValidationError"]);
  });

  const hostile: Array<[string, string]> = [
    ["an unknown operator", `iota.db.query("c", { where: { a: { $where: "1" } } })`],
    ["an injection in a field name", `iota.db.query("c", { where: { "a') OR 1=1 --": 1 } })`],
    ["an injection in orderBy", `iota.db.query("c", { orderBy: "a; DROP TABLE documents" })`],
    ["a quote in a nested field", `iota.db.query("c", { where: { 'a."b': 1 } })`],
    ["an injection in a collection name", `iota.db.insert("c; DROP TABLE documents", {})`],
    ["an empty collection name", `iota.db.get("", "x")`],
    ["a collection that is not a string", `iota.db.get(42, "x")`],
    ["a document that is an array", `iota.db.insert("c", [1, 2])`],
    ["a document id that is a fraction", `iota.db.insert("c", { id: 7.5 })`],
    ["a document id that is an object", `iota.db.get("c", { id: 1 })`],
    ["an object compared for equality", `iota.db.query("c", { where: { a: { b: 1 } } })`],
    ["$in with a non-array", `iota.db.query("c", { where: { a: { $in: "x" } } })`],
    ["$in with 101 values", `iota.db.query("c", { where: { a: { $in: Array.from({ length: 101 }, (_, i) => i) } } })`],
    ["$like with a number", `iota.db.query("c", { where: { a: { $like: 5 } } })`],
    ["a negative limit", `iota.db.query("c", { limit: -1 })`],
    ["an unknown option", `iota.db.query("c", { filter: {} })`],
    ["a patch that is not an object", `iota.db.update("c", "x", "boom")`],
  ];
  for (const [what, callSource] of hostile) {
    it(`refuses ${what} inside the script, never as SQL`, async () => {
      const { key } = await tenantWithKey();
      const result = await resultOf(key, `await iota.db.insert("c", { id: "keep", a: 1 }); try { await ${callSource}; return "accepted"; } catch (e) { return [e.name, await iota.db.count("c")]; }`);
      expect(result).toEqual(["ValidationError", 1]);
    });
  }

  it("stores injection strings as plain values", async () => {
    const { key } = await tenantWithKey();
    const evil = "x'); DROP TABLE documents; --";
    const result = await resultOf(key, `await iota.db.insert("c", { id: ${JSON.stringify(evil)}, v: ${JSON.stringify(evil)} }); return [await iota.db.get("c", ${JSON.stringify(evil)}), (await iota.db.query("c", { where: { v: ${JSON.stringify(evil)} } })).length];`);
    expect(result).toEqual([{ id: evil, v: evil }, 1]);
  });

  it("treats any valid name, constructor and sqlite_master included, as an ordinary collection", async () => {
    const { key } = await tenantWithKey();
    const result = await resultOf(
      key,
      `await iota.db.insert("constructor", { a: 1 }); await iota.db.insert("sqlite_master", { b: 2 }); await iota.db.insert("__proto__x", { c: 3 }).catch(() => null);
       return [await iota.db.count("constructor"), await iota.db.count("sqlite_master"), (await iota.db.query("sqlite_master"))[0].b];`,
    );
    expect(result).toEqual([1, 1, 2]);
  });

  it("keeps a key named __proto__ as an ordinary field through a merge patch", async () => {
    const { key } = await tenantWithKey();
    const result = await resultOf(key, `await iota.db.insert("c", { id: "p" }); const patch = JSON.parse('{"__proto__": {"polluted": 1}}'); const doc = await iota.db.update("c", "p", patch); return [doc.polluted === undefined, Object.keys(doc)];`);
    expect(result).toEqual([true, ["id", "__proto__"]]);
  });

  it("keeps tenants' collections apart", async () => {
    const a = await tenantWithKey();
    const b = await tenantWithKey();
    await resultOf(a.key, `await iota.db.insert("shared", { id: "1", owner: "a" });`);
    expect(await resultOf(b.key, `return [await iota.db.get("shared", "1"), await iota.db.count("shared")];`)).toEqual([null, 0]);
    expect(await resultOf(a.key, `return (await iota.db.get("shared", "1")).owner;`)).toBe("a");
  });

  it("refuses writes past the tenant's dbBytes quota with QuotaExceededError, and reports usage", async () => {
    const { key } = await tenantWithKey({ dbBytes: 1024 * 1024 });
    const result = await resultOf(
      key,
      `let stored = 0;
       try { for (;;) { await iota.db.insert("big", { blob: "x".repeat(100 * 1024) }); stored++; } } catch (e) { return [e.name, stored]; }`,
    );
    expect(result).toEqual(["QuotaExceededError", 10]);
    const usage = await call("/api/usage", { token: key });
    expect(usage.json.current.dbBytes).toBeGreaterThan(1000 * 1024);
    expect(usage.json.current.dbBytes).toBeLessThanOrEqual(1024 * 1024);
    // Deleting frees room again.
    expect(await resultOf(key, `const [first] = await iota.db.query("big", { limit: 1 }); await iota.db.delete("big", first.id); await iota.db.insert("big", { blob: "y" }); return "ok";`)).toBe("ok");
  });

  it("counts every call toward sdkCallsPerExecution", async () => {
    const { key } = await tenantWithKey();
    const execution = await runScript(key, `await iota.db.count("a"); await iota.db.get("a", "x"); await iota.db.query("a");`);
    expect(execution.sdkCalls).toBe(3);
  });
});
