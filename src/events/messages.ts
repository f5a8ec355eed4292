/**
 * The messages on the `iota-events` queue (API.md §10), as zod schemas: the source of their
 * types, and the check every message passes before the consumer acts on it.
 */
import { z } from "zod";
import { EVENT_TYPE } from "../domain/triggers";

const slug = z.string().regex(/^[a-z][a-z0-9-]{1,38}$/);

/**
 * An event's payload may take at most this many bytes as JSON text (UTF-8): the queue
 * carries 128 KB per message, and what is accepted must fit through it.
 */
export const MAX_EVENT_PAYLOAD_BYTES = 100 * 1024;

/** The payload's size as the queue would carry it: UTF-8 bytes of its JSON text. */
export function payloadBytes(payload: unknown): number {
  return new TextEncoder().encode(JSON.stringify(payload ?? null)).byteLength;
}

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
  /** The publisher's W3C trace context; the executions the event causes join its trace. */
  traceparent: z.string().max(512).optional(),
});
export type EventMessage = z.infer<typeof eventMessage>;

/**
 * One event for one subscribed script: run attempt `attempt` of it. The cell keeps the
 * delivery's state; a message only asks, and one asking for an attempt that already
 * started, or for a finished delivery, is acknowledged without running anything.
 * Fields are only ever added, optional, so messages in flight across a deploy stay valid.
 */
export const deliveryMessage = z.object({
  kind: z.literal("delivery"),
  tenant: slug,
  eventId: z.string().regex(/^evt_[0-9A-Z]{26}$/),
  scriptId: z.string().regex(/^scr_[0-9A-Z]{26}$/),
  /** Sent by older versions on a replay; the cell now finds the dead letter by (event, script). */
  deadLetterId: z.string().regex(/^dlq_[0-9A-Z]{26}$/).optional(),
  /** The attempt asked for, 1-based. Absent in messages of older versions: the next one due. */
  attempt: z.number().int().min(1).max(100).optional(),
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
