import { describe, expect, it } from "vitest";
import { evaluate, newSandbox } from "./helpers";

describe("structuredClone (realm-side)", () => {
  const sandbox = newSandbox();

  it("clones Map, Set, Date, RegExp, typed arrays, DataView, wrappers and errors", async () => {
    const result = await evaluate(
      sandbox,
      `const buffer = new ArrayBuffer(8);
      const source = {
        map: new Map([["k", { v: 1 }], [2, [3]]]), set: new Set([1, "two"]), date: new Date(86400000), re: /a+b/gi,
        u8: new Uint8Array([1, 2, 3]), f64: new Float64Array([0.5]), view: new DataView(buffer, 2, 4), ab: new Uint8Array([9]).buffer,
        wrapped: [Object(true), Object(3), Object("s")], error: new RangeError("far"), nested: { deep: [1, { x: null }] },
        undef: undefined, nan: NaN, neg: -0, sparse: [1, , 3],
      };
      const c = structuredClone(source);
      return {
        map: [c.map instanceof Map, c.map.get("k"), c.map.get(2), c.map.get("k") !== source.map.get("k")],
        set: [...c.set], date: [c.date instanceof Date, c.date.getTime()], re: [c.re instanceof RegExp, c.re.source, c.re.flags, c.re !== source.re],
        u8: [c.u8 instanceof Uint8Array, [...c.u8], c.u8.buffer !== source.u8.buffer], f64: c.f64[0],
        view: [c.view instanceof DataView, c.view.byteOffset, c.view.byteLength, c.view.buffer.byteLength], ab: new Uint8Array(c.ab)[0],
        wrapped: c.wrapped.map((w) => [typeof w, w.valueOf()]), error: [c.error instanceof RangeError, c.error.message, typeof c.error.stack],
        nested: c.nested, undef: "undef" in c && c.undef === undefined, nan: Number.isNaN(c.nan), neg: Object.is(c.neg, -0), sparse: [c.sparse.length, 1 in c.sparse],
      };`,
    );
    expect(result).toEqual({
      map: [true, { v: 1 }, [3], true],
      set: [1, "two"],
      date: [true, 86400000],
      re: [true, "a+b", "gi", true],
      u8: [true, [1, 2, 3], true],
      f64: 0.5,
      view: [true, 2, 4, 8],
      ab: 9,
      wrapped: [["object", true], ["object", 3], ["object", "s"]],
      error: [true, "far", "string"],
      nested: { deep: [1, { x: null }] },
      undef: true,
      nan: true,
      neg: true,
      sparse: [3, false],
    });
  });

  it("keeps cycles and shared references, reads getters once, drops prototypes", async () => {
    const result = await evaluate(
      sandbox,
      `const shared = { s: 1 };
      const a = { shared, again: shared, list: [shared] };
      a.self = a;
      let reads = 0;
      class Point { constructor() { this.x = 1; } get y() { return 2; } }
      const withGetter = { get g() { reads++; return "got"; } };
      const c = structuredClone(a), g = structuredClone(withGetter), p = structuredClone(new Point());
      return [c.self === c, c.shared === c.again, c.list[0] === c.shared, c.shared !== shared, g.g, reads, Object.getPrototypeOf(p) === Object.prototype, p, "__proto__" in structuredClone(JSON.parse('{"__proto__": 1}'))];`,
    );
    expect(result).toEqual([true, true, true, true, "got", 1, true, { x: 1 }, true]);
  });

  it("throws a DataCloneError DOMException for functions, symbols, WeakMaps and platform objects", async () => {
    const result = await evaluate(
      sandbox,
      `const attempt = (value) => { try { structuredClone(value); return "cloned"; } catch (e) { return e.name + (e instanceof DOMException ? "" : " (not a DOMException)"); } };
      return [attempt(() => 1), attempt({ f() {} }), attempt(Symbol("s")), attempt(new WeakMap()), attempt(Promise.resolve()), attempt(new Headers()), attempt(new URL("http://a/"))];`,
    );
    expect(result).toEqual(Array(7).fill("DataCloneError"));
  });

  it("transfers ArrayBuffers (the original is detached), and clones Blobs and DOMExceptions", async () => {
    const result = await evaluate(
      sandbox,
      `const buffer = new Uint8Array([1, 2, 3]).buffer;
      const moved = structuredClone({ buffer }, { transfer: [buffer] });
      const blob = structuredClone(new Blob(["hi"], { type: "text/plain" }));
      const e = structuredClone(new DOMException("m", "AbortError"));
      let twice;
      try { structuredClone(1, { transfer: [buffer, buffer] }); } catch (x) { twice = x.name; }
      return [buffer.byteLength, [...new Uint8Array(moved.buffer)], await blob.text(), blob.type, e.name, e.message, e instanceof DOMException, twice];`,
    );
    expect(result).toEqual([0, [1, 2, 3], "hi", "text/plain", "AbortError", "m", true, "DataCloneError"]);
  });

  it("clones deep values without running out of stack", async () => {
    expect(await evaluate(sandbox, `let v = null; for (let i = 0; i < 20000; i++) v = { v }; let c = structuredClone(v), n = 0; while (c) { c = c.v; n++; } return n;`)).toBe(20000);
  });
});
