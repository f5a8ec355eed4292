/**
 * The queue consumers (API.md §10). `iota-events`: every message is validated and handed
 * to its tenant's cell, one call per tenant per batch; the cell answers ack or retry for
 * each. The cell owns attempts and schedules retries itself (delayed sends), so a retry
 * here only means the platform failed to handle the message; repeated, the queue moves it
 * to `iota-events-dlq`, whose messages become dead letters. A message that is not valid, or
 * names no known tenant, is recorded with the reason and acknowledged: a bad message never
 * loops through retries.
 */
import { openDb } from "../db/client";
import { rejectedMessages } from "../db/schema";
import type { JsonValue } from "../lib/json";
import { runnerFor } from "../services/runner";
import { tenantIdFor } from "../services/tenant-ids";
import { platformRetryDelay, type QueueVerdict } from "../tenant/queued-runs";
import { queueMessage, type QueueMessage } from "./messages";

export const EVENTS_QUEUE = "iota-events";
export const DEAD_LETTER_QUEUE = "iota-events-dlq";
const MAX_REJECTED_BODY_CHARS = 64 * 1024;

type Mode = "deliver" | "dead-letter";

export async function consumeBatch(batch: MessageBatch, env: Env): Promise<void> {
  const mode: Mode = batch.queue === DEAD_LETTER_QUEUE || batch.queue.endsWith("-dlq") ? "dead-letter" : "deliver";
  const byTenant = new Map<string, Array<{ message: Message; body: QueueMessage }>>();
  await Promise.all(
    batch.messages.map(async (message) => {
      try {
        const routed = await route(message, env, mode);
        if (routed === null) return message.ack();
        if (mode === "dead-letter") {
          await runnerFor(env, routed.tenantId).deadLettered(routed.body, message.attempts);
          return message.ack();
        }
        const group = byTenant.get(routed.tenantId) ?? [];
        group.push({ message, body: routed.body });
        byTenant.set(routed.tenantId, group);
      } catch (error) {
        platformFailed(batch.queue, message, env, error);
      }
    }),
  );
  await Promise.all(
    [...byTenant].map(async ([tenantId, items]) => {
      let verdicts: QueueVerdict[];
      try {
        verdicts = await runnerFor(env, tenantId).receive(items.map(({ message, body }) => ({ body, attempts: message.attempts })));
      } catch (error) {
        for (const { message } of items) platformFailed(batch.queue, message, env, error);
        return;
      }
      items.forEach(({ message }, i) => {
        const verdict = verdicts[i]!;
        if (verdict.action === "ack") message.ack();
        else message.retry({ delaySeconds: verdict.delaySeconds });
      });
    }),
  );
}

/** The platform failed (not the script): the queue tries again later, never drops it. */
function platformFailed(queue: string, message: Message, env: Env, error: unknown) {
  console.error("queue message failed", queue, message.id, error);
  message.retry({ delaySeconds: platformRetryDelay(message.attempts, env) });
}

/** The tenant and the valid message; null when the message was recorded as rejected (nothing more to do). */
async function route(message: Message, env: Env, mode: Mode): Promise<{ tenantId: string; body: QueueMessage } | null> {
  const db = openDb(env.DB);
  const parsed = queueMessage.safeParse(message.body);
  const slug = tenantSlugOf(message.body);
  const tenantId = slug ? await tenantIdFor(db, slug) : null;
  if (!tenantId) {
    await reject(env, mode, message.body, slug ? `unknown tenant ${slug}` : parsed.success ? "no tenant" : problems(parsed.error));
    return null;
  }
  if (!parsed.success) {
    await runnerFor(env, tenantId).rejectMessage(toJson(message.body), `invalid message: ${problems(parsed.error)}`);
    return null;
  }
  return { tenantId, body: parsed.data };
}

function tenantSlugOf(body: unknown): string | null {
  return body !== null && typeof body === "object" && typeof (body as { tenant?: unknown }).tenant === "string" ? (body as { tenant: string }).tenant : null;
}

function problems(error: { issues: Array<{ path: PropertyKey[]; message: string }> }): string {
  return error.issues.map((issue) => `${issue.path.map(String).join(".") || "(message)"}: ${issue.message}`).join("; ");
}

function toJson(body: unknown): JsonValue {
  try {
    return JSON.parse(JSON.stringify(body ?? null)) as JsonValue;
  } catch {
    return String(body);
  }
}

async function reject(env: Env, mode: string, body: unknown, reason: string) {
  let text: string;
  try {
    text = JSON.stringify(body) ?? "undefined";
  } catch {
    text = String(body);
  }
  await openDb(env.DB)
    .insert(rejectedMessages)
    .values({ queue: mode === "dead-letter" ? DEAD_LETTER_QUEUE : EVENTS_QUEUE, body: text.slice(0, MAX_REJECTED_BODY_CHARS), reason: reason.slice(0, 2000), receivedAt: Date.now() });
}
