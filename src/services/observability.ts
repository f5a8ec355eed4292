/**
 * What the observability routes need besides the cell (API.md §15): whether a script is the
 * tenant's (another tenant's is a 404), and the metrics window a query asks for, refused in
 * the §3 envelope when the rollups cannot answer it.
 */
import { and, eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { scripts, tenants } from "../db/schema";
import { ApiError } from "../domain/errors";
import { metricsWindow, type MetricsWindow, type WindowQuery } from "../observability/window";
import { isScriptId } from "./scripts";

/** 404 unless `id` is a script of the tenant (any status: an archived script's history stays readable). */
export async function requireScript(db: Db, tenantId: string, id: string): Promise<void> {
  const found = isScriptId(id) ? await db.select({ id: scripts.id }).from(scripts).where(and(eq(scripts.id, id), eq(scripts.tenantId, tenantId))).get() : undefined;
  if (!found) throw ApiError.notFound("script");
}

/** Whether a tenant with this id exists (a ticket's tenant part must name one before a cell is asked). */
export async function tenantExists(db: Db, tenantId: string): Promise<boolean> {
  return (await db.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, tenantId)).get()) !== undefined;
}

export function windowOrRefuse(query: WindowQuery, now = Date.now()): MetricsWindow {
  const result = metricsWindow(query, now);
  if ("problems" in result) throw ApiError.invalid("the metrics window cannot be answered", result.problems);
  return result.window;
}
