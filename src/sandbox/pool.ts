/**
 * The pool of sandbox instances. Idle instances stay warm per script (a warm execution
 * neither instantiates WebAssembly nor parses); all instances together, busy or idle, hold
 * at most `memoryBudgetBytes` of linear memory. Idle ones are evicted least recently used
 * first when a new one needs room.
 */
import type { CompiledScript } from "./compile";
import { instanceMemoryBytes, type InstanceLimits, SandboxInstance } from "./instance";

export interface PoolStats {
  instances: number;
  idle: number;
  busy: number;
  /** Linear memory held by all instances. */
  memoryBytes: number;
  memoryBudgetBytes: number;
  created: number;
  reused: number;
}

/** No instance could be made without going over the memory budget (every byte is busy). */
export class PoolCapacityError extends Error {
  override readonly name = "PoolCapacityError";
}

export class SandboxPool {
  /** Idle instances by pool key, most recently used last. */
  private readonly idle = new Map<string, SandboxInstance[]>();
  /** Every live instance, busy or idle, in least-recently-used order for eviction. */
  private readonly all = new Set<SandboxInstance>();
  private readonly busy = new Set<SandboxInstance>();
  private created = 0;
  private reused = 0;
  /** Bytes promised to instances being created (not yet in `all`), so concurrent acquires cannot overcommit. */
  private reserved = 0;

  constructor(
    private readonly wasmModule: () => Promise<WebAssembly.Module>,
    readonly memoryBudgetBytes: number,
    private readonly sdkNames: readonly string[],
  ) {}

  static key(scriptKey: string, limits: InstanceLimits) {
    return `${scriptKey}|${limits.memoryBytes}|${limits.stackBytes}`;
  }

  /** Whether an instance of this size could be made now, after evicting idle ones. */
  hasRoomFor(limits: InstanceLimits): boolean {
    return this.busyBytes() + this.reserved + instanceMemoryBytes(limits.memoryBytes) <= this.memoryBudgetBytes;
  }

  /**
   * An instance for the script, warm when one is idle. Throws `PoolCapacityError` when busy
   * instances leave no room, and `SandboxCompileError` when QuickJS refuses the script.
   */
  async acquire(scriptKey: string, script: CompiledScript, limits: InstanceLimits): Promise<{ instance: SandboxInstance; warm: boolean }> {
    const key = SandboxPool.key(scriptKey, limits);
    const warm = this.idle.get(key)?.pop();
    if (warm) {
      this.busy.add(warm);
      this.touch(warm);
      this.reused += 1;
      return { instance: warm, warm: true };
    }
    const bytes = instanceMemoryBytes(limits.memoryBytes);
    this.makeRoom(bytes);
    this.reserved += bytes;
    let instance: SandboxInstance;
    try {
      instance = await SandboxInstance.create(await this.wasmModule(), script, limits, this.sdkNames);
    } finally {
      this.reserved -= bytes;
    }
    this.created += 1;
    this.all.add(instance);
    this.busy.add(instance);
    return { instance, warm: false };
  }

  /** Gives an instance back: kept warm if it is still clean, disposed otherwise. */
  release(scriptKey: string, limits: InstanceLimits, instance: SandboxInstance) {
    this.busy.delete(instance);
    if (!instance.reusable || !instance.alive) {
      this.drop(instance);
      return;
    }
    const key = SandboxPool.key(scriptKey, limits);
    const list = this.idle.get(key) ?? [];
    list.push(instance);
    this.idle.set(key, list);
    this.touch(instance);
  }

  /** Drops every idle instance of a script (a new version makes them useless). */
  evictScript(scriptKeyPrefix: string) {
    for (const [key, list] of this.idle) {
      if (!key.startsWith(scriptKeyPrefix)) continue;
      for (const instance of list) this.drop(instance);
      this.idle.delete(key);
    }
  }

  stats(): PoolStats {
    const idle = [...this.idle.values()].reduce((n, list) => n + list.length, 0);
    return {
      instances: this.all.size,
      idle,
      busy: this.busy.size,
      memoryBytes: this.totalBytes() + this.reserved,
      memoryBudgetBytes: this.memoryBudgetBytes,
      created: this.created,
      reused: this.reused,
    };
  }

  dispose() {
    for (const instance of this.all) instance.dispose();
    this.all.clear();
    this.idle.clear();
    this.busy.clear();
  }

  private makeRoom(bytes: number) {
    const needed = () => this.totalBytes() + this.reserved + bytes;
    for (const instance of [...this.all]) {
      if (needed() <= this.memoryBudgetBytes) return;
      if (!this.busy.has(instance)) this.drop(instance);
    }
    if (needed() > this.memoryBudgetBytes) {
      throw new PoolCapacityError(`no room for another ${bytes}-byte sandbox within ${this.memoryBudgetBytes} bytes`);
    }
  }

  private drop(instance: SandboxInstance) {
    this.all.delete(instance);
    this.busy.delete(instance);
    for (const [key, list] of this.idle) {
      const at = list.indexOf(instance);
      if (at >= 0) {
        list.splice(at, 1);
        if (list.length === 0) this.idle.delete(key);
      }
    }
    instance.dispose();
  }

  /** Moves an instance to the most-recently-used end. */
  private touch(instance: SandboxInstance) {
    this.all.delete(instance);
    this.all.add(instance);
  }

  /** Idle instances at what they hold, busy ones at what they may grow to. */
  private totalBytes() {
    let total = 0;
    for (const instance of this.all) total += this.busy.has(instance) ? instance.maxMemoryBytes : instance.memoryBytes;
    return total;
  }

  /** What busy instances may hold: each can still grow to its maximum. */
  private busyBytes() {
    let total = 0;
    for (const instance of this.busy) total += instance.maxMemoryBytes;
    return total;
  }
}
