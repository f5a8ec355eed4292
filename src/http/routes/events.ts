import { Hono } from "hono";
import { z } from "zod";
import { EVENT_TYPE } from "../../domain/triggers";
import { MAX_EVENT_PAYLOAD_BYTES, payloadBytes } from "../../events/messages";
import { isId } from "../../lib/ids";
import { decodeCursor, encodeCursor, limitParam } from "../../services/pagination";
import { runnerFor } from "../../services/runner";
import { MAX_BULK_REPLAY } from "../../tenant/runner";
import { tenantAccess } from "../auth";
import { readJson } from "../body";
import type { AppEnv } from "../context";
import { ApiError } from "../errors";
import { readQuery } from "../query";
import { isoTimestamp } from "./executions";

/** Events (API.md §10): publish one, see where it went. */
export const eventRoutes = new Hono<AppEnv>();
/** Dead letters (API.md §10): list, look, replay (one, many), delete. */
export const deadLetterRoutes = new Hono<AppEnv>();

const publishBody = z.strictObject({
  type: z.string().max(200).regex(EVENT_TYPE, "must look like order.created: lower-case words joined by dots"),
  payload: z.json().optional(),
  idempotencyKey: z.string().min(1).max(200).optional(),
});

/**
 * 202 `{eventId}`; the same idempotency key within 24 h answers the first id with
 * `Idempotent-Replayed: true`. A payload over 100 KB as JSON is a 413: the queue could not carry it.
 */
eventRoutes.post("/", tenantAccess("events:publish"), async (c) => {
  const body = await readJson(c, publishBody);
  const bytes = payloadBytes(body.payload);
  if (bytes > MAX_EVENT_PAYLOAD_BYTES) {
    throw new ApiError("payload_too_large", `the payload is ${bytes} bytes as JSON; an event's payload may take at most ${MAX_EVENT_PAYLOAD_BYTES}`, [{ path: "payload", message: `at most ${MAX_EVENT_PAYLOAD_BYTES} bytes` }]);
  }
  const tenant = c.var.tenant;
  const traceparent = c.req.header("traceparent");
  const accepted = await runnerFor(c.env, tenant.id).acceptEvent({ type: body.type, payload: body.payload ?? null, idempotencyKey: body.idempotencyKey, ...(traceparent !== undefined && { traceparent }) });
  return c.json({ eventId: accepted.eventId }, 202, accepted.replayed ? { "Idempotent-Replayed": "true" } : {});
});

eventRoutes.get("/:id", tenantAccess("executions:read"), async (c) => {
  const id = c.req.param("id");
  const event = isId("evt", id) ? await runnerFor(c.env, c.var.tenant.id).getEvent(id) : null;
  if (!event) throw ApiError.notFound("event");
  return c.json(event);
});

const read = tenantAccess("executions:read");
const manage = tenantAccess("dlq:manage");
const isDeadLetterId = (value: string) => isId("dlq", value);

const listQuery = z.object({
  scriptId: z.string().max(64).optional(),
  since: isoTimestamp.optional(),
  replayed: z.enum(["true", "false"]).optional(),
  limit: limitParam(200, 50),
  cursor: z.string().optional(),
});

deadLetterRoutes.get("/", read, async (c) => {
  const query = readQuery(c, listQuery);
  const rows = await runnerFor(c.env, c.var.tenant.id).listDeadLetters({
    scriptId: query.scriptId,
    since: query.since,
    replayed: query.replayed === undefined ? undefined : query.replayed === "true",
    before: query.cursor ? decodeCursor(query.cursor, isDeadLetterId) : undefined,
    limit: query.limit,
  });
  const items = rows.slice(0, query.limit);
  return c.json({ items, nextCursor: rows.length > query.limit ? encodeCursor(items.at(-1)!.id) : null });
});

const bulkBody = z
  .strictObject({
    ids: z.array(z.string().refine(isDeadLetterId, "must be a dead letter id")).min(1).max(MAX_BULK_REPLAY).optional(),
    scriptId: z.string().max(64).optional(),
    since: isoTimestamp.optional(),
  })
  .refine((body) => body.ids !== undefined || body.scriptId !== undefined, { message: "give ids, or a scriptId (and optionally since)" })
  .refine((body) => body.ids === undefined || (body.scriptId === undefined && body.since === undefined), { message: "give ids, or a scriptId and since, not both" });

/** Bulk replay: by ids, or every dead letter of a script (since a time); at most 500 a call. */
deadLetterRoutes.post("/replay", manage, async (c) => {
  const body = await readJson(c, bulkBody);
  const replayed = await runnerFor(c.env, c.var.tenant.id).replayDeadLetters(body);
  return c.json({ replayed }, 202);
});

deadLetterRoutes.get("/:id", read, async (c) => {
  const id = c.req.param("id");
  const letter = isDeadLetterId(id) ? await runnerFor(c.env, c.var.tenant.id).getDeadLetter(id) : null;
  if (!letter) throw ApiError.notFound("dead letter");
  return c.json(letter);
});

deadLetterRoutes.post("/:id/replay", manage, async (c) => {
  const id = c.req.param("id");
  const letter = isDeadLetterId(id) ? await runnerFor(c.env, c.var.tenant.id).replayDeadLetter(id) : null;
  if (!letter) throw ApiError.notFound("dead letter");
  return c.json(letter, 202);
});

deadLetterRoutes.delete("/:id", manage, async (c) => {
  const id = c.req.param("id");
  const deleted = isDeadLetterId(id) && (await runnerFor(c.env, c.var.tenant.id).deleteDeadLetter(id));
  if (!deleted) throw ApiError.notFound("dead letter");
  return c.body(null, 204);
});
