import { Hono } from "hono";
import { z } from "zod";
import { isId } from "../../lib/ids";
import { isTraceId } from "../../observability/trace";
import { decodeCursor, encodeCursor, limitParam } from "../../services/pagination";
import { runnerFor } from "../../services/runner";
import { tenantAccess } from "../auth";
import type { AppEnv } from "../context";
import { ApiError } from "../errors";
import { readQuery } from "../query";

/** Executions (API.md §7) and usage (§8): read from the tenant's runner over RPC. */
export const executionRoutes = new Hono<AppEnv>();
export const usageRoutes = new Hono<AppEnv>();

const read = tenantAccess("executions:read");

/** An ISO 8601 date or date-time. */
export const isoTimestamp = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/, "must be an ISO 8601 date or date-time")
  .refine((value) => !Number.isNaN(Date.parse(value)), "must be a valid date")
  .transform((value) => Date.parse(value));

const listQuery = z.object({
  scriptId: z.string().max(64).optional(),
  status: z.enum(["pending", "running", "completed", "failed", "timeout", "cancelled"]).optional(),
  trigger: z.enum(["http", "event", "scheduled", "manual"]).optional(),
  since: isoTimestamp.optional(),
  limit: limitParam(200, 50),
  cursor: z.string().optional(),
  traceId: z.string().refine(isTraceId, "must be a W3C trace id: 32 lower-case hex digits, not all zero").optional(),
});

executionRoutes.get("/", read, async (c) => {
  const query = readQuery(c, listQuery);
  const tenant = c.var.tenant;
  const before = query.cursor ? decodeCursor(query.cursor, (key) => isId("exe", key)) : undefined;
  const rows = await runnerFor(c.env, tenant.id).listExecutions({
    scriptId: query.scriptId,
    status: query.status,
    trigger: query.trigger,
    since: query.since,
    before,
    traceId: query.traceId,
    limit: query.limit,
  });
  const items = rows.slice(0, query.limit);
  const last = items.at(-1);
  return c.json({ items, nextCursor: rows.length > query.limit && last ? encodeCursor(last.id) : null });
});

executionRoutes.get("/:id", read, async (c) => {
  const tenant = c.var.tenant;
  const id = c.req.param("id");
  const execution = isId("exe", id) ? await runnerFor(c.env, tenant.id).getExecution(id) : null;
  if (!execution) throw ApiError.notFound("execution");
  return c.json(execution);
});

usageRoutes.get("/", read, async (c) => {
  const tenant = c.var.tenant;
  return c.json(await runnerFor(c.env, tenant.id).usage());
});
