import { asc, eq, gt } from "drizzle-orm";
import { z } from "zod";
import { type Db, uniqueViolation } from "../db/client";
import { tenants, type TenantRow } from "../db/schema";
import { mergeOverrides, tenantLimits, tenantLimitsPatch } from "../domain/limits";
import { ApiError } from "../domain/errors";
import { newId } from "../lib/ids";
import { actorName, type Principal } from "./actor";
import { auditInsert } from "./audit";
import { type Page, pageOf } from "./pagination";

export const SLUG = /^[a-z][a-z0-9-]{1,38}$/;

/** `api.example.com` or `*.example.com`; null (the default) allows any public host. */
const allowedHosts = z
  .array(z.string().regex(/^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, "must be a host name such as api.example.com or *.example.com"))
  .max(100)
  .nullable();

export const createTenantBody = z.strictObject({
  slug: z.string().regex(SLUG, "must match ^[a-z][a-z0-9-]{1,38}$"),
  name: z.string().min(1).max(200),
  limits: tenantLimitsPatch.optional(),
  allowedHosts: allowedHosts.optional(),
});

export const updateTenantBody = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  limits: tenantLimitsPatch.optional(),
  allowedHosts: allowedHosts.optional(),
});

/** The tenant as the API shows it: limits complete, defaults filled in (API.md §5). */
export function tenantJson(row: TenantRow) {
  return {
    slug: row.slug,
    name: row.name,
    limits: tenantLimits(row.limits),
    allowedHosts: row.allowedHosts ?? null,
    createdAt: new Date(row.createdAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
  };
}

export async function createTenant(db: Db, principal: Principal, body: z.infer<typeof createTenantBody>) {
  const now = Date.now();
  const row: TenantRow = {
    id: newId("ten", now),
    slug: body.slug,
    name: body.name,
    limits: mergeOverrides({}, body.limits ?? {}),
    allowedHosts: body.allowedHosts ?? null,
    createdAt: now,
    updatedAt: now,
  };
  try {
    await db.batch([
      db.insert(tenants).values(row),
      auditInsert(db, {
        tenantId: row.id,
        actor: actorName(principal),
        action: "tenant.create",
        targetType: "tenant",
        targetId: row.slug,
        details: { name: row.name, limits: row.limits },
      }),
    ]);
  } catch (error) {
    if (uniqueViolation(error) === "tenants") throw ApiError.conflict(`tenant ${body.slug} already exists`);
    throw error;
  }
  return row;
}

export async function listTenants(db: Db, limit: number, cursor: string | undefined): Promise<Page<TenantRow>> {
  const rows = await db
    .select()
    .from(tenants)
    .where(cursor ? gt(tenants.id, cursor) : undefined)
    .orderBy(asc(tenants.id))
    .limit(limit + 1);
  return pageOf(rows, limit, (row) => row.id);
}

export async function findTenantBySlug(db: Db, slug: string): Promise<TenantRow | undefined> {
  if (!SLUG.test(slug)) return undefined;
  return db.select().from(tenants).where(eq(tenants.slug, slug)).get();
}

export async function getTenantBySlug(db: Db, slug: string): Promise<TenantRow> {
  const row = await findTenantBySlug(db, slug);
  if (!row) throw ApiError.notFound("tenant");
  return row;
}

export async function updateTenant(db: Db, principal: Principal, slug: string, body: z.infer<typeof updateTenantBody>) {
  const current = await getTenantBySlug(db, slug);
  const next: TenantRow = {
    ...current,
    name: body.name ?? current.name,
    limits: mergeOverrides(current.limits, body.limits ?? {}),
    allowedHosts: body.allowedHosts === undefined ? current.allowedHosts : body.allowedHosts,
    updatedAt: Date.now(),
  };
  await db.batch([
    db.update(tenants).set({ name: next.name, limits: next.limits, allowedHosts: next.allowedHosts, updatedAt: next.updatedAt }).where(eq(tenants.id, current.id)),
    auditInsert(db, {
      tenantId: current.id,
      actor: actorName(principal),
      action: "tenant.update",
      targetType: "tenant",
      targetId: slug,
      details: { name: body.name, limits: body.limits, allowedHosts: body.allowedHosts },
    }),
  ]);
  return next;
}
