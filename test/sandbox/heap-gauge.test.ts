import { loadQuickJSWasm } from "#quickjs-wasm";
import { describe, expect, it } from "vitest";
import { Engine } from "../../src/sandbox/engine";
import { HeapGauge, MAX_SKIPPED } from "../../src/sandbox/heap-gauge";

/** A runtime and context as a realm has them, and a gauge whose walks of the heap are counted. */
async function gauged() {
  const engine = await Engine.create(await loadQuickJSWasm());
  engine.lease("t", 16 * 1024 * 1024);
  const runtime = engine.quickjs.newRuntime();
  runtime.setMemoryLimit(16 * 1024 * 1024);
  const context = runtime.newContext();
  let walks = 0;
  const gauge = new HeapGauge(runtime, context, () => {
    walks += 1;
    return runtime.computeMemoryUsage().consume((usage) => {
      const stats = context.dump(usage) as { memory_used_size: number; malloc_count: number; malloc_limit: number };
      return { memoryUsedBytes: stats.memory_used_size, mallocCount: stats.malloc_count, mallocLimit: stats.malloc_limit };
    });
  });
  const evaluate = (code: string) => context.unwrapResult(context.evalCode(code)).dispose();
  return { gauge, evaluate, walks: () => walks };
}

describe("a realm's heap gauge (heap-gauge.ts)", () => {
  it("answers an unchanged heap without walking it again", async () => {
    const { gauge, walks } = await gauged();
    const first = gauge.measureNow();
    expect(first).toBeGreaterThan(10_000);
    expect(gauge.heapBytes()).toBe(first);
    expect(gauge.heapBytes()).toBe(first);
    // Found this build's allocation count: only the first measure walked the heap.
    expect(walks()).toBe(1);
  });

  it("walks it again when allocations say it changed, and answers the new size", async () => {
    const { gauge, evaluate, walks } = await gauged();
    const before = gauge.measureNow();
    evaluate("globalThis.kept = Array.from({ length: 5000 }, (_, i) => ({ i, s: 'x' + i }));");
    const after = gauge.heapBytes();
    expect(walks()).toBe(2);
    expect(after - before).toBeGreaterThan(100_000);
  });

  it(`walks it at least once every ${MAX_SKIPPED} answers, whatever the count says`, async () => {
    const { gauge, walks } = await gauged();
    gauge.measureNow();
    for (let i = 0; i < MAX_SKIPPED; i++) gauge.heapBytes();
    expect(walks()).toBe(1);
    gauge.heapBytes();
    expect(walks()).toBe(2);
  });
});
