import { tokenizer } from "acorn";
import { describe, expect, it } from "vitest";
import { BOOTSTRAP_SOURCE } from "../../src/sandbox/bootstrap";
import { compactSource } from "../../src/sandbox/source";
import { ExecutionChannel, MAX_HELD_BYTES } from "../../src/sandbox/web/channel";
import { WEB_GLOBALS, WEB_RAW_SOURCES } from "../../src/sandbox/web/index";
import { evaluate, newSandbox, run } from "./helpers";

const GLOBALS = Object.keys(WEB_GLOBALS);

describe("the web platform's globals are hardened like the rest of the realm", () => {
  const sandbox = newSandbox();

  it("defines every global of API.md §13 as a frozen, non-configurable accessor", async () => {
    expect(GLOBALS.sort()).toEqual(
      [
        "AbortController", "AbortSignal", "Blob", "CryptoKey", "CustomEvent", "DOMException", "Event", "EventTarget", "File", "FormData", "Headers", "Request", "Response",
        "TextDecoder", "TextEncoder", "URL", "URLSearchParams", "atob", "btoa", "clearInterval", "clearTimeout", "crypto", "fetch", "performance",
        "queueMicrotask", "setInterval", "setTimeout", "structuredClone",
      ].sort(),
    );
    const result = await evaluate(
      sandbox,
      `return ${JSON.stringify(GLOBALS)}.map((name) => {
        const d = Object.getOwnPropertyDescriptor(globalThis, name);
        return [name, typeof d.get, d.set, d.configurable, d.enumerable, Object.isFrozen(d.get)];
      });`,
    );
    for (const [name, get, set, configurable, enumerable, frozen] of result) expect([name, get, set, configurable, enumerable, frozen]).toEqual([name, "function", null, false, false, true]);
  });

  it("leaves nothing reachable from a web global unfrozen once loaded", async () => {
    const unfrozen = await evaluate(
      sandbox,
      `const roots = ${JSON.stringify(GLOBALS)}.map((name) => globalThis[name]);
      // Objects reached through a getter of a global object (crypto.subtle) count too.
      for (const root of [...roots]) {
        if (typeof root !== "object") continue;
        for (let proto = root; proto !== null; proto = Object.getPrototypeOf(proto)) {
          for (const key of Reflect.ownKeys(proto)) {
            const d = Object.getOwnPropertyDescriptor(proto, key);
            if (d.get) try { roots.push(Reflect.apply(d.get, root, [])); } catch (e) {}
          }
        }
      }
      const seen = new Set(), queue = [...roots], found = [];
      while (queue.length > 0) {
        const value = queue.pop();
        if (value === null || (typeof value !== "object" && typeof value !== "function") || seen.has(value)) continue;
        seen.add(value);
        if (!Object.isFrozen(value)) found.push(String(value.name ?? value.constructor?.name ?? Object.prototype.toString.call(value)));
        queue.push(Object.getPrototypeOf(value));
        for (const key of Reflect.ownKeys(value)) {
          const d = Object.getOwnPropertyDescriptor(value, key);
          if ("value" in d) queue.push(d.value); else queue.push(d.get, d.set);
        }
      }
      return { found, seen: seen.size };`,
    );
    expect(unfrozen.found).toEqual([]);
    expect(unfrozen.seen).toBeGreaterThan(300);
  });

  it("refuses writes to the globals, their prototypes and their objects", async () => {
    const result = await evaluate(
      sandbox,
      `const attempts = [
        () => { URL = 1; }, () => { globalThis.fetch = () => {}; }, () => { delete globalThis.Response; },
        () => { URL.prototype.leak = 1; }, () => { Response.prototype.text = () => "pwned"; }, () => { Headers.prototype.get = () => "pwned"; },
        () => { crypto.subtle.digest = () => {}; }, () => { Object.getPrototypeOf(crypto.subtle).sign = () => {}; }, () => { crypto.leak = 1; },
        () => { performance.now = () => 0; }, () => { AbortSignal.timeout = () => {}; }, () => { DOMException.prototype.name = "x"; },
        () => { Object.defineProperty(TextEncoder.prototype, "encode", { value: () => 1 }); }, () => { Event.NONE = 5; },
      ];
      return attempts.map((attempt) => { try { attempt(); return "changed"; } catch (e) { return e.name; } });`,
    );
    expect(result).toEqual(Array(14).fill("TypeError"));
  });

  it("says why a write to a web global failed", async () => {
    const result = await run(sandbox, "export default () => { fetch = null; };");
    expect(result.error?.message).toContain("globals and built-ins are frozen in iota scripts");
  });

  it("keeps the host out of reach", async () => {
    expect(await evaluate(sandbox, `return [typeof host, typeof internals, typeof ReadableStream, typeof require, typeof process, typeof WebAssembly];`)).toEqual(Array(6).fill("undefined"));
  });
});

describe("nothing of one execution reaches the next through the web platform", () => {
  it("timers, abort listeners, keys, bytes held by the host and objects all end with their execution", async () => {
    const sandbox = newSandbox();
    const source = `export default async (event) => {
      if (event.first) {
        setTimeout(() => console.log("timer of the first execution"), 30);
        AbortSignal.timeout(30).addEventListener("abort", () => console.log("abort of the first execution"));
        const key = await crypto.subtle.importKey("raw", new TextEncoder().encode("first secret"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
        // Streaming decoders held on the host (4 KiB each toward the 32 MiB, beside the key's 1 KiB) until the table is full.
        const decoders = [];
        let full;
        try {
          for (let i = 0; i < 10000; i++) { const d = new TextDecoder(); d.decode(new Uint8Array([0xe2]), { stream: true }); decoders.push(d); }
        } catch (e) { full = e.name; }
        return { full, decoders: decoders.length, key: key.type };
      }
      await new Promise((r) => setTimeout(r, 60));
      const d = new TextDecoder();
      return { streaming: d.decode(new Uint8Array([0xe2, 0x82]), { stream: true }) + d.decode(new Uint8Array([0xac])) };
    };`;
    const first = await run(sandbox, source, { key: "isolation", event: { first: true } });
    expect(first).toMatchObject({ status: "completed", result: { full: "QuotaExceededError", decoders: 8191, key: "secret" } });
    const second = await run(sandbox, source, { key: "isolation", event: {} });
    expect(second).toMatchObject({ status: "completed", warm: true, result: { streaming: "€" }, logs: [] });
  }, 30_000);

  it("a group loaded by one execution carries no state into the next", async () => {
    const sandbox = newSandbox();
    const source = `export default async (event) => {
      const u = new URL("http://a.example/?x=1");
      u.searchParams.append("n", String(event.n));
      const h = new Headers({ "x-n": String(event.n) });
      return [u.href, h.get("x-n"), [...new Headers()].length, new URLSearchParams().size];
    };`;
    const a = await run(sandbox, source, { key: "group-state", event: { n: 1 } });
    const b = await run(sandbox, source, { key: "group-state", event: { n: 2 } });
    expect(a.result).toEqual(["http://a.example/?x=1&n=1", "1", 0, 0]);
    expect(b).toMatchObject({ warm: true, result: ["http://a.example/?x=1&n=2", "2", 0, 0] });
  });
});

describe("the byte channel (host side)", () => {
  it("hands bytes over once, by id, and refuses more than 32 MiB held", () => {
    const channel = new ExecutionChannel();
    const id = channel.put(new Uint8Array([1, 2]));
    expect([...channel.take(id)]).toEqual([1, 2]);
    expect(() => channel.take(id)).toThrow(TypeError);
    expect(() => channel.take("1")).toThrow(TypeError);
    channel.put(new Uint8Array(MAX_HELD_BYTES - 1));
    expect(() => channel.put(new Uint8Array(2))).toThrow(expect.objectContaining({ name: "QuotaExceededError" }));
    const kept = channel.keep({ kind: "key" }, 1);
    expect(channel.object(kept, (v): v is { kind: string } => typeof v === "object", "key")).toEqual({ kind: "key" });
    channel.close();
    expect(channel.held).toBe(0);
    expect(() => channel.put(new Uint8Array(1))).toThrow(TypeError);
    expect(() => channel.object(kept, (v): v is object => true, "key")).toThrow(TypeError);
  });
});

describe("guest sources as QuickJS gets them", () => {
  const tokens = (source: string) => [...tokenizer(source, { ecmaVersion: "latest" })].map((t) => `${t.type.label}:${String((t as { value?: unknown }).value)}`);
  for (const [name, source] of [["bootstrap", BOOTSTRAP_SOURCE], ...Object.entries(WEB_RAW_SOURCES)] as const) {
    it(`compaction keeps every token of ${name}`, () => {
      const compacted = compactSource(source);
      expect(compacted.length).toBeLessThan(source.length);
      expect(tokens(compacted)).toEqual(tokens(source));
    });
  }
});
