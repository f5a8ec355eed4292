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
