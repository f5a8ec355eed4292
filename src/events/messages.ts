/**
 * The messages on the `iota-events` queue (API.md §10), as zod schemas: the source of their
 * types, and the check every message passes before the consumer acts on it.
 */
import { z } from "zod";
import { EVENT_TYPE } from "../domain/triggers";

const slug = z.string().regex(/^[a-z][a-z0-9-]{1,38}$/);

/**
 * An event to fan out. Services may send `{kind, tenant, type, payload, idempotencyKey?}`
 * themselves; the API and scripts also set `id`, `depth`, `publishedAt` and `source`.
 */
export const eventMessage = z.object({
  kind: z.literal("event"),
  tenant: slug,
  type: z.string().max(200).regex(EVENT_TYPE),
  payload: z.json(),
  idempotencyKey: z.string().min(1).max(200).optional(),
  id: z.string().regex(/^evt_[0-9A-Z]{26}$/).optional(),
  depth: z.number().int().min(0).max(100).optional(),
  publishedAt: z.number().int().optional(),
  source: z.string().max(200).optional(),
});
export type EventMessage = z.infer<typeof eventMessage>;

/** One event for one subscribed script: run it (the consumer's unit of retry). */
export const deliveryMessage = z.object({
  kind: z.literal("delivery"),
  tenant: slug,
  eventId: z.string().regex(/^evt_[0-9A-Z]{26}$/),
  scriptId: z.string().regex(/^scr_[0-9A-Z]{26}$/),
  /** Set when a dead letter is replayed: the replay's execution is recorded on it. */
  deadLetterId: z.string().regex(/^dlq_[0-9A-Z]{26}$/).optional(),
});
export type DeliveryMessage = z.infer<typeof deliveryMessage>;

/** A manual run accepted with `?async=true`, recorded `pending` before it was queued. */
export const runMessage = z.object({
  kind: z.literal("run"),
  tenant: slug,
  executionId: z.string().regex(/^exe_[0-9A-Z]{26}$/),
});
export type RunMessage = z.infer<typeof runMessage>;

export const queueMessage = z.discriminatedUnion("kind", [eventMessage, deliveryMessage, runMessage]);
export type QueueMessage = z.infer<typeof queueMessage>;
