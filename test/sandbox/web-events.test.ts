import { describe, expect, it } from "vitest";
import { evaluate, newSandbox, run, thrown } from "./helpers";

describe("Event, EventTarget and DOMException (realm-side)", () => {
  const sandbox = newSandbox();

  it("DOMException: name, message, legacy code, an Error", async () => {
    const result = await evaluate(
      sandbox,
      `const e = new DOMException("gone", "NotFoundError");
      const plain = new DOMException();
      return [e.name, e.message, e.code, e instanceof Error, e instanceof DOMException, String(e), plain.name, plain.message, plain.code,
        DOMException.ABORT_ERR, new DOMException("x", "AbortError").code, Object.prototype.toString.call(e), typeof e.stack];`,
    );
    expect(result).toEqual(["NotFoundError", "gone", 8, true, true, "NotFoundError: gone", "Error", "", 0, 20, 20, "[object DOMException]", "string"]);
  });

  it("dispatches to listeners in order: once, handleEvent objects, passive, stopImmediatePropagation, preventDefault", async () => {
    const result = await evaluate(
      sandbox,
      `const target = new EventTarget();
      const seen = [];
      const twice = () => seen.push("twice");
      target.addEventListener("ping", (e) => seen.push("a:" + e.type + ":" + (e.target === target) + ":" + e.eventPhase));
      target.addEventListener("ping", twice);
      target.addEventListener("ping", twice);
      target.addEventListener("ping", { handleEvent(e) { seen.push("object"); } });
      target.addEventListener("ping", () => seen.push("once"), { once: true });
      target.addEventListener("ping", (e) => { e.preventDefault(); seen.push("passive:" + e.defaultPrevented); }, { passive: true });
      target.addEventListener("ping", (e) => { e.preventDefault(); e.stopImmediatePropagation(); });
      target.addEventListener("ping", () => seen.push("never"));
      const first = target.dispatchEvent(new Event("ping", { cancelable: true }));
      target.removeEventListener("ping", twice);
      const second = target.dispatchEvent(new Event("ping"));
      const e = new Event("x", { bubbles: true });
      return { seen, first, second, props: [e.bubbles, e.cancelable, e.composed, e.isTrusted, e.eventPhase, e.target, typeof e.timeStamp, Event.AT_TARGET] };`,
    );
    expect(result).toEqual({
      seen: ["a:ping:true:2", "twice", "object", "once", "passive:false", "a:ping:true:2", "object", "passive:false"],
      first: false,
      second: true,
      props: [true, false, false, false, 0, null, "number", 2],
    });
  });

  it("CustomEvent carries its detail to listeners; self is the global object", async () => {
    const result = await evaluate(
      sandbox,
      `const target = new EventTarget();
      const got = [];
      target.addEventListener("order", (e) => got.push([e.type, e.detail, e instanceof Event, e.cancelable]));
      target.dispatchEvent(new CustomEvent("order", { detail: { id: 7 }, cancelable: true }));
      target.dispatchEvent(new CustomEvent("order"));
      return [got, Object.prototype.toString.call(new CustomEvent("x")), self === globalThis, typeof self.URL];`,
    );
    expect(result).toEqual([[["order", { id: 7 }, true, true], ["order", null, true, false]], "[object CustomEvent]", true, "function"]);
  });

  it("reports a listener's exception and runs the next listener", async () => {
    const result = await run(
      sandbox,
      `export default () => {
        const t = new EventTarget(), seen = [];
        t.addEventListener("x", () => { throw new Error("listener broke"); });
        t.addEventListener("x", () => seen.push("next"));
        t.dispatchEvent(new Event("x"));
        return seen;
      };`,
    );
    expect(result).toMatchObject({ status: "completed", result: ["next"] });
    expect(result.logs[0]).toMatchObject({ level: "error", message: expect.stringContaining("Uncaught error in an event listener: Error: listener broke") });
  });

  it("refuses a dispatch of an event being dispatched, and non-events", async () => {
    expect(await thrown(sandbox, `const t = new EventTarget(); const e = new Event("x"); t.addEventListener("x", () => t.dispatchEvent(e)); t.dispatchEvent(e);`)).toBe("no error");
    expect((await thrown(sandbox, `new EventTarget().dispatchEvent({ type: "x" });`))[0]).toBe("TypeError");
    expect((await thrown(sandbox, `new Event();`))[0]).toBe("TypeError");
  });
});

describe("AbortController and AbortSignal", () => {
  const sandbox = newSandbox();

  it("aborts once, with a default AbortError or the given reason, running listeners and onabort", async () => {
    const result = await evaluate(
      sandbox,
      `const c = new AbortController();
      const seen = [];
      c.signal.addEventListener("abort", (e) => seen.push("listener:" + e.type));
      c.signal.onabort = () => seen.push("onabort");
      c.abort();
      c.abort("again");
      let thrown;
      try { c.signal.throwIfAborted(); } catch (e) { thrown = e; }
      const withReason = new AbortController(); withReason.abort("why");
      const late = []; c.signal.addEventListener("abort", () => late.push("never"));
      return { seen, aborted: c.signal.aborted, reason: [c.signal.reason.name, c.signal.reason instanceof DOMException], same: thrown === c.signal.reason,
        given: withReason.signal.reason, late, tag: String(c.signal) };`,
    );
    expect(result).toEqual({ seen: ["listener:abort", "onabort"], aborted: true, reason: ["AbortError", true], same: true, given: "why", late: [], tag: "[object AbortSignal]" });
  });

  it("AbortSignal.abort, AbortSignal.any and the signal option of addEventListener", async () => {
    const result = await evaluate(
      sandbox,
      `const done = AbortSignal.abort("r");
      const a = new AbortController(), b = new AbortController();
      const any = AbortSignal.any([a.signal, b.signal]);
      const already = AbortSignal.any([new AbortController().signal, done]);
      const t = new EventTarget(), seen = [], stop = new AbortController();
      t.addEventListener("x", () => seen.push("x"), { signal: stop.signal });
      t.dispatchEvent(new Event("x"));
      stop.abort();
      t.dispatchEvent(new Event("x"));
      b.abort("from b");
      return [done.aborted, done.reason, any.aborted, any.reason, already.reason, seen];`,
    );
    expect(result).toEqual([true, "r", true, "from b", "r", ["x"]]);
    expect((await thrown(sandbox, `new AbortSignal();`))[0]).toBe("TypeError");
    expect((await thrown(sandbox, `AbortSignal.any([{}]);`))[0]).toBe("TypeError");
  });

  it("AbortSignal.timeout aborts inside the execution with a TimeoutError DOMException", async () => {
    const result = await evaluate(
      sandbox,
      `const signal = AbortSignal.timeout(20);
      const start = performance.now();
      const reason = await new Promise((resolve) => signal.addEventListener("abort", () => resolve(signal.reason)));
      return [reason.name, reason instanceof DOMException, performance.now() - start >= 19];`,
    );
    expect(result).toEqual(["TimeoutError", true, true]);
    expect((await thrown(sandbox, `AbortSignal.timeout(-1);`))[0]).toBe("TypeError");
  });
});
