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
import { checkModule, compileLinked, importedModuleNames, type ModuleLookup, type ModuleSource } from "../sandbox/modules";
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

/** The tenant's active scripts (other than `module` itself) whose latest version imports module `name`. */
async function importingRows(db: Db, tenantId: string, module: ScriptRow, name = module.name): Promise<ScriptAtVersion[]> {
  const rows = await scriptsAtLatest(db, and(eq(scripts.tenantId, tenantId), eq(scripts.status, "active"), ne(scripts.id, module.id)));
  const quoted = new RegExp(`["']\\./${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(\\.[tj]s)?["']`);
  return rows.filter((row) => quoted.test(row.version.source) && importedModuleNames(row.version.source, row.version.language).some((n) => n === name || n === `${name}.ts` || n === `${name}.js`));
}

/** The names of the tenant's active scripts (other than `module` itself) whose latest version imports module `name`. */
export async function importersOf(db: Db, tenantId: string, module: ScriptRow, name = module.name): Promise<string[]> {
  return (await importingRows(db, tenantId, module, name)).map((row) => row.script.name).sort();
}

/**
 * A new version of an active module must still serve every active script that imports it
 * (an export they use removed, a cycle closed through one of them): otherwise → 409 naming
 * each and why, and nothing is saved. Before, the save went through and the importers failed
 * at their next run with a compile error.
 */
export async function refuseBreakingImporters(db: Db, tenant: TenantRow, module: ScriptRow, next: { source: string; language: Language }) {
  if (module.type !== "module" || module.status !== "active") return;
  const importers = await importingRows(db, tenant.id, module);
  if (importers.length === 0) return;
  const current = moduleLookup(await activeModules(db, tenant.id));
  const lookup: ModuleLookup = (name) => (name === module.name ? { name, version: module.version + 1, source: next.source, language: next.language } : current(name));
  const problems = (row: ScriptAtVersion, modules: ModuleLookup) => {
    const { source, language } = row.version;
    if (row.script.type === "module") return checkModule(source, language, modules, row.script.name).diagnostics;
    const linked = compileLinked(source, language, modules);
    return linked.ok ? [] : linked.diagnostics;
  };
  const broken: Array<{ name: string; message: string }> = [];
  for (const row of importers) {
    const first = problems(row, lookup)[0];
    // An importer that does not compile with the module as it is now is not this save's doing.
    if (first && problems(row, current).length === 0) broken.push({ name: row.script.name, message: `${first.line}:${first.column} ${first.message}` });
  }
  if (broken.length > 0) {
    broken.sort((a, b) => a.name.localeCompare(b.name));
    throw ApiError.conflict(`module ${module.name} cannot be saved: active scripts that import it would no longer compile (${broken.map((b) => `${b.name}: ${b.message}`).join("; ")})`, { importers: broken });
  }
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
