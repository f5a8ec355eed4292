/**
 * Catalogue queries used in more than one place, each written once: the services (API)
 * and the tenant cell's cached catalogue both read scripts through these.
 */
import { and, eq, type SQL } from "drizzle-orm";
import type { Db } from "./client";
import { scripts, scriptVersions, type ScriptRow, type ScriptVersionRow } from "./schema";

export interface ScriptAtVersion {
  script: ScriptRow;
  version: ScriptVersionRow;
}

/** Joins each script to its latest version. */
const atLatestVersion = and(eq(scriptVersions.scriptId, scripts.id), eq(scriptVersions.version, scripts.version));

/** Scripts at their latest version matching `where` (a select to finish: order, limit, get). */
export function scriptsAtLatest(db: Db, where: SQL | undefined) {
  return db.select({ script: scripts, version: scriptVersions }).from(scripts).innerJoin(scriptVersions, atLatestVersion).where(where);
}

/** A tenant's script at `version`, or at its latest when none is given; undefined when there is none. */
export async function scriptAt(db: Db, tenantId: string, scriptId: string, version?: number): Promise<ScriptAtVersion | undefined> {
  if (version === undefined) return scriptsAtLatest(db, and(eq(scripts.id, scriptId), eq(scripts.tenantId, tenantId))).get();
  return db
    .select({ script: scripts, version: scriptVersions })
    .from(scripts)
    .innerJoin(scriptVersions, eq(scriptVersions.scriptId, scripts.id))
    .where(and(eq(scripts.id, scriptId), eq(scripts.tenantId, tenantId), eq(scriptVersions.version, version)))
    .get();
}

/**
 * A tenant's importable modules (API.md §13): its active `module` scripts at their latest
 * versions, by name. Another tenant's modules are never in it.
 */
export async function activeModules(db: Db, tenantId: string): Promise<Map<string, ScriptAtVersion>> {
  const rows = await scriptsAtLatest(db, and(eq(scripts.tenantId, tenantId), eq(scripts.type, "module"), eq(scripts.status, "active")));
  return new Map(rows.map((row) => [row.script.name, row]));
}
