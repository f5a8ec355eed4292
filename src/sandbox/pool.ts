/**
 * The pool: one per isolate (the Worker and every tenant cell co-located in the isolate
 * share it), holding engines (WebAssembly instances of QuickJS, engine.ts) and, inside
 * them, realms (one per compiled script, realm.ts) kept warm between executions.
 *
 * One memory budget for the isolate: the engines' linear memory, counted the way it can
 * really grow. An engine counts what it holds, or, while executions run in it, its realms at
 * rest plus every running execution's `memoryBytes`, whichever is more. Idle warm realms so
 * cost what their heap holds (a few hundred KiB), not a WebAssembly instance each.
 *
 * Per tenant: a tenant's running executions may commit at most `tenantShareBytes` of the
 * budget, so one tenant cannot take the memory every other tenant needs. The tenant's
 * concurrency and rate are its cell's business (tenant/quota-ledger.ts).
 *
 * Placement: a warm realm runs where it lives, if its engine is not running another
 * tenant's executions; otherwise, and for a script with no warm realm, a realm is made in
 * an engine available to the tenant with room, or in a new engine. A new realm goes beside
 * the tenant's own realms where it can, then where the fewest other tenants' realms are: an
 * engine running one tenant is closed to every other, so keeping tenants apart keeps a busy
 * tenant from making a neighbour's warm realm unusable (bench scenario 8). Room is made by
 * dropping idle realms, then idle engines, least recently used first (an engine counts as
 * used when any of its realms was).
 *
 * Giving memory back: linear memory never shrinks, so an engine that grew past its first
 * size, or crashed, is dropped, with its idle realms, as soon as nothing runs in it.
 */
import { realmSourceChars } from "./modules";
import type { CompiledScript } from "./compile";
import { Engine, ENGINE_INITIAL_BYTES, ENGINE_OVERHEAD_BYTES } from "./engine";
import { Realm, type RealmLimits } from "./realm";

export interface PoolStats {
  engines: number;
  realms: number;
  idle: number;
  busy: number;
  /** Accounted memory: what all engines hold or may grow to (see above). */
  memoryBytes: number;
  /** Linear memory the engines hold now. */
  engineBytes: number;
  memoryBudgetBytes: number;
  created: number;
  reused: number;
  /** Engines dropped because their state could not be trusted. */
  crashes: number;
}

export interface PoolOptions {
  /** What one tenant's running executions may commit together; defaults to two thirds of the budget. */
  tenantShareBytes?: number;
}

/** No room for the execution within the budget (or the tenant's share of it). */
export class PoolCapacityError extends Error {
  override readonly name = "PoolCapacityError";
}

/** A realm lent to one execution; give it back with `release`. */
export interface Lease {
  realm: Realm;
  warm: boolean;
  tenant: string;
  key: string;
  memoryBytes: number;
}

/** An engine that holds this much heap of realms it could not free is dropped once idle. */
const ABANDONED_LIMIT_BYTES = 2 * 1024 * 1024;
/**
 * A new realm is expected to need this much of an engine's free heap while it is built and
 * runs its first execution, plus its source. Building one (the bootstrap with the web
 * platform's stubs) peaks near 3 MiB: with a 512 KiB estimate an engine was filled to its
 * last 3 MiB, its next realm failed, and the engine went with every warm realm in it (bench
 * scenario 11: 0 of 60 second requests warm; with 3 MiB, 60 of 60 in two engines).
 */
const REALM_ESTIMATE_BYTES = 3 * 1024 * 1024;
const SOURCE_HEAP_FACTOR = 8;

/** What a new engine counts once an execution of `memoryBytes` runs in it. */
function newEngineBytes(memoryBytes: number): number {
  return Math.max(ENGINE_INITIAL_BYTES, ENGINE_OVERHEAD_BYTES + REALM_ESTIMATE_BYTES + memoryBytes);
}

export class SandboxPool {
  private readonly engines = new Set<Engine>();
  /** Idle realms by pool key, most recently used last. */
  private readonly idle = new Map<string, Realm[]>();
  /** Every idle realm, least recently used first. */
  private readonly idleOrder = new Set<Realm>();
  private readonly busy = new Set<Realm>();
  private readonly keyOf = new Map<Realm, string>();
  /** The tenant each realm was built for (its script's). */
  private readonly tenantOf = new Map<Realm, string>();
  /** When each engine was last lent or given back, on the pool's own clock (a counter). */
  private readonly lastUsed = new Map<Engine, number>();
  private clock = 0;
  /** Committed `memoryBytes` of running executions, by tenant. */
  private readonly committedByTenant = new Map<string, number>();
  /** The engine being made, if any (it will hold ENGINE_INITIAL_BYTES). */
  private creating: Promise<Engine> | null = null;
  private readonly tenantShareBytes: number;
  private created = 0;
  private reused = 0;
  private crashes = 0;

  constructor(
    private readonly wasmModule: () => Promise<WebAssembly.Module>,
    readonly memoryBudgetBytes: number,
    private readonly sdkNames: readonly string[],
    options: PoolOptions = {},
  ) {
    this.tenantShareBytes = options.tenantShareBytes ?? Math.floor((memoryBudgetBytes * 2) / 3);
  }

  static key(scriptKey: string, limits: RealmLimits) {
    return `${scriptKey}|${limits.memoryBytes}|${limits.stackBytes}`;
  }

  /** Whether an execution of `tenant` with these limits could start now (after making room). */
  hasRoomFor(tenant: string, limits: RealmLimits): boolean {
    if (this.committedBy(tenant) + limits.memoryBytes > this.tenantShareBytes) return false;
    return this.accountedBytes() - this.reclaimableBytes() + newEngineBytes(limits.memoryBytes) <= this.memoryBudgetBytes;
  }

  /**
   * A realm for the script, warm when one is idle where the tenant may run. Throws
   * `PoolCapacityError` when the budget (or the tenant's share) has no room, and
   * `SandboxCompileError`/`SetupLimitError` when the realm cannot be built. Every decision
   * and the lease it takes happen in one synchronous step, so concurrent acquires never
   * commit the same room twice.
   */
  async acquire(tenant: string, scriptKey: string, script: CompiledScript, limits: RealmLimits): Promise<Lease> {
    const key = SandboxPool.key(scriptKey, limits);
    const memoryBytes = limits.memoryBytes;
    for (;;) {
      if (this.committedBy(tenant) + memoryBytes > this.tenantShareBytes) {
        throw new PoolCapacityError(`the tenant's executions already use its share of sandbox memory (${this.tenantShareBytes} bytes)`);
      }
      const warm = this.takeIdle(key, tenant);
      if (warm) {
        this.makeRoom(memoryBytes, warm.engine);
        this.lend(warm, tenant, memoryBytes);
        this.reused += 1;
        return { realm: warm, warm: true, tenant, key, memoryBytes };
      }
      const engine = this.engineWithRoom(tenant, memoryBytes, script);
      if (engine) {
        this.lend(null, tenant, memoryBytes, engine);
        return this.newRealm(engine, key, script, limits, tenant);
      }
      await this.newEngine(tenant, memoryBytes);
    }
  }

  /** Gives a realm back: kept warm if it is still clean, dropped otherwise. */
  release(lease: Lease) {
    const { realm, tenant, memoryBytes } = lease;
    const engine = realm.engine;
    this.busy.delete(realm);
    this.unlend(engine, tenant, memoryBytes);
    if (!realm.reusable || !realm.alive || engine.crashed) {
      this.dropRealm(realm);
    } else {
      const list = this.idle.get(lease.key) ?? [];
      list.push(realm);
      this.idle.set(lease.key, list);
      this.idleOrder.add(realm);
    }
    this.settle(engine);
  }

  /** Drops every idle realm of a script (a new version makes them useless). */
  evictScript(scriptKeyPrefix: string) {
    for (const [key, list] of [...this.idle]) {
      if (!key.startsWith(scriptKeyPrefix)) continue;
      for (const realm of [...list]) this.dropRealm(realm);
    }
    for (const engine of [...this.engines]) this.settle(engine);
  }

  stats(): PoolStats {
    let engineBytes = 0;
    let realms = 0;
    for (const engine of this.engines) {
      engineBytes += engine.bytes;
      realms += engine.realms.size;
    }
    return {
      engines: this.engines.size,
      realms,
      idle: this.idleOrder.size,
      busy: this.busy.size,
      memoryBytes: this.accountedBytes(),
      engineBytes,
      memoryBudgetBytes: this.memoryBudgetBytes,
      created: this.created,
      reused: this.reused,
      crashes: this.crashes,
    };
  }

  /** Drops everything (tests and benchmarks). */
  dispose() {
    for (const engine of [...this.engines]) this.dropEngine(engine);
  }

  // ---- placement ----

  private takeIdle(key: string, tenant: string): Realm | null {
    const list = this.idle.get(key);
    if (!list) return null;
    for (let i = list.length - 1; i >= 0; i--) {
      const realm = list[i]!;
      if (!realm.engine.availableTo(tenant)) continue;
      list.splice(i, 1);
      if (list.length === 0) this.idle.delete(key);
      this.idleOrder.delete(realm);
      return realm;
    }
    return null;
  }

  /** Builds a realm in an engine already lent to the execution. */
  private newRealm(engine: Engine, key: string, script: CompiledScript, limits: RealmLimits, tenant: string): Lease {
    let realm: Realm;
    try {
      realm = Realm.create(engine, script, limits, this.sdkNames);
    } catch (error) {
      this.unlend(engine, tenant, limits.memoryBytes);
      this.settle(engine);
      throw error;
    }
    engine.realms.add(realm);
    this.busy.add(realm);
    this.keyOf.set(realm, key);
    this.tenantOf.set(realm, tenant);
    this.created += 1;
    return { realm, warm: false, tenant, key, memoryBytes: limits.memoryBytes };
  }

  /**
   * An engine the tenant may run in with room for a new realm and the execution, room made
   * if need be; null when a new engine is the way (the caller makes one and asks again).
   */
  private engineWithRoom(tenant: string, memoryBytes: number, script: CompiledScript): Engine | null {
    const needed = REALM_ESTIMATE_BYTES + realmSourceChars(script) * SOURCE_HEAP_FACTOR;
    const available = this.enginesFor(tenant);
    const roomy = available.find((e) => e.freeBytes >= needed);
    if (roomy) {
      this.makeRoom(memoryBytes, roomy);
      return roomy;
    }
    if (this.creating || this.fits(newEngineBytes(memoryBytes)) || this.reclaim(newEngineBytes(memoryBytes))) return null;
    // No room for another engine: free heap in one the tenant may use by dropping its idle realms.
    for (const engine of available) {
      for (const realm of [...this.idleOrder]) {
        if (engine.freeBytes >= needed) break;
        if (realm.engine === engine) this.dropRealm(realm);
      }
      if (engine.freeBytes >= needed || engine === available.at(-1)) {
        this.makeRoom(memoryBytes, engine);
        return engine;
      }
    }
    throw new PoolCapacityError(`no room for another sandbox within ${this.memoryBudgetBytes} bytes`);
  }

  /** The engines `tenant` may run in, best place for its new realm first (see the top of the file). */
  private enginesFor(tenant: string): Engine[] {
    const ranked = [...this.engines].filter((e) => e.availableTo(tenant)).map((engine) => {
      let own = 0;
      for (const realm of engine.realms) if (this.tenantOf.get(realm) === tenant) own += 1;
      return { engine, own, foreign: engine.realms.size - own };
    });
    ranked.sort((a, b) => Number(b.own > 0) - Number(a.own > 0) || a.foreign - b.foreign || b.engine.freeBytes - a.engine.freeBytes);
    return ranked.map((r) => r.engine);
  }

  /** Makes a new engine (one at a time: others wait for it and look again). */
  private async newEngine(tenant: string, memoryBytes: number): Promise<void> {
    if (this.creating) {
      await this.creating.catch(() => undefined);
      return;
    }
    if (!this.fits(newEngineBytes(memoryBytes)) && !this.reclaim(newEngineBytes(memoryBytes))) {
      throw new PoolCapacityError(`no room for another sandbox within ${this.memoryBudgetBytes} bytes (tenant ${tenant})`);
    }
    this.creating = this.wasmModule().then((module) => Engine.create(module));
    try {
      this.engines.add(await this.creating);
    } finally {
      this.creating = null;
    }
  }

  /** Makes sure committing `memoryBytes` more in `engine` stays within the budget. */
  private makeRoom(memoryBytes: number, engine: Engine) {
    const growth = Math.max(engine.bytes, engine.restingBytes + engine.committed + memoryBytes) - engine.accountedBytes;
    if (this.fits(growth) || this.reclaim(growth, engine)) return;
    throw new PoolCapacityError(`no room for another sandbox within ${this.memoryBudgetBytes} bytes`);
  }

  private fits(extraBytes: number): boolean {
    return this.accountedBytes() + extraBytes <= this.memoryBudgetBytes;
  }

  /** Drops idle engines, least recently used first, until `extraBytes` fit; false if they cannot. */
  private reclaim(extraBytes: number, keep?: Engine): boolean {
    if (this.accountedBytes() - this.reclaimableBytes(keep) + extraBytes > this.memoryBudgetBytes) return false;
    const idle = [...this.engines].filter((engine) => engine !== keep && engine.running === 0);
    // Engines holding no realm first: they keep nothing warm.
    idle.sort((a, b) => Number(a.realms.size > 0) - Number(b.realms.size > 0) || this.usedAt(a) - this.usedAt(b));
    for (const engine of idle) {
      if (this.fits(extraBytes)) return true;
      this.dropEngine(engine);
    }
    return this.fits(extraBytes);
  }

  private usedAt(engine: Engine): number {
    return this.lastUsed.get(engine) ?? 0;
  }

  /** What dropping every engine with nothing running (but `keep`) would give back. */
  private reclaimableBytes(keep?: Engine): number {
    let total = 0;
    for (const engine of this.engines) if (engine !== keep && engine.running === 0) total += engine.accountedBytes;
    return total;
  }

  private accountedBytes(): number {
    let total = this.creating ? ENGINE_INITIAL_BYTES : 0;
    for (const engine of this.engines) total += engine.accountedBytes;
    return total;
  }

  private committedBy(tenant: string): number {
    return this.committedByTenant.get(tenant) ?? 0;
  }

  // ---- bookkeeping ----

  private lend(realm: Realm | null, tenant: string, memoryBytes: number, engine = realm!.engine) {
    engine.lease(tenant, memoryBytes);
    this.lastUsed.set(engine, ++this.clock);
    this.committedByTenant.set(tenant, this.committedBy(tenant) + memoryBytes);
    if (realm) this.busy.add(realm);
  }

  private unlend(engine: Engine, tenant: string, memoryBytes: number) {
    engine.unlease(memoryBytes);
    this.lastUsed.set(engine, ++this.clock);
    const left = this.committedBy(tenant) - memoryBytes;
    if (left > 0) this.committedByTenant.set(tenant, left);
    else this.committedByTenant.delete(tenant);
  }

  /**
   * Drops an engine, once nothing runs in it, when it crashed, grew (linear memory goes back
   * only so), holds too much heap of realms it could not free, or holds no realm while
   * another empty engine is kept as the spare (a new realm then needs no new instance).
   */
  private settle(engine: Engine) {
    if (!this.engines.has(engine) || engine.running > 0) return;
    if (engine.crashed) {
      this.crashes += 1;
      this.dropEngine(engine);
    } else if (engine.bytes > engine.initialBytes || engine.abandonedBytes > ABANDONED_LIMIT_BYTES || this.spareBeside(engine)) {
      this.dropEngine(engine);
    }
  }

  private spareBeside(engine: Engine): boolean {
    if (engine.realms.size > 0) return false;
    for (const other of this.engines) if (other !== engine && other.realms.size === 0 && other.running === 0) return true;
    return false;
  }

  private dropRealm(realm: Realm) {
    const key = this.keyOf.get(realm);
    if (key !== undefined) {
      const list = this.idle.get(key);
      const at = list?.indexOf(realm) ?? -1;
      if (list && at >= 0) {
        list.splice(at, 1);
        if (list.length === 0) this.idle.delete(key);
      }
    }
    this.keyOf.delete(realm);
    this.tenantOf.delete(realm);
    this.idleOrder.delete(realm);
    this.busy.delete(realm);
    realm.engine.realms.delete(realm);
    // A realm that could not be freed leaves its heap in the engine: count it there until
    // the engine goes, so the engine's free heap is not overestimated.
    if (!realm.dispose()) realm.engine.abandonedBytes += realm.heapBytes;
  }

  private dropEngine(engine: Engine) {
    for (const realm of [...engine.realms]) {
      this.keyOf.delete(realm);
      this.tenantOf.delete(realm);
      this.idleOrder.delete(realm);
      this.busy.delete(realm);
      realm.alive = false;
    }
    for (const [key, list] of [...this.idle]) {
      const kept = list.filter((realm) => realm.engine !== engine);
      if (kept.length === 0) this.idle.delete(key);
      else this.idle.set(key, kept);
    }
    engine.realms.clear();
    this.engines.delete(engine);
    this.lastUsed.delete(engine);
  }
}
