import { Hono } from "hono";
import { findTenantBySlug } from "../../services/tenants";
import type { AppEnv } from "../context";
import { ApiError } from "../errors";

/**
 * `GET /api/whoami` (API.md §12): who is signed in, on which tenant, and where that tenant's
 * endpoints answer, so a client (the admin UI) can show a script's public URL. Any valid
 * token; no scope needed. The admin names the tenant with `X-Tenant`.
 */
export const whoamiRoutes = new Hono<AppEnv>();

whoamiRoutes.get("/", async (c) => {
  const principal = c.var.principal;
  let tenant;
  if (principal.kind === "admin") {
    const requested = c.req.header("x-tenant");
    if (!requested) throw ApiError.invalid("the admin must name a tenant with X-Tenant", [{ path: "X-Tenant", message: "required" }]);
    tenant = await findTenantBySlug(c.var.db, requested);
    if (!tenant) throw ApiError.notFound("tenant");
  } else {
    const requested = c.req.header("x-tenant");
    if (requested !== undefined && requested !== principal.tenant.slug) throw ApiError.forbidden("a key acts on its own tenant only");
    tenant = principal.tenant;
  }
  const url = new URL(c.req.url);
  const domain = (c.env.TENANT_DOMAIN ?? "").trim().replace(/^\.+|\.+$/g, "");
  return c.json({
    principal: principal.kind,
    scopes: principal.kind === "admin" ? null : principal.scopes,
    tenant: { slug: tenant.slug, name: tenant.name },
    endpoints: {
      path: `${url.origin}/t/${tenant.slug}`,
      host: domain ? `${url.protocol}//${tenant.slug}.${domain}${url.port ? `:${url.port}` : ""}` : null,
    },
  });
});
