import { Hono } from "hono";
import { z } from "zod";
import { limitParam } from "../../services/pagination";
import { listRejectedMessages } from "../../services/rejected-messages";
import { requireAdmin } from "../auth";
import type { AppEnv } from "../context";
import { readQuery } from "../query";

/** `GET /api/rejected-messages` (admin): queue messages that named no known tenant. */
export const rejectedRoutes = new Hono<AppEnv>();

rejectedRoutes.get("/", requireAdmin, async (c) => {
  const query = readQuery(c, z.object({ limit: limitParam(200, 50), before: z.coerce.number().int().positive().optional() }));
  return c.json({ items: await listRejectedMessages(c.var.db, query) });
});
