/**
 * The tenants this Worker isolate serves at the edge, in module scope (one per isolate, like
 * the sandbox pool), so their caches, leases and report batches outlive a request.
 */
import { EdgeTenant } from "./tenant";

const tenants = new Map<string, EdgeTenant>();
/** Tenants kept at most; past this the least recently used one is forgotten (its leases expire at the cell). */
const MAX_TENANTS = 1_000;

export function edgeTenant(env: Env, tenantId: string): EdgeTenant {
  let tenant = tenants.get(tenantId);
  if (tenant) {
    // Most recently used last.
    tenants.delete(tenantId);
  } else {
    tenant = new EdgeTenant(env, tenantId);
    if (tenants.size >= MAX_TENANTS) tenants.delete(tenants.keys().next().value!);
  }
  tenants.set(tenantId, tenant);
  return tenant;
}

/** A write this isolate handled for the tenant: its edge caches here are dropped at once. */
export function invalidateEdge(tenantId: string) {
  tenants.get(tenantId)?.invalidate();
}
