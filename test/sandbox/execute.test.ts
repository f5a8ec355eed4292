import { describe, expect, it } from "vitest";
import type { HostApi } from "../../src/sandbox/host";
import { LIMITS, newSandbox, run } from "./helpers";

describe("execute: inputs, results and the realm (API.md §7)", () => {
  const sandbox = newSandbox();

  it("passes the event and ctx (with the deadline) and returns the result as JSON", async () => {
    const before = Date.now();
    const result = await run(sandbox, "export default async (event, ctx) => ({ event, ctx });", { event: { a: [1, "two", null] } });
    expect(result.status).toBe("completed");
    const value = result.result as { event: unknown; ctx: { executionId: string; deadline: number } };
    expect(value.event).toEqual({ a: [1, "two", null] });
    expect(value.ctx.executionId).toMatch(/^exec-/);
    expect(value.ctx.deadline).toBeGreaterThanOrEqual(before + LIMITS.timeoutMs);
    expect(JSON.parse(result.resultJson!)).toEqual(result.result);
  });

  it("returns undefined, null and primitives as they are", async () => {
    expect((await run(sandbox, "export default () => {};")).result).toBeUndefined();
    expect((await run(sandbox, "export default () => null;")).result).toBeNull();
    expect((await run(sandbox, "export default () => 'text';")).result).toBe("text");
    expect((await run(sandbox, "export default () => new Date(0);")).result).toBe("1970-01-01T00:00:00.000Z");
  });

  it("fails with a TypeError when the default export is not a function", async () => {
    const result = await run(sandbox, "const handler = 5;\nexport default handler;");
    expect(result).toMatchObject({ status: "failed", error: { name: "TypeError", message: expect.stringContaining("must be a function") } });
  });

  it("re-runs module code on every execution: module state never carries over, even warm", async () => {
    const source = "let calls = 0;\nconst seen = [];\nexport default (event) => { calls++; seen.push(event.n); return { calls, seen }; };";
    const first = await run(sandbox, source, { key: "counter", event: { n: 1 } });
    const second = await run(sandbox, source, { key: "counter", event: { n: 2 } });
    expect(first.result).toEqual({ calls: 1, seen: [1] });
    expect(second).toMatchObject({ warm: true, result: { calls: 1, seen: [2] } });
  });

  it("leaves nothing of an attack for the next execution on the same warm realm", async () => {
    const source = `export default (event) => {
      if (event.attack) {
        const attempts = [
          () => { Object.prototype.polluted = 1; },
          () => { Array.prototype.map = () => "pwned"; },
          () => { globalThis.stash = "secret"; },
          () => { JSON.stringify = () => "pwned"; },
          () => { Object.defineProperty(Object.prototype, "x", { get() { return "pwned"; } }); },
          () => { iota.log.info = () => {}; },
          () => { Promise.prototype.then = () => {}; },
          // Built-ins behind the instance-override accessors (toString, push, then…) are frozen too.
          () => { ({}).toString.stash = "secret"; },
          () => { [].push.stash = "secret"; },
        ];
        return attempts.map((attempt) => { try { attempt(); return "changed"; } catch (e) { return e.name; } });
      }
      return { polluted: ({}).polluted, x: ({}).x, stash: globalThis.stash ?? ({}).toString.stash ?? [].push.stash, map: [1].map((v) => v + 1), json: JSON.stringify({ a: 1 }) };
    };`;
    const attack = await run(sandbox, source, { key: "attack", event: { attack: true } });
    expect(attack.result).toEqual(Array(9).fill("TypeError"));
    const after = await run(sandbox, source, { key: "attack", event: {} });
    expect(after).toMatchObject({ warm: true, result: { map: [2], json: '{"a":1}' } });
    expect(after.result).not.toHaveProperty("polluted");
    expect(after.result).not.toHaveProperty("x");
    expect(after.result).not.toHaveProperty("stash");
  });

  it("lets ordinary code assign over frozen built-ins on its own objects", async () => {
    const result = await run(
      sandbox,
      `class NotFound extends Error { constructor(m) { super(m); this.name = "NotFound"; } }
      export default () => {
        const o = {}; o.toString = () => "mine"; o.constructor = "c";
        function Legacy() {} Legacy.prototype = Object.create(Error.prototype); Legacy.prototype.constructor = Legacy;
        const e = new NotFound("gone");
        return { o: String(o), c: o.constructor, e: e.name + ": " + e.message, legacy: new Legacy().constructor === Legacy, frozen: Object.isFrozen(Object.freeze({})) };
      };`,
    );
    expect(result.result).toEqual({ o: "mine", c: "c", e: "NotFound: gone", legacy: true, frozen: true });
  });

  it("reports errors with their name, message and stack", async () => {
    const result = await run(sandbox, "export default () => { throw new RangeError('too far'); };");
    expect(result).toMatchObject({ status: "failed", error: { name: "RangeError", message: "too far", stack: expect.stringContaining("script.js:1:") } });
  });

  it("reports CPU time and heap size", async () => {
    const result = await run(sandbox, "export default () => { let s = 0; for (let i = 0; i < 2e5; i++) s += i; return s; };");
    expect(result.result).toBe(19999900000);
    expect(result.cpuMs).toBeGreaterThan(0);
    expect(result.memoryBytes).toBeGreaterThan(10_000);
  });

  it("reports the time a cold realm took to build as setupMs (the tenant's share of the thread counts it), and none warm", async () => {
    const source = "export default async () => crypto.randomUUID()";
    const cold = await run(sandbox, source, { key: "setup-time" });
    const warm = await run(sandbox, source, { key: "setup-time" });
    expect([cold.warm, warm.warm]).toEqual([false, true]);
    // Building a realm (hardening it, loading the crypto group) takes milliseconds; taking a warm one, next to nothing.
    expect(cold.setupMs).toBeGreaterThan(warm.setupMs);
    expect(cold.setupMs).toBeGreaterThan(0);
  });
});

describe("execute: console and iota.log", () => {
  const sandbox = newSandbox();

  it("captures every level with a timestamp, formatting values as JSON", async () => {
    const result = await run(
      sandbox,
      `export default () => {
        console.log("log", 1, true, null, undefined);
        console.info({ a: [1, 2] });
        console.debug("debug");
        console.warn("warn");
        console.error(new TypeError("bad"));
        iota.log.info("info", { b: 1 });
        const cyclic = {}; cyclic.self = cyclic;
        iota.log.warn(cyclic);
        iota.log.error(Symbol("s"), () => 1);
      };`,
    );
    expect(result.status).toBe("completed");
    expect(result.logs.map(({ level, message }) => [level, message])).toEqual([
      ["info", "log 1 true null undefined"],
      ["info", '{"a":[1,2]}'],
      ["debug", "debug"],
      ["warn", "warn"],
      ["error", expect.stringMatching(/^TypeError: bad\n/)],
      ["info", 'info {"b":1}'],
      ["warn", '{"self":"[Circular]"}'],
      ["error", "Symbol(s) [Function anonymous]"],
    ]);
    for (const entry of result.logs) expect(new Date(entry.at).toISOString()).toBe(entry.at);
  });

  it("cuts logs at logBytes with one final 'logs truncated' warning", async () => {
    const result = await run(sandbox, "export default () => { for (let i = 0; i < 1000; i++) console.log('x'.repeat(100)); };", {
      limits: { logBytes: 1024 },
    });
    expect(result.logs).toHaveLength(11);
    expect(result.logs.slice(0, 10).every((e) => e.message === "x".repeat(100))).toBe(true);
    expect(result.logs[10]).toMatchObject({ level: "warn", message: "logs truncated" });
  });
});

describe("execute: the SDK bridge", () => {
  const sandbox = newSandbox();
  const calls: Array<{ name: string; args: unknown[] }> = [];
  const record =
    (name: string, reply: (args: unknown[]) => unknown = () => null) =>
    async (args: unknown[]) => {
      calls.push({ name, args });
      return reply(args);
    };
  const host: HostApi = {
    functions: {
      "db.insert": record("db.insert", (args) => ({ ...(args[1] as object), id: "doc_1" })),
      "db.get": record("db.get", () => ({ when: new Date(0), fn: () => 1 })),
      "http.get": record("http.get", () => ({ status: 200, headers: {}, body: '{"ok":true}' })),
      "secrets.get": record("secrets.get", () => {
        throw Object.assign(new Error("slow down"), { name: "QuotaExceededError" });
      }),
      "events.publish": record("events.publish", () => {
        throw Object.assign(new Error("nope"), { name: "ValidationError" });
      }),
    },
  };

  it("a call the script did not await keeps the realm warm, and its late answer never reaches the next execution", async () => {
    const own = newSandbox();
    let answerFirst!: (value: unknown) => void;
    const first = new Promise((resolve) => (answerFirst = resolve));
    let calls = 0;
    const lateHost: HostApi = {
      functions: {
        "db.get": async () => {
          calls += 1;
          if (calls === 1) return first;
          // The first execution's call answers while the second execution runs.
          answerFirst("late");
          await new Promise((resolve) => setTimeout(resolve, 5));
          return "second";
        },
      },
    };
    const source = `export default async (event) => {
      if (event.leave) { iota.db.get("c", 1).then((v) => console.log("first call answered", v)); return "left"; }
      return await iota.db.get("c", 2);
    };`;
    const a = await run(own, source, { key: "late-answer", host: lateHost, event: { leave: true } });
    expect(a).toMatchObject({ status: "completed", result: "left" });
    const b = await run(own, source, { key: "late-answer", host: lateHost });
    expect(b).toMatchObject({ status: "completed", result: "second", warm: true });
    expect(b.logs).toEqual([]);
    own.dispose();
  });

  it("sends arguments and results as JSON only: no functions, no host objects", async () => {
    calls.length = 0;
    const result = await run(
      sandbox,
      `export default async () => {
        const inserted = await iota.db.insert("users", { name: "Ada", skip: () => 1, at: new Date(0) });
        const got = await iota.db.get("users", "doc_1");
        return { inserted, got, gotProto: Object.getPrototypeOf(got) === Object.prototype };
      };`,
      { host },
    );
    expect(calls).toEqual([
      { name: "db.insert", args: ["users", { name: "Ada", at: "1970-01-01T00:00:00.000Z" }] },
      { name: "db.get", args: ["users", "doc_1"] },
    ]);
    expect(result.result).toEqual({
      inserted: { name: "Ada", at: "1970-01-01T00:00:00.000Z", id: "doc_1" },
      got: { when: "1970-01-01T00:00:00.000Z" },
      gotProto: true,
    });
    expect(result.sdkCalls).toBe(2);
  });

  it("turns host errors into the named error classes inside the script", async () => {
    const result = await run(
      sandbox,
      `export default async () => {
        const seen = [];
        for (const call of [() => iota.secrets.get("A"), () => iota.events.publish("a.b", {}), () => iota.db.count("c")]) {
          try { await call(); } catch (e) { seen.push([e.name, e.message, e instanceof Error]); }
        }
        try { await iota.secrets.get("A"); } catch (e) { seen.push(e instanceof iota.QuotaExceededError); }
        return seen;
      };`,
      { host },
    );
    expect(result.result).toEqual([
      ["QuotaExceededError", "slow down", true],
      ["ValidationError", "nope", true],
      ["NotImplementedError", "db.count is not available here", true],
      true,
    ]);
  });

  it("adds json() to http responses inside the script", async () => {
    const result = await run(sandbox, "export default async () => (await iota.http.get('https://example.com')).json();", { host });
    expect(result.result).toEqual({ ok: true });
  });

  it("runs SDK calls concurrently and lets the script await them together", async () => {
    let active = 0;
    let peak = 0;
    const slow: HostApi = {
      functions: {
        "db.get": async (args) => {
          active++;
          peak = Math.max(peak, active);
          await new Promise((r) => setTimeout(r, 20));
          active--;
          return args[1];
        },
      },
    };
    const result = await run(sandbox, "export default () => Promise.all([1, 2, 3].map((n) => iota.db.get('c', n)));", { host: slow });
    expect(result.result).toEqual([1, 2, 3]);
    expect(peak).toBe(3);
  });

  it("throws QuotaExceededError inside the script past sdkCallsPerExecution", async () => {
    const result = await run(
      sandbox,
      `export default async () => {
        let done = 0;
        try { for (;;) { await iota.db.get("c", 1); done++; } } catch (e) { return [done, e.name]; }
      };`,
      { host, limits: { sdkCallsPerExecution: 3 } },
    );
    expect(result.result).toEqual([3, "QuotaExceededError"]);
    expect(result.sdkCalls).toBe(4);
  });

  it("fails the execution with NonRetriableError when the script throws it", async () => {
    const result = await run(sandbox, "export default () => { throw new iota.NonRetriableError('bad input'); };");
    expect(result).toMatchObject({ status: "failed", error: { name: "NonRetriableError", message: "bad input" } });
  });
});
