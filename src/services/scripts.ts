import { and, desc, eq, inArray, lt, ne, or, sql, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { z } from "zod";
import { type Db, uniqueViolation } from "../db/client";
import { scriptRoutes, scripts, scriptVersions, type ScriptRow, type ScriptVersionRow, type TenantRow } from "../db/schema";
import { limitsAboveTenant, tenantLimits, type ScriptLimits } from "../domain/limits";
import type { createScriptBody, ScriptStatus, updateScriptBody } from "../domain/scripts";
import type { Language } from "../sandbox/typescript";
import { routeKey, TRIGGER_SCHEMAS, type HttpTrigger, type ScriptType, type Trigger } from "../domain/triggers";
import { ApiError, validate } from "../domain/errors";
import { DEFAULT_PLACEMENT, type Placement } from "../domain/placement";
import { scriptAt, scriptsAtLatest } from "../db/queries";
import { sha256Hex } from "../lib/crypto";
import { isId, newId } from "../lib/ids";
import { jsonEqual, utf8Bytes } from "../lib/json";
import { actorName, type Principal } from "./actor";
import { auditInsert } from "./audit";
import { type Page, pageOf } from "./pagination";
import { checkTotalSourceSize, refuseBreakingImporters, refuseWhileImported, tenantModuleLookup } from "./modules";
import { checkSource } from "./source-check";

/** What a version holds; everything else about a script changes in place. */
export interface Snapshot {
  source: string;
  language: Language;
  placement: Placement;
  trigger: Trigger;
  limits: ScriptLimits;
}

export interface LoadedScript {
  script: ScriptRow;
  version: ScriptVersionRow;
}

/** The script as the API shows it (API.md §6). */
export function scriptJson({ script, version }: LoadedScript) {
  return {
    id: script.id,
    name: script.name,
    description: script.description,
    type: script.type,
    status: script.status,
    version: script.version,
    source: version.source,
    language: version.language,
    placement: version.placement,
    trigger: version.trigger,
    limits: version.limits,
    sha256: version.sha256,
    createdAt: new Date(script.createdAt).toISOString(),
    updatedAt: new Date(script.updatedAt).toISOString(),
  };
}

/** A list item: the script without its source, which can be 100 KiB each. */
export function scriptSummaryJson(loaded: LoadedScript) {
  const { source: _source, ...summary } = scriptJson(loaded);
  return summary;
}

export const isScriptId = (value: string) => isId("scr", value);

/** A script of this tenant at its latest version; anything else (another tenant's too) is a 404. */
export async function loadScript(db: Db, tenant: TenantRow, id: string): Promise<LoadedScript> {
  const found = isScriptId(id) ? await scriptAt(db, tenant.id, id) : undefined;
  if (!found) throw ApiError.notFound("script");
  return found;
}

export interface ScriptFilter {
  type?: ScriptType;
  status?: ScriptStatus;
  q?: string;
  limit: number;
  /** The id after which the page starts (lists are newest first). */
  after?: string;
}

/** Newest first; archived scripts only when asked for with `status=archived`. */
export async function listScripts(db: Db, tenant: TenantRow, filter: ScriptFilter): Promise<Page<LoadedScript>> {
  const conditions: (SQL | undefined)[] = [
    eq(scripts.tenantId, tenant.id),
    filter.status ? eq(scripts.status, filter.status) : ne(scripts.status, "archived"),
    filter.type ? eq(scripts.type, filter.type) : undefined,
    filter.after ? lt(scripts.id, filter.after) : undefined,
  ];
  if (filter.q) {
    const pattern = `%${filter.q.replace(/[\\%_]/g, (c) => "\\" + c)}%`;
    conditions.push(
      or(sql`${scripts.name} LIKE ${pattern} ESCAPE '\\'`, sql`${scripts.description} LIKE ${pattern} ESCAPE '\\'`),
    );
  }
  const rows = await scriptsAtLatest(db, and(...conditions))
    .orderBy(desc(scripts.id))
    .limit(filter.limit + 1);
  return pageOf(rows, filter.limit, (row) => row.script.id);
}

/**
 * Checks a snapshot against the tenant's limits and the compiler before anything is written:
 * oversize source → 413 (TypeScript: the source as written), limits above the tenant's → 400,
 * compile errors → 400 (TypeScript: at the TypeScript's line and column).
 */
async function checkSnapshot(db: Db, tenant: TenantRow, snapshot: Snapshot, script: { type: ScriptType; name: string }) {
  const limits = tenantLimits(tenant.limits);
  checkSourceSize(tenant, snapshot.source);
  const above = limitsAboveTenant(limits, snapshot.limits);
  if (above.length > 0) {
    throw ApiError.invalid(
      "script limits may only lower the tenant's limits",
      above.map((name) => ({ path: `limits.${name}`, message: `must be at most the tenant's ${name} (${limits[name]})` })),
    );
  }
  // Imports resolve against the tenant's active modules (API.md §13); the cap covers the script and its modules.
  const modules = await tenantModuleLookup(db, tenant.id);
  const totalBytes = await checkSource(snapshot.source, snapshot.language, { modules, isModule: script.type === "module", name: script.name, type: script.type });
  checkTotalSourceSize(tenant, totalBytes);
}

/** A source over the tenant's `sourceBytes` (UTF-8) is a 413. */
export function checkSourceSize(tenant: TenantRow, source: string) {
  const limit = tenantLimits(tenant.limits).sourceBytes;
  const bytes = utf8Bytes(source);
  if (bytes > limit) throw new ApiError("payload_too_large", `source is ${bytes} bytes; this tenant's sourceBytes limit is ${limit}`);
}

function parseTrigger(type: ScriptType, input: unknown): Trigger {
  return validate(TRIGGER_SCHEMAS[type], input ?? {}, "trigger") as Trigger;
}

/** The route rows an http script holds; other types and archived scripts hold none. */
function routeRows(tenantId: string, scriptId: string, type: ScriptType, status: ScriptStatus, trigger: Trigger) {
  if (type !== "http" || status === "archived") return [];
  const { path, methods } = trigger as HttpTrigger;
  return methods.map((method) => ({ tenantId, routeKey: routeKey(path), method, scriptId }));
}

function insertRoutes(db: Db, rows: ReturnType<typeof routeRows>) {
  return rows.length > 0 ? [db.insert(scriptRoutes).values(rows)] : [];
}

/** Turns a unique violation into the 409 a user can act on; other errors pass through. */
async function conflictFrom(db: Db, error: unknown, tenant: TenantRow, name: string, routes: ReturnType<typeof routeRows>) {
  const table = uniqueViolation(error);
  if (table === "scripts") return ApiError.conflict(`a script named ${name} already exists`, [{ path: "name", message: "already taken" }]);
  if (table === "script_routes" && routes.length > 0) {
    const holders = await db
      .select({ method: scriptRoutes.method, scriptId: scriptRoutes.scriptId, name: scripts.name })
      .from(scriptRoutes)
      .innerJoin(scripts, eq(scripts.id, scriptRoutes.scriptId))
      .where(
        and(
          eq(scriptRoutes.tenantId, tenant.id),
          eq(scriptRoutes.routeKey, routes[0]!.routeKey),
          inArray(scriptRoutes.method, routes.map((r) => r.method)),
        ),
      );
    const taken = holders.map((h) => `${h.method} (script ${h.name})`).join(", ");
    return ApiError.conflict(`route ${routes[0]!.routeKey} is already served for ${taken}`, [
      { path: "trigger.path", message: "route already taken" },
    ]);
  }
  return error;
}

export async function createScript(db: Db, principal: Principal, tenant: TenantRow, body: z.infer<typeof createScriptBody>) {
  const snapshot: Snapshot = {
    source: body.source,
    language: body.language ?? "javascript",
    placement: body.placement ?? DEFAULT_PLACEMENT,
    trigger: parseTrigger(body.type, body.trigger),
    limits: body.limits ?? {},
  };
  await checkSnapshot(db, tenant, snapshot, { type: body.type, name: body.name });
  const now = Date.now();
  const actor = actorName(principal);
  const script: ScriptRow = {
    id: newId("scr", now),
    tenantId: tenant.id,
    name: body.name,
    description: body.description ?? "",
    type: body.type,
    status: body.status ?? "active",
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
  const version: ScriptVersionRow = {
    scriptId: script.id,
    version: 1,
    ...snapshot,
    sha256: await sha256Hex(snapshot.source),
    message: body.message ?? "",
    createdBy: actor,
    createdAt: now,
  };
  const routes = routeRows(tenant.id, script.id, script.type, script.status, snapshot.trigger);
  try {
    await db.batch([
      db.insert(scripts).values(script),
      db.insert(scriptVersions).values(version),
      ...insertRoutes(db, routes),
      auditInsert(db, { tenantId: tenant.id, actor, action: "script.create", targetType: "script", targetId: script.id, details: { name: script.name, version: 1 } }, now),
    ]);
  } catch (error) {
    throw await conflictFrom(db, error, tenant, script.name, routes);
  }
  return { script, version };
}

/** `If-Match` as a version number, `*` (any), or absent; anything else is a 400. */
export function parseIfMatch(header: string | undefined): number | "*" | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (value === "*") return "*";
  const match = /^(?:W\/"([1-9][0-9]{0,9})"|"([1-9][0-9]{0,9})"|([1-9][0-9]{0,9}))$/.exec(value);
  if (!match) {
    throw ApiError.invalid('If-Match must be a version such as "3", W/"3", 3 or *', [{ path: "If-Match", message: "malformed" }]);
  }
  return Number(match[1] ?? match[2] ?? match[3]);
}

function checkIfMatch(ifMatch: number | "*" | undefined, current: ScriptRow) {
  if (typeof ifMatch === "number" && ifMatch !== current.version) {
    throw new ApiError("version_mismatch", `script is at version ${current.version}, not ${ifMatch}`, {
      currentVersion: current.version,
    });
  }
}

function refuseArchived(script: ScriptRow) {
  if (script.status === "archived") {
    throw ApiError.conflict("script is archived; change its status to draft before editing it");
  }
}

/** Saves without If-Match retry this often when another save takes the next version first. */
const SAVE_ATTEMPTS = 5;

/**
 * Runs a save; when a racing save took the next version first, a caller that sent a
 * numeric If-Match gets the 412, and one that did not (or sent `*`) saves again on top.
 */
async function retryStaleSaves<T>(ifMatch: number | "*" | undefined, save: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await save();
    } catch (error) {
      const stale = error instanceof ApiError && error.code === "version_mismatch";
      if (!stale || typeof ifMatch === "number" || attempt >= SAVE_ATTEMPTS) throw error;
    }
  }
}

/**
 * PUT: `name`/`description` change in place; a changed source, language, trigger or limits
 * makes a new version. Racing saves are serialised by the database: the second insert of the same
 * (script, version) fails and its whole batch rolls back.
 */
export function updateScript(
  db: Db,
  principal: Principal,
  tenant: TenantRow,
  id: string,
  body: z.infer<typeof updateScriptBody>,
  ifMatch: number | "*" | undefined,
): Promise<LoadedScript> {
  return retryStaleSaves(ifMatch, async () => {
    const current = await loadScript(db, tenant, id);
    if (body.type !== undefined && body.type !== current.script.type) {
      throw ApiError.invalid("a script's type is fixed at creation", [{ path: "type", message: `is ${current.script.type}` }]);
    }
    checkIfMatch(ifMatch, current.script);
    refuseArchived(current.script);
    const next: Snapshot = {
      source: body.source ?? current.version.source,
      language: body.language ?? current.version.language,
      placement: body.placement ?? current.version.placement,
      trigger: body.trigger !== undefined ? parseTrigger(current.script.type, body.trigger) : current.version.trigger,
      limits: body.limits ?? current.version.limits,
    };
    const versioned =
      next.source !== current.version.source ||
      next.language !== current.version.language ||
      next.placement !== current.version.placement ||
      !jsonEqual(next.trigger, current.version.trigger) ||
      !jsonEqual(next.limits, current.version.limits);
    const names = { name: body.name ?? current.script.name, description: body.description ?? current.script.description };
    return save(db, principal, tenant, current, { names, next: versioned ? next : null, message: body.message ?? "", action: "script.update" });
  });
}

/** POST restore: a new version (latest + 1) equal to version `n`. */
export async function restoreVersion(
  db: Db,
  principal: Principal,
  tenant: TenantRow,
  id: string,
  n: number,
  ifMatch: number | "*" | undefined,
): Promise<LoadedScript> {
  const old = await loadVersion(db, tenant, id, n);
  return retryStaleSaves(ifMatch, async () => {
    const current = await loadScript(db, tenant, id);
    checkIfMatch(ifMatch, current.script);
    refuseArchived(current.script);
    const names = { name: current.script.name, description: current.script.description };
    const next: Snapshot = { source: old.source, language: old.language, placement: old.placement, trigger: old.trigger, limits: old.limits };
    return save(db, principal, tenant, current, { names, next, message: `Restored from version ${n}`, action: "script.restore" });
  });
}

interface Change {
  names: { name: string; description: string };
  /** The new version's content, or null when nothing versioned changed. */
  next: Snapshot | null;
  message: string;
  action: string;
}

/**
 * Writes a change in one D1 batch: the new version row (whose primary key makes a racing
 * save fail), the script row, its routes when the trigger moved, and the audit row.
 */
async function save(db: Db, principal: Principal, tenant: TenantRow, current: LoadedScript, change: Change): Promise<LoadedScript> {
  const { script } = current;
  const { names, next } = change;
  const renamed = names.name !== script.name || names.description !== script.description;
  if (!next && !renamed) return current;
  if (next) await checkSnapshot(db, tenant, next, { type: script.type, name: names.name });
  if (next) await refuseBreakingImporters(db, tenant, script, next);
  if (names.name !== script.name) await refuseWhileImported(db, tenant, script, "renamed");

  const now = Date.now();
  const actor = actorName(principal);
  const nextVersion = next ? script.version + 1 : script.version;
  const version: ScriptVersionRow = next
    ? { scriptId: script.id, version: nextVersion, ...next, sha256: await sha256Hex(next.source), message: change.message, createdBy: actor, createdAt: now }
    : current.version;
  const routes = routeRows(tenant.id, script.id, script.type, script.status, version.trigger);
  const routesMoved = next !== null && !jsonEqual(next.trigger, current.version.trigger);

  const statements: BatchItem<"sqlite">[] = [];
  if (next) statements.push(db.insert(scriptVersions).values(version));
  statements.push(
    db
      .update(scripts)
      .set({ ...names, version: nextVersion, updatedAt: now })
      .where(eq(scripts.id, script.id)),
  );
  if (routesMoved) statements.push(db.delete(scriptRoutes).where(eq(scriptRoutes.scriptId, script.id)), ...insertRoutes(db, routes));
  statements.push(
    auditInsert(db, { tenantId: tenant.id, actor, action: change.action, targetType: "script", targetId: script.id, details: { version: nextVersion, message: change.message, renamed } }, now),
  );
  try {
    await db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
  } catch (error) {
    if (uniqueViolation(error) === "script_versions") {
      throw new ApiError("version_mismatch", `script changed since version ${script.version}; reload and save again`);
    }
    throw await conflictFrom(db, error, tenant, names.name, routes);
  }
  return { script: { ...script, ...names, version: nextVersion, updatedAt: now }, version };
}

/**
 * Who may move a script from one status to another (API.md §6). Returns the refusal, or
 * null when allowed. Pure, so the whole table is tested.
 */
export function statusChangeRefusal(from: ScriptStatus, to: ScriptStatus, isAdmin: boolean): ApiError | null {
  if (from === to) return null;
  if (!isAdmin && (to === "disabled" || from === "disabled")) {
    return ApiError.forbidden("only the platform admin can disable a script or lift a disable");
  }
  if (from === "archived" && to !== "draft") {
    return ApiError.conflict("an archived script comes back only as draft");
  }
  return null;
}

export async function setStatus(db: Db, principal: Principal, tenant: TenantRow, id: string, to: ScriptStatus) {
  const current = await loadScript(db, tenant, id);
  const from = current.script.status;
  const refusal = statusChangeRefusal(from, to, principal.kind === "admin");
  if (refusal) throw refusal;
  if (from === to) return current;
  // A module leaving while active scripts import it (the admin may still disable one).
  if (!(principal.kind === "admin" && to === "disabled")) await refuseWhileImported(db, tenant, current.script, to === "archived" ? "archived" : `made ${to}`);

  const now = Date.now();
  const statements: BatchItem<"sqlite">[] = [
    db
      .update(scripts)
      .set({ status: to, updatedAt: now })
      .where(and(eq(scripts.id, id), eq(scripts.status, from))),
  ];
  const routes = routeRows(tenant.id, id, current.script.type, to, current.version.trigger);
  if (to === "archived") statements.push(db.delete(scriptRoutes).where(eq(scriptRoutes.scriptId, id)));
  if (from === "archived") statements.push(...insertRoutes(db, routes));
  statements.push(
    auditInsert(db, { tenantId: tenant.id, actor: actorName(principal), action: "script.status", targetType: "script", targetId: id, details: { from, to } }, now),
  );
  try {
    await db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
  } catch (error) {
    throw await conflictFrom(db, error, tenant, current.script.name, routes);
  }
  return { script: { ...current.script, status: to, updatedAt: now }, version: current.version };
}

// ---- versions ----

export async function listVersions(db: Db, tenant: TenantRow, id: string, limit: number, before?: number) {
  await loadScript(db, tenant, id);
  const rows = await db
    .select({
      version: scriptVersions.version,
      message: scriptVersions.message,
      createdAt: scriptVersions.createdAt,
      createdBy: scriptVersions.createdBy,
      sha256: scriptVersions.sha256,
    })
    .from(scriptVersions)
    .where(and(eq(scriptVersions.scriptId, id), before !== undefined ? lt(scriptVersions.version, before) : undefined))
    .orderBy(desc(scriptVersions.version))
    .limit(limit + 1);
  return pageOf(rows, limit, (row) => String(row.version));
}

export async function loadVersion(db: Db, tenant: TenantRow, id: string, n: number): Promise<ScriptVersionRow> {
  await loadScript(db, tenant, id);
  const row = await db
    .select()
    .from(scriptVersions)
    .where(and(eq(scriptVersions.scriptId, id), eq(scriptVersions.version, n)))
    .get();
  if (!row) throw ApiError.notFound(`version ${n}`);
  return row;
}

export function versionJson(row: ScriptVersionRow) {
  return {
    scriptId: row.scriptId,
    version: row.version,
    message: row.message,
    source: row.source,
    language: row.language,
    placement: row.placement,
    trigger: row.trigger,
    limits: row.limits,
    sha256: row.sha256,
    createdAt: new Date(row.createdAt).toISOString(),
    createdBy: row.createdBy,
  };
}
