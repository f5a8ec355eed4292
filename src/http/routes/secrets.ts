import { invalidateTenant } from "../../services/invalidate";
import { Hono } from "hono";
import { deleteSecret, listSecrets, putSecret, putSecretBody } from "../../services/secrets";
import { tenantAccess } from "../auth";
import { readJson } from "../body";
import type { AppEnv } from "../context";

/** Secrets by name (API.md §9): values go in, never come out. */
export const secretRoutes = new Hono<AppEnv>();

secretRoutes.use("*", tenantAccess("secrets:manage"));

secretRoutes.get("/", async (c) => c.json({ items: await listSecrets(c.var.db, c.var.tenant) }));

secretRoutes.put("/:name", async (c) => {
  const { value } = await readJson(c, putSecretBody);
  await putSecret(c.var.db, c.env, c.var.principal, c.var.tenant, c.req.param("name"), value);
  await invalidateTenant(c.env, c.var.tenant.id, { secrets: true });
  return c.body(null, 204);
});

secretRoutes.delete("/:name", async (c) => {
  await deleteSecret(c.var.db, c.var.principal, c.var.tenant, c.req.param("name"));
  await invalidateTenant(c.env, c.var.tenant.id, { secrets: true });
  return c.body(null, 204);
});
