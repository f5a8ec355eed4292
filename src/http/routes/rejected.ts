import { desc, lt } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import { rejectedMessages } from "../../db/schema";
import { limitParam } from "../../services/pagination";
import { requireAdmin } from "../auth";
import type { AppEnv } from "../context";
import { readQuery } from "../query";

/** `GET /api/rejected-messages` (admin): queue messages that named no known tenant. */
export const rejectedRoutes = new Hono<AppEnv>();

rejectedRoutes.get("/", requireAdmin, async (c) => {
  const query = readQuery(c, z.object({ limit: limitParam(200, 50), before: z.coerce.number().int().positive().optional() }));
  const rows = await c.var.db
    .select()
    .from(rejectedMessages)
    .where(query.before ? lt(rejectedMessages.id, query.before) : undefined)
    .orderBy(desc(rejectedMessages.id))
    .limit(query.limit);
  return c.json({ items: rows.map((row) => ({ ...row, receivedAt: new Date(row.receivedAt).toISOString() })) });
});
