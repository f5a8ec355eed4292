import { afterAll, describe, expect, it } from "vitest";
import { newSandbox, run } from "./helpers";

// The console of Workers and Deno (API.md §13: code written for them runs unchanged): every
// method exists, output goes to the execution's logs, and nothing carries over between runs.
const sandbox = newSandbox();
afterAll(() => sandbox.dispose());

const messages = (result: { logs: Array<{ level: string; message: string }> }) => result.logs.map((l) => `${l.level} ${l.message}`);

describe("console", () => {
  it("has the methods Workers and Deno code calls, each writing to the logs", async () => {
    const result = await run(
      sandbox,
      `export default async () => {
        console.time("t"); console.timeLog("t", "mid"); console.timeEnd("t"); console.timeEnd("t");
        console.count(); console.count(); console.count("x"); console.countReset(); console.count();
        console.assert(1 === 1, "never"); console.assert(false, "bad %s", "thing"); console.assert(false);
        console.group("outer"); console.log("inside"); console.groupCollapsed(); console.warn("deeper"); console.groupEnd(); console.groupEnd(); console.log("outside");
        console.table([{ a: 1 }]); console.dir({ b: 2 }); console.dirxml("x");
      };`,
    );
    expect(result.status, JSON.stringify(result.error)).toBe("completed");
    const lines = messages(result).map((line) => line.replace(/\d+(\.\d+)?ms/, "Nms"));
    expect(lines).toEqual([
      "info t: Nms mid",
      "info t: Nms",
      "warn Timer 't' does not exist",
      "info default: 1",
      "info default: 2",
      "info x: 1",
      "info default: 1",
      "error Assertion failed: bad thing",
      "error Assertion failed",
      "info outer",
      "info   inside",
      "warn     deeper",
      "info outside",
      'info [{"a":1}]',
      'info {"b":2}',
      "info x",
    ]);
  });

  it("substitutes %s %d %i %f %o %O %j and drops %c, and shows Maps, Sets, typed arrays and regexes", async () => {
    const result = await run(
      sandbox,
      `export default async () => {
        console.info("%s is %d years, %i%%, %f, %o %c!", "Bob", 42, 7.9, 1.5, { a: 1 }, "color: red", "extra");
        console.log("%s and %s", "only one");
        console.log(new Map([[1, "a"]]), new Set([1, 2]), new Uint8Array([1, 2]), /x+/gi, { m: new Map([["k", new Set([3])]]) });
      };`,
    );
    expect(messages(result)).toEqual([
      'info Bob is 42 years, 7%, 1.5, {"a":1} ! extra',
      "info only one and %s",
      'info Map(1) [[1,"a"]] Set(2) [1,2] [1,2] /x+/gi {"m":[["k",[3]]]}',
    ]);
  });

  it("starts timers, counters and groups afresh in every execution", async () => {
    const source = `export default async (event) => {
      if (event.first) { console.time("left"); console.count("c"); console.group("g"); return; }
      console.count("c"); console.log("not indented"); console.timeEnd("left");
    };`;
    await run(sandbox, source, { key: "console-fresh", event: { first: true } });
    const second = await run(sandbox, source, { key: "console-fresh" });
    expect(second.warm).toBe(true);
    expect(messages(second)).toEqual(["info c: 1", "info not indented", "warn Timer 'left' does not exist"]);
  });
});
