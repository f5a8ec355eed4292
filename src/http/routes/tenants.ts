import { invalidateTenant } from "../../services/invalidate";
import { Hono } from "hono";
import { z } from "zod";
import { createKey, createKeyBody, listKeys, revokeKey } from "../../services/keys";
import { decodeCursor, limitParam } from "../../services/pagination";
import {
  createTenant,
  createTenantBody,
  getTenantBySlug,
  listTenants,
  tenantJson,
  updateTenant,
  updateTenantBody,
} from "../../services/tenants";
import { isId } from "../../lib/ids";
import { requireAdmin } from "../auth";
import { readJson } from "../body";
import type { AppEnv } from "../context";
import { readQuery } from "../query";

/** Tenants and their keys (API.md §5): the platform admin's routes. */
export const tenantRoutes = new Hono<AppEnv>();

tenantRoutes.use("*", requireAdmin);

tenantRoutes.post("/", async (c) => {
  const body = await readJson(c, createTenantBody);
  return c.json(tenantJson(await createTenant(c.var.db, c.var.principal, body)), 201);
});

const listQuery = z.object({ limit: limitParam(200, 100), cursor: z.string().optional() });

tenantRoutes.get("/", async (c) => {
  const query = readQuery(c, listQuery);
  const after = query.cursor ? decodeCursor(query.cursor, (key) => isId("ten", key)) : undefined;
  const page = await listTenants(c.var.db, query.limit, after);
  return c.json({ items: page.items.map(tenantJson), nextCursor: page.nextCursor });
});

tenantRoutes.get("/:slug", async (c) => c.json(tenantJson(await getTenantBySlug(c.var.db, c.req.param("slug")))));

tenantRoutes.patch("/:slug", async (c) => {
  const body = await readJson(c, updateTenantBody);
  const tenant = await updateTenant(c.var.db, c.var.principal, c.req.param("slug"), body);
  // The runner re-reads the limits on the next execution.
  await invalidateTenant(c.env, tenant.id, { tenant: true });
  return c.json(tenantJson(tenant));
});

tenantRoutes.post("/:slug/keys", async (c) => {
  const tenant = await getTenantBySlug(c.var.db, c.req.param("slug"));
  const body = await readJson(c, createKeyBody);
  return c.json(await createKey(c.var.db, c.var.principal, tenant, body), 201);
});

tenantRoutes.get("/:slug/keys", async (c) => {
  const tenant = await getTenantBySlug(c.var.db, c.req.param("slug"));
  return c.json({ items: await listKeys(c.var.db, tenant) });
});

tenantRoutes.delete("/:slug/keys/:id", async (c) => {
  const tenant = await getTenantBySlug(c.var.db, c.req.param("slug"));
  await revokeKey(c.var.db, c.var.principal, tenant, c.req.param("id"));
  return c.body(null, 204);
});
