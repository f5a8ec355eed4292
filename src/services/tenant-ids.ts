import type { Db } from "../db/client";
import { findTenantBySlug, SLUG } from "./tenants";

/**
 * Slug → tenant id, per isolate, for the hot paths (tenant endpoints, the queue consumer):
 * slugs never change, so a known slug is cached for good; an unknown one is remembered
 * briefly, so a tenant created a moment ago is found within seconds.
 */
const cache = new Map<string, { id: string | null; until: number }>();
const UNKNOWN_TENANT_TTL_MS = 5_000;
const MAX_CACHED_TENANTS = 10_000;

export async function tenantIdFor(db: Db, slug: string): Promise<string | null> {
  const cached = cache.get(slug);
  if (cached && (cached.id !== null || cached.until > Date.now())) return cached.id;
  const tenant = SLUG.test(slug) ? await findTenantBySlug(db, slug) : undefined;
  if (cache.size >= MAX_CACHED_TENANTS) cache.clear();
  cache.set(slug, { id: tenant?.id ?? null, until: Date.now() + UNKNOWN_TENANT_TTL_MS });
  return tenant?.id ?? null;
}
