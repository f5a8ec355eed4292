/**
 * The queue consumers (API.md §10). `iota-events`: every message is validated, handed to
 * its tenant's runner, and acknowledged or retried one by one with the delay the runner
 * chose. `iota-events-dlq`: what the queue gave up on becomes a dead letter. A message that
 * is not valid, or names no known tenant, is recorded with the reason and acknowledged:
 * a bad message never loops through retries.
 */
import { openDb } from "../db/client";
import { rejectedMessages } from "../db/schema";
import type { JsonValue } from "../lib/json";
import { runnerFor } from "../services/runner";
import { tenantIdFor } from "../services/tenant-ids";
import type { QueueVerdict } from "../tenant/runner";
import { queueMessage, type QueueMessage } from "./messages";
import { afterFailure, retryBase } from "./retry-policy";

export const EVENTS_QUEUE = "iota-events";
export const DEAD_LETTER_QUEUE = "iota-events-dlq";
const MAX_REJECTED_BODY_CHARS = 64 * 1024;

export async function consumeBatch(batch: MessageBatch, env: Env): Promise<void> {
  const deadLetters = batch.queue === DEAD_LETTER_QUEUE || batch.queue.endsWith("-dlq");
  await Promise.all(
    batch.messages.map(async (message) => {
      try {
        const verdict = await handle(message, env, deadLetters ? "dead-letter" : "deliver");
        if (verdict.action === "ack") message.ack();
        else message.retry({ delaySeconds: verdict.delaySeconds });
      } catch (error) {
        // The platform failed (not the script): try again later, never drop it.
        console.error("queue message failed", batch.queue, message.id, error);
        const decision = afterFailure(message.attempts, retryBase(env));
        message.retry({ delaySeconds: decision.action === "retry" ? decision.delaySeconds : 0 });
      }
    }),
  );
}

async function handle(message: Message, env: Env, mode: "deliver" | "dead-letter"): Promise<QueueVerdict> {
  const db = openDb(env.DB);
  const parsed = queueMessage.safeParse(message.body);
  const slug = tenantSlugOf(message.body);
  const tenantId = slug ? await tenantIdFor(db, slug) : null;
  if (!tenantId) {
    await reject(env, mode, message.body, slug ? `unknown tenant ${slug}` : parsed.success ? "no tenant" : problems(parsed.error));
    return { action: "ack" };
  }
  const runner = runnerFor(env, tenantId);
  if (!parsed.success) {
    await runner.rejectMessage(toJson(message.body), `invalid message: ${problems(parsed.error)}`);
    return { action: "ack" };
  }
  const body: QueueMessage = parsed.data;
  if (mode === "dead-letter") {
    await runner.deadLettered(body, message.attempts);
    return { action: "ack" };
  }
  switch (body.kind) {
    case "event":
      return runner.fanOut(body);
    case "delivery":
      return runner.deliver(body, message.attempts);
    case "run":
      return runner.runQueued(body, message.attempts);
  }
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
