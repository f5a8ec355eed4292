/**
 * A realm's heap after each execution, without walking it every time.
 *
 * QuickJS answers a runtime's heap only by walking every object, shape and atom
 * (`JS_ComputeMemoryUsage`): measured, that walk was a fifth of a warm trivial execution and
 * two thirds of a warm fetch handler's (whose realm holds the web groups). What changes the
 * heap of a warm realm between executions is garbage left by the run (each run starts from
 * the frozen realm, so nothing else can stay); garbage comes with allocations, and QuickJS
 * keeps a live allocation count in its runtime (`JSMallocState.malloc_count`), which can be
 * read in O(1) from the engine's linear memory. So the heap is measured again only when
 * that count moved by more than a little since the last measure, or every MAX_SKIPPED runs.
 *
 * The count's place in the struct depends on the QuickJS build (pinned in package.json); it
 * is found by calibration against a measure, and when it cannot be found the heap is
 * measured every time, as before. Only accounting reads this: the engine's hard memory cap
 * (engine.ts) does not depend on it.
 */
import type { QuickJSContext, QuickJSRuntime } from "quickjs-emscripten-core";

/** Allocations the count may move by (either way) and still be taken as the same heap: ~2 %, at least 64. */
const SHARE = 0.02;
const MIN_SLACK = 64;
/** The heap is measured at least once per this many runs, whatever the count says. */
export const MAX_SKIPPED = 32;
/** How far into the JSRuntime struct the calibration looks for the malloc state (32-bit words). */
const SEARCH_WORDS = 16;

/** What a measure of the heap says (QuickJS's memory usage). */
export interface HeapMeasure {
  memoryUsedBytes: number;
  mallocCount: number;
  mallocLimit: number;
}

interface Internals {
  rt?: { value?: number };
}
interface ContextInternals {
  module?: { HEAPU8?: Uint8Array };
}

export class HeapGauge {
  private bytes = 0;
  private countAtMeasure = -1;
  private skipped = 0;
  /** Reads the live allocation count; null until calibrated, or when it could not be. */
  private readCount: (() => number) | null = null;
  private calibrated = false;

  constructor(
    private readonly runtime: QuickJSRuntime,
    private readonly context: QuickJSContext,
    private readonly measure: () => HeapMeasure,
  ) {}

  /** The heap now: measured, unless the allocation count says it is what was measured last. */
  heapBytes(): number {
    const count = this.readCount?.() ?? null;
    if (count !== null && this.countAtMeasure >= 0 && this.skipped < MAX_SKIPPED && Math.abs(count - this.countAtMeasure) <= Math.max(MIN_SLACK, this.countAtMeasure * SHARE)) {
      this.skipped += 1;
      return this.bytes;
    }
    return this.measureNow();
  }

  /** Measures the heap now (after creation, and whenever `heapBytes` cannot vouch for the last measure). */
  measureNow(): number {
    const measured = this.measure();
    if (!this.calibrated) {
      this.calibrated = true;
      this.readCount = countReader(this.runtime, this.context, measured);
    }
    this.bytes = measured.memoryUsedBytes;
    this.countAtMeasure = this.readCount?.() ?? -1;
    this.skipped = 0;
    return this.bytes;
  }
}

/**
 * Finds `malloc_count` in the runtime's struct: the word equal (give or take the measure's
 * own allocations) to the measured count, two words before the limit the realm set.
 */
function countReader(runtime: QuickJSRuntime, context: QuickJSContext, measured: HeapMeasure): (() => number) | null {
  const pointer = (runtime as unknown as Internals).rt?.value;
  const module = (context as unknown as ContextInternals).module;
  if (typeof pointer !== "number" || pointer % 4 !== 0 || !module?.HEAPU8) return null;
  // The module's view is replaced when its memory grows: read it afresh each time.
  const word = (index: number) => {
    const heap = module.HEAPU8!;
    const at = pointer + index * 4;
    return at + 4 <= heap.length ? new DataView(heap.buffer, heap.byteOffset).getUint32(at, true) : -1;
  };
  for (let i = 0; i + 2 < SEARCH_WORDS; i++) {
    if (word(i + 2) === measured.mallocLimit && Math.abs(word(i) - measured.mallocCount) <= MIN_SLACK) return () => word(i);
  }
  return null;
}
