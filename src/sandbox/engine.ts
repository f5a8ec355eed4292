/**
 * An engine: one WebAssembly instance of QuickJS (its own linear memory and C stack) that
 * hosts many realms, each with its own QuickJS runtime (realm.ts). Realms of any tenant may
 * sit idle in an engine; while executions run in it, the engine is leased to their tenant
 * alone, so that whatever goes wrong inside it can only cost that tenant's running work.
 *
 * Memory. QuickJS's own allocation limit does not add up allocations in this build (it
 * refuses single large ones only), so the engine's linear memory is what bounds a script:
 * the engine's `grow` is gated. While executions run, the engine may grow to its size when
 * the lease began plus the running executions' `memoryBytes`; a malloc past that fails and
 * the script gets QuickJS's "out of memory". Linear memory never shrinks: the pool drops an
 * engine that grew (pool.ts) to give it back.
 *
 * Crashes. A trap, an abort, or the host's stack running out inside QuickJS leaves the
 * instance's state (its C stack pointer, a runtime half-way through a call) untrusted: the
 * engine is marked crashed and every realm in it is dropped. Running executions in it are
 * its lessee's; idle realms of other tenants become cold starts, nothing more.
 */
import releaseSyncVariant from "@jitl/quickjs-wasmfile-release-sync";
import { newQuickJSWASMModuleFromVariant, newVariant, type QuickJSWASMModule } from "quickjs-emscripten-core";
import type { Realm } from "./realm";

export const PAGE_BYTES = 64 * 1024;
/** QuickJS's WebAssembly module asks for this much linear memory to start (256 pages). */
export const ENGINE_INITIAL_BYTES = 16 * 1024 * 1024;
/**
 * What an engine holds before any realm: QuickJS's static data and its C stack (measured:
 * about 11 MiB of a new engine's 16 MiB is free for realms).
 */
export const ENGINE_OVERHEAD_BYTES = 5 * 1024 * 1024;
/** Address space an engine may reserve; what it may really use is decided by the gate. */
const ENGINE_MAXIMUM_BYTES = 1024 * 1024 * 1024;

let nextEngineId = 1;

export class Engine {
  readonly id = nextEngineId++;
  /** The tenant whose executions run in this engine now, if any. */
  lessee: string | null = null;
  /** Executions running in it now (all of `lessee`). */
  running = 0;
  /** The running executions' `memoryBytes`, added up. */
  committed = 0;
  /** How many times it refused to grow (a script reached its memory limit). */
  refusedGrowths = 0;
  /** Set when the engine's state cannot be trusted any more; it is dropped. */
  crashed = false;
  /** Realms living in it, by the pool's bookkeeping. */
  readonly realms = new Set<Realm>();
  /** Its size when made: growth past this is what the pool gives back by dropping it. */
  readonly initialBytes: number;

  private constructor(
    readonly quickjs: QuickJSWASMModule,
    private readonly memory: WebAssembly.Memory,
  ) {
    this.initialBytes = memory.buffer.byteLength;
  }

  static async create(wasmModule: WebAssembly.Module): Promise<Engine> {
    const memory = new WebAssembly.Memory({ initial: ENGINE_INITIAL_BYTES / PAGE_BYTES, maximum: ENGINE_MAXIMUM_BYTES / PAGE_BYTES });
    const quickjs = await newQuickJSWASMModuleFromVariant(newVariant(releaseSyncVariant, { wasmModule, wasmMemory: memory }));
    const engine = new Engine(quickjs, memory);
    engine.gateGrowth();
    return engine;
  }

  /** Linear memory it holds now. */
  get bytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** Heap its realms were last measured at. */
  get realmHeapBytes(): number {
    let total = 0;
    for (const realm of this.realms) total += realm.heapBytes;
    return total;
  }

  /** Heap left behind by realms that could not be freed; it stays until the engine goes. */
  abandonedBytes = 0;

  /** What it holds at rest: QuickJS's overhead and its realms' heaps. */
  get restingBytes(): number {
    return ENGINE_OVERHEAD_BYTES + this.realmHeapBytes + this.abandonedBytes;
  }

  /** Free heap inside it, estimated: what a new realm or an execution can use without growing it. */
  get freeBytes(): number {
    return Math.max(0, this.bytes - this.restingBytes);
  }

  /**
   * The most linear memory it may hold now: its realms at rest plus what its running
   * executions may use on top (their `memoryBytes`), and never less than what it holds.
   */
  get accountedBytes(): number {
    return Math.max(this.bytes, this.restingBytes + this.committed);
  }

  /** Whether `tenant` may run here now (no other tenant's execution is running). */
  availableTo(tenant: string): boolean {
    return !this.crashed && (this.lessee === null || this.lessee === tenant);
  }

  /** An execution of `tenant` starts here, allowed `memoryBytes` on top of the realms at rest. */
  lease(tenant: string, memoryBytes: number) {
    if (!this.availableTo(tenant)) throw new Error(`engine ${this.id} is leased to another tenant`);
    this.lessee = tenant;
    this.running += 1;
    this.committed += memoryBytes;
  }

  /** An execution that `lease` started has ended. */
  unlease(memoryBytes: number) {
    this.running -= 1;
    this.committed -= memoryBytes;
    if (this.running === 0) this.lessee = null;
  }

  /**
   * Emscripten grows the heap through the memory object's `grow` (its glue calls
   * `memory.grow(pages)` and treats a throw as "no memory"). Growth is allowed only while
   * executions run, up to `accountedBytes`; realm creation happens inside an execution's
   * lease. A refused growth makes QuickJS's malloc fail: "out of memory" in the script.
   */
  private gateGrowth() {
    const memory = this.memory;
    const grow = memory.grow.bind(memory);
    Object.defineProperty(memory, "grow", {
      value: (pages: number) => {
        const after = memory.buffer.byteLength + pages * PAGE_BYTES;
        if (this.running === 0 || after > this.restingBytes + this.committed) {
          this.refusedGrowths += 1;
          throw new RangeError("the execution's memory limit is reached");
        }
        return grow(pages);
      },
    });
  }
}
