/**
 * The runner's cached view of its tenant's catalogue in D1: the tenant's limits, its
 * scripts (compiled once per version) and its http route table. D1 is read once per
 * version, not per request; the Worker calls `invalidate` after every write, so a new
 * version or status takes effect on the next request.
 */
import { and, eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { activeModules, scriptAt, scriptsAtLatest, type ScriptAtVersion } from "../db/queries";
import { scripts, tenants, type ScriptRow, type ScriptVersionRow, type TenantRow } from "../db/schema";
import type { EventTrigger, HttpTrigger, ScheduledTrigger, Trigger } from "../domain/triggers";
import type { CompileResult } from "../sandbox/compile";
import { compileLinked, type ModuleVersion } from "../sandbox/modules";
import { moduleLookup } from "../services/modules";
import { type Route, RouteTable } from "./routes";
import type { Schedule } from "./schedules";

export interface Subscription {
  scriptId: string;
  eventTypes: string[];
}

export interface RunnableScript {
  script: ScriptRow;
  version: ScriptVersionRow;
  /** Identifies the compiled code in the sandbox pool: id, version and source hash, and each imported module's version. */
  key: string;
  compiled: CompileResult;
  /** The modules it imports, at the versions it was compiled with (the execution record lists them). */
  modules: ModuleVersion[];
}

export interface InvalidateScope {
  /** A script that changed; its cached versions and the route table are dropped. */
  scriptId?: string;
  /** The tenant row changed (limits). */
  tenant?: boolean;
  /** The tenant's secrets changed (the runner drops its decrypted copies). */
  secrets?: boolean;
}

export class Catalogue {
  private tenantRow?: Promise<TenantRow | null>;
  /** By `id` (latest) and by `id@version`. */
  private readonly scripts = new Map<string, Promise<RunnableScript | null>>();
  private routes?: Promise<RouteTable>;
  private subscriptionList?: Promise<Subscription[]>;
  private scheduleList?: Promise<Schedule[]>;
  private moduleRows?: Promise<Map<string, ScriptAtVersion>>;
  /** Module id → the cache keys of scripts compiled with it: saving a module drops its importers. */
  private readonly importers = new Map<string, Set<string>>();
  /** Cache keys of versions that did not compile: a module coming (back) may fix them, so any change drops them. */
  private readonly failed = new Set<string>();

  constructor(
    private readonly db: Db,
    readonly tenantId: string,
  ) {}

  tenant(): Promise<TenantRow | null> {
    return (this.tenantRow ??= this.remember(
      () => this.db.select().from(tenants).where(eq(tenants.id, this.tenantId)).get().then((row) => row ?? null),
      () => (this.tenantRow = undefined),
    ));
  }

  /** A script of this tenant at `version` (default: its latest), compiled; null when there is none. */
  script(id: string, version?: number): Promise<RunnableScript | null> {
    const key = version === undefined ? id : `${id}@${version}`;
    let cached = this.scripts.get(key);
    if (!cached) {
      cached = this.remember(
        () => this.load(id, version),
        () => this.scripts.delete(key),
      );
      this.scripts.set(key, cached);
    }
    return cached;
  }

  /** The active http scripts' routes. */
  routeTable(): Promise<RouteTable> {
    return (this.routes ??= this.remember(
      async () => {
        const routes: Route[] = (await this.activeTriggers("http")).map((row) => {
          const trigger = row.trigger as HttpTrigger;
          return { scriptId: row.id, path: trigger.path, methods: trigger.methods };
        });
        return new RouteTable(routes);
      },
      () => (this.routes = undefined),
    ));
  }

  /** The active event scripts and the event types they subscribe to. */
  subscriptions(): Promise<Subscription[]> {
    return (this.subscriptionList ??= this.remember(
      async () => (await this.activeTriggers("event")).map((row) => ({ scriptId: row.id, eventTypes: (row.trigger as EventTrigger).eventTypes })),
      () => (this.subscriptionList = undefined),
    ));
  }

  /** The active scheduled scripts. */
  schedules(): Promise<Schedule[]> {
    return (this.scheduleList ??= this.remember(
      async () =>
        (await this.activeTriggers("scheduled")).map((row) => {
          const trigger = row.trigger as ScheduledTrigger;
          return { scriptId: row.id, cron: trigger.cron, timezone: trigger.timezone, allowOverlap: trigger.allowOverlap, since: row.since };
        }),
      () => (this.scheduleList = undefined),
    ));
  }

  private async activeTriggers(type: "http" | "event" | "scheduled"): Promise<Array<{ id: string; trigger: Trigger; since: number }>> {
    const rows = await scriptsAtLatest(this.db, and(eq(scripts.tenantId, this.tenantId), eq(scripts.type, type), eq(scripts.status, "active")));
    return rows.map((row) => ({ id: row.script.id, trigger: row.version.trigger, since: row.script.updatedAt }));
  }

  invalidate(scope: InvalidateScope) {
    if (scope.tenant) this.tenantRow = undefined;
    if (scope.scriptId) {
      for (const key of [...this.scripts.keys()]) if (key === scope.scriptId || key.startsWith(`${scope.scriptId}@`)) this.scripts.delete(key);
      for (const key of this.importers.get(scope.scriptId) ?? []) this.scripts.delete(key);
      this.importers.delete(scope.scriptId);
      for (const key of this.failed) this.scripts.delete(key);
      this.failed.clear();
    }
    this.moduleRows = undefined;
    this.routes = undefined;
    this.subscriptionList = undefined;
    this.scheduleList = undefined;
  }

  /** The tenant's active modules (API.md §13), read once until the next write. */
  private modules(): Promise<Map<string, ScriptAtVersion>> {
    return (this.moduleRows ??= this.remember(
      () => activeModules(this.db, this.tenantId),
      () => (this.moduleRows = undefined),
    ));
  }

  private async load(id: string, version?: number): Promise<RunnableScript | null> {
    const found = await scriptAt(this.db, this.tenantId, id, version);
    if (!found) return null;
    const modules = await this.modules();
    // TypeScript is stripped here, once per version: the version keeps what the author wrote.
    // Imports link against each module's latest version; the key names them all.
    const compiled = compileLinked(found.version.source, found.version.language, moduleLookup(modules));
    const used = compiled.ok ? compiled.modules : [];
    const cacheKey = version === undefined ? id : `${id}@${version}`;
    if (!compiled.ok) this.failed.add(cacheKey);
    for (const { name } of used) {
      const moduleId = modules.get(name)!.script.id;
      if (!this.importers.has(moduleId)) this.importers.set(moduleId, new Set());
      this.importers.get(moduleId)!.add(cacheKey);
    }
    return {
      script: found.script,
      version: found.version,
      key: `${found.script.id}:${found.version.version}:${found.version.sha256}${used.map((m) => `+${m.name}@${m.version}`).join("")}`,
      compiled: compiled.ok ? { ok: true, script: compiled.script } : compiled,
      modules: used,
    };
  }

  /** Caches a read; a failed read is forgotten so the next call tries again. */
  private remember<T>(read: () => Promise<T>, forget: () => void): Promise<T> {
    const promise = read();
    promise.catch(forget);
    return promise;
  }
}
