import { createMiddleware } from "hono/factory";
import type { Scope } from "../domain/scopes";
import { secretsEqual } from "../lib/crypto";
import { findLiveKey, touchKey } from "../services/keys";
import { findTenantBySlug } from "../services/tenants";
import type { AppEnv } from "./context";
import { ApiError } from "./errors";

const unauthorized = (message: string) => new ApiError("unauthorized", message, undefined, { "WWW-Authenticate": "Bearer" });

/**
 * `Authorization: Bearer <token>` on every /api call (API.md §2): the platform admin's
 * `ADMIN_TOKEN`, or a live tenant key. Both are compared without timing leaks.
 */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const token = /^Bearer +(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
  if (!token) throw unauthorized("missing bearer token");
  const adminToken = c.env.ADMIN_TOKEN;
  if (adminToken && (await secretsEqual(token, adminToken))) {
    c.set("principal", { kind: "admin" });
    return next();
  }
  const found = await findLiveKey(c.var.db, token);
  if (!found) throw unauthorized("invalid or revoked token");
  c.set("principal", { kind: "key", keyId: found.key.id, tenant: found.tenant, scopes: found.key.scopes });
  c.executionCtx.waitUntil(touchKey(c.var.db, found.key).catch((error) => console.error("touchKey failed", error)));
  return next();
});

/** Platform routes (tenants and keys): the admin only. */
export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  if (c.var.principal.kind !== "admin") throw ApiError.forbidden("this route needs the platform admin token");
  return next();
});

/**
 * Tenant routes: picks the tenant (the key's own; the admin's `X-Tenant`) and checks the
 * scope. A key naming another tenant is a 403; the admin without `X-Tenant` a 400.
 */
export function tenantAccess(scope: Scope) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const principal = c.var.principal;
    const requested = c.req.header("x-tenant");
    if (principal.kind === "admin") {
      if (!requested) throw ApiError.invalid("the admin must name a tenant with X-Tenant", [{ path: "X-Tenant", message: "required" }]);
      const tenant = await findTenantBySlug(c.var.db, requested);
      if (!tenant) throw ApiError.notFound("tenant");
      c.set("tenant", tenant);
      return next();
    }
    if (requested !== undefined && requested !== principal.tenant.slug) throw ApiError.forbidden("a key acts on its own tenant only");
    if (!principal.scopes.includes(scope)) throw ApiError.forbidden(`this key lacks the ${scope} scope`);
    c.set("tenant", principal.tenant);
    return next();
  });
}
