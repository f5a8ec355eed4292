import { type Context, Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { z } from "zod";
import { ApiError } from "../../domain/errors";
import { TAIL_STATUSES, type TailFilter } from "../../observability/tail";
import { TENANT_SCOPE } from "../../observability/rollup";
import type { MetricsWindow } from "../../observability/window";
import { requireScript, tenantExists, windowOrRefuse } from "../../services/observability";
import { runnerFor } from "../../services/runner";
import { isScriptId } from "../../services/scripts";
import { parseTicket } from "../../tenant/tails";
import { tenantAccess } from "../auth";
import type { AppEnv } from "../context";
import { readQuery as readAnyQuery } from "../query";
import { isoTimestamp } from "./executions";

/**
 * Observability (API.md §15): metrics of a script and of the tenant, the busiest and most
 * failing scripts, and the live tail (SSE, or a WebSocket opened with a ticket). All read
 * from the tenant's cell; all need `executions:read`. Unknown query parameters are a 400.
 */
export const metricsRoutes = new Hono<AppEnv>();
export const scriptMetricsRoutes = new Hono<AppEnv>();
export const tailRoutes = new Hono<AppEnv>();

const read = tenantAccess("executions:read");

const windowQuery = z.strictObject({
  from: isoTimestamp.optional(),
  to: isoTimestamp.optional(),
  step: z.enum(["minute", "hour"]).optional(),
});

/** The query, refusing parameters the endpoint does not know, each named (a typo must not pass as the default). */
function readQuery<S extends z.ZodObject>(c: Context, schema: S): z.output<S> {
  const unknown = Object.keys(c.req.query()).filter((name) => !(name in schema.shape));
  if (unknown.length > 0) throw ApiError.invalid("unknown query parameters", unknown.map((path) => ({ path, message: `unknown parameter; known: ${Object.keys(schema.shape).join(", ")}` })));
  return readAnyQuery(c, schema);
}

/** `{from, to, step, points}`, the points as the cell wrote them (JSON text, passed through). */
function answer(c: Context, window: MetricsWindow, pointsJson: string) {
  const head = JSON.stringify({ from: new Date(window.from).toISOString(), to: new Date(window.to).toISOString(), step: window.step });
  return c.body(`${head.slice(0, -1)},"points":${pointsJson}}`, 200, { "content-type": "application/json; charset=utf-8" });
}

scriptMetricsRoutes.get("/:id/metrics", read, async (c) => {
  const window = windowOrRefuse(readQuery(c, windowQuery));
  const id = c.req.param("id");
  await requireScript(c.var.db, c.var.tenant.id, id);
  return answer(c, window, await runnerFor(c.env, c.var.tenant.id).metricsJson(id, window));
});

metricsRoutes.get("/", read, async (c) => {
  const window = windowOrRefuse(readQuery(c, windowQuery));
  return answer(c, window, await runnerFor(c.env, c.var.tenant.id).metricsJson(TENANT_SCOPE, window));
});

const totalsQuery = windowQuery.extend({
  sort: z.enum(["invocations", "errors"]).optional(),
  limit: z.coerce.number({ error: "must be a number" }).int().min(1).max(100).optional(),
});

/** The tenant overview: each script's totals over the window, the busiest (or, `sort=errors`, the most failing) first. */
metricsRoutes.get("/scripts", read, async (c) => {
  const query = readQuery(c, totalsQuery);
  const window = windowOrRefuse(query);
  const items = await runnerFor(c.env, c.var.tenant.id).scriptTotals(window, query.sort ?? "invocations", query.limit ?? 10);
  return c.json({ from: new Date(window.from).toISOString(), to: new Date(window.to).toISOString(), step: window.step, items });
});

const statusList = z
  .string()
  .transform((value) => value.split(","))
  .pipe(z.array(z.enum(TAIL_STATUSES, { error: `each status must be one of ${TAIL_STATUSES.join(", ")}` })).min(1));

const tailQuery = z.strictObject({
  scriptId: z.string().refine(isScriptId, "must be a script id").optional(),
  status: statusList.optional(),
  level: z.enum(["debug", "info", "warn", "error"]).optional(),
});

function filterOf(query: z.output<typeof tailQuery>): TailFilter {
  return {
    ...(query.scriptId !== undefined && { scriptId: query.scriptId }),
    ...(query.status !== undefined && { statuses: [...new Set(query.status)] }),
    ...(query.level !== undefined && { level: query.level }),
  };
}

/**
 * `GET /api/tail`: Server-Sent Events (`event: execution` per finished execution), or with
 * `Upgrade: websocket` the same as WebSocket messages. Through the bearer token; a browser's
 * WebSocket uses a ticket instead (below).
 */
tailRoutes.get("/", read, async (c) => {
  const query = readQuery(c, tailQuery);
  if (query.scriptId !== undefined) await requireScript(c.var.db, c.var.tenant.id, query.scriptId);
  return runnerFor(c.env, c.var.tenant.id).tail(c.req.raw, filterOf(query));
});

/** `POST /api/tail/tickets` → 201 `{ticket, expiresAt}`: opens one WebSocket tail within 60 s. */
tailRoutes.post("/tickets", read, async (c) => c.json(await runnerFor(c.env, c.var.tenant.id).issueTailTicket(), 201));

/**
 * `GET /api/tail?ticket=…` with `Upgrade: websocket`: a browser's tail, which cannot carry a
 * bearer token. Mounted before the API's authentication; without a ticket it passes the
 * request on. The cell redeems the ticket (once, within 60 s); a bad one is a 401.
 */
export const tailByTicket = createMiddleware<AppEnv>(async (c, next) => {
  const ticket = c.req.query("ticket");
  if (ticket === undefined) return next();
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") throw ApiError.invalid("a ticket opens a WebSocket tail only", [{ path: "ticket", message: "needs Upgrade: websocket" }]);
  const query = readQuery(c, tailQuery.extend({ ticket: z.string() }));
  const parsed = parseTicket(ticket);
  // A forged tenant part must not reach (and so create) a cell.
  if (!parsed || !(await tenantExists(c.var.db, parsed.tenantId))) throw new ApiError("unauthorized", "the tail ticket is unknown, used or expired");
  if (query.scriptId !== undefined) await requireScript(c.var.db, parsed.tenantId, query.scriptId);
  return runnerFor(c.env, parsed.tenantId).tail(c.req.raw, filterOf(query), ticket);
});
