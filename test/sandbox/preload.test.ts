import { loadQuickJSWasm } from "#quickjs-wasm";
import { describe, expect, it } from "vitest";
import { compileScript } from "../../src/sandbox/compile";
import { Engine } from "../../src/sandbox/engine";
import { SDK_FUNCTIONS } from "../../src/sandbox/host";
import { Realm } from "../../src/sandbox/realm";
import { LIMITS, newSandbox, run } from "./helpers";

function compiled(source: string) {
  const result = compileScript(source);
  if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
  return result.script;
}

describe("the web groups a script names", () => {
  it.each([
    { what: "no web global", source: "export default async () => 1", groups: [] },
    { what: "crypto", source: "export default async () => crypto.randomUUID()", groups: ["crypto"] },
    { what: "URL and TextEncoder", source: "export default async (e) => new TextEncoder().encode(new URL(e.u).host)", groups: ["encoding", "url"] },
    { what: "a Response from a handler object", source: "export default { fetch: () => new Response('ok') }", groups: ["body"] },
    { what: "a name shadowed locally (counted: loading early only costs setup)", source: "export default async () => { const crypto = 1; return crypto; }", groups: ["crypto"] },
    { what: "properties and methods named like globals (not globals)", source: "export default { fetch: (r) => r.crypto, URL() {} }", groups: [] },
    { what: "a shorthand property (a variable)", source: "export default async () => ({ crypto })", groups: ["crypto"] },
  ])("are found at compile: $what", ({ source, groups }) => {
    expect(compiled(source).webGroups).toEqual(groups);
  });

  it("load while the realm is built, so its first execution does not pay for them", async () => {
    const heapAtCreation = async (source: string) => {
      const engine = await Engine.create(await loadQuickJSWasm());
      engine.lease("t", LIMITS.memoryBytes);
      return Realm.create(engine, compiled(source), LIMITS, SDK_FUNCTIONS).heapBytes;
    };
    const plain = await heapAtCreation("export default async () => 1");
    const naming = await heapAtCreation("export default async () => crypto.randomUUID()");
    // The crypto group (its classes, hardened) is tens of KiB of heap.
    expect(naming - plain).toBeGreaterThan(16 * 1024);
  });

  it("still run within the smallest memory limit a script may have", async () => {
    const result = await run(newSandbox(), "export default { async fetch(request) { const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(new URL(request.url).pathname)); return new Response(new Uint8Array(digest)); } }", {
      limits: { memoryBytes: 1024 * 1024 },
      ctx: { trigger: "http" },
      call: { request: { url: "https://x.example/a", method: "GET", headers: [], body: null }, env: { names: [], read: () => undefined }, basePath: "", onResponse: () => {} },
    });
    expect(result.status, JSON.stringify(result.error)).toBe("completed");
  });
});
