/**
 * Modules and packages at save (API.md §13): a source's imports are checked against the
 * tenant's active modules and the allowed packages before anything is written, and a
 * module that active scripts import cannot leave (archive, pause, rename) under them.
 */
import { and, eq, ne } from "drizzle-orm";
import type { Db } from "../db/client";
import { activeModules, scriptsAtLatest, type ScriptAtVersion } from "../db/queries";
import { scripts, type ScriptRow, type TenantRow } from "../db/schema";
import { ApiError } from "../domain/errors";
import { tenantLimits } from "../domain/limits";
import type { ScriptType } from "../domain/triggers";
import type { Diagnostic } from "../sandbox/compile";
import { importedModuleNames, type ModuleLookup, type ModuleSource } from "../sandbox/modules";
import type { Language } from "../sandbox/typescript";

/** A lookup over rows of `activeModules`. */
export function moduleLookup(modules: Map<string, ScriptAtVersion>): ModuleLookup {
  return (name) => {
    const row = modules.get(name);
    return row && { name, version: row.version.version, source: row.version.source, language: row.version.language };
  };
}

/** The tenant's modules as a lookup for checking a source at save. */
export async function tenantModuleLookup(db: Db, tenantId: string): Promise<ModuleLookup> {
  return moduleLookup(await activeModules(db, tenantId));
}

/** The source of a script plus its modules over the tenant's `sourceBytes` → 413. */
export function checkTotalSourceSize(tenant: TenantRow, totalBytes: number) {
  const limit = tenantLimits(tenant.limits).sourceBytes;
  if (totalBytes > limit) {
    throw new ApiError("payload_too_large", `the script and the modules it imports are ${totalBytes} bytes; this tenant's sourceBytes limit is ${limit}`);
  }
}

/** The names of the tenant's active scripts (other than `module` itself) whose latest version imports module `name`. */
export async function importersOf(db: Db, tenantId: string, module: ScriptRow, name = module.name): Promise<string[]> {
  const rows = await scriptsAtLatest(db, and(eq(scripts.tenantId, tenantId), eq(scripts.status, "active"), ne(scripts.id, module.id)));
  const quoted = new RegExp(`["']\\./${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(\\.[tj]s)?["']`);
  return rows
    .filter((row) => quoted.test(row.version.source) && importedModuleNames(row.version.source, row.version.language).some((n) => n === name || n === `${name}.ts` || n === `${name}.js`))
    .map((row) => row.script.name)
    .sort();
}

/**
 * A module leaving what scripts can import (archived, paused, disabled, renamed) while active
 * scripts import it → 409 naming them. The platform admin may still disable one: its
 * importers then fail with a compile error naming it until it is back.
 */
export async function refuseWhileImported(db: Db, tenant: TenantRow, script: ScriptRow, what: string) {
  if (script.type !== "module" || script.status !== "active") return;
  const importers = await importersOf(db, tenant.id, script);
  if (importers.length > 0) {
    throw ApiError.conflict(`module ${script.name} cannot be ${what}: active scripts import it (${importers.join(", ")})`, { importers });
  }
}

export type { Diagnostic, Language, ModuleSource, ScriptType };
