import { createExecutionContext, createMessageBatch, getQueueResult, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index";
import type { QueueMessage } from "../../src/events/messages";

/** A tenant's cell (its TenantRunner Durable Object). */
export async function cellOf(slug: string) {
  const row = await env.DB.prepare("SELECT id FROM tenants WHERE slug = ?").bind(slug).first<{ id: string }>();
  return env.TENANT_RUNNER.get(env.TENANT_RUNNER.idFromName(row!.id));
}

/** Runs `fn` on the cell's SQLite storage. */
export async function inCell<T>(slug: string, fn: (sql: SqlStorage, state: DurableObjectState) => T | Promise<T>): Promise<T> {
  return runInDurableObject(await cellOf(slug), (_runner, state) => fn(state.storage.sql, state));
}

export interface Sent {
  body: QueueMessage;
  delaySeconds: number;
}

/**
 * From now on (until the cell is evicted), what the cell sends to the events queue is
 * recorded here instead of queued: nothing is delivered unless the test hands it to the
 * consumer itself (or the queue "lost" it).
 */
export async function holdQueue(slug: string): Promise<Sent[]> {
  const sent: Sent[] = [];
  await runInDurableObject(await cellOf(slug), (runner) => {
    const target = runner as unknown as { env: Env };
    const queue = {
      send: async () => {
        throw new Error("the cell sends in batches");
      },
      sendBatch: async (batch: Iterable<MessageSendRequest<QueueMessage>>) => {
        for (const m of batch) sent.push({ body: m.body, delaySeconds: m.delaySeconds ?? 0 });
      },
    };
    target.env = { ...target.env, EVENTS: queue as unknown as Queue };
  });
  return sent;
}

/** Makes one tenant's cell retry on another base than the tests' 0 s. */
export async function useRetryBase(slug: string, seconds: string) {
  await runInDurableObject(await cellOf(slug), (runner) => {
    const target = runner as unknown as { env: Env };
    target.env = { ...target.env, RETRY_BASE_SECONDS: seconds };
  });
}

let counter = 0;
/** Runs one batch through the Worker's queue handler; answers the per-message verdicts (`ack`, `retry:<delay>`, `none`). */
export async function consume(queue: string, bodies: Array<{ body: unknown; attempts?: number }>) {
  const messages = bodies.map(({ body, attempts }) => ({ id: `m${++counter}`, timestamp: new Date(), attempts: attempts ?? 1, body }));
  const batch = createMessageBatch(queue, messages);
  // getQueueResult names retried messages but not their delays: record those on the way.
  const delays = new Map<string, number>();
  for (const message of batch.messages) {
    const retry = message.retry.bind(message);
    Object.defineProperty(message, "retry", {
      value: (options?: QueueRetryOptions) => {
        delays.set(message.id, options?.delaySeconds ?? 0);
        retry(options);
      },
    });
  }
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  const result = await getQueueResult(batch, ctx);
  return messages.map((m) => {
    if (result.explicitAcks.includes(m.id)) return "ack";
    return result.retryMessages.some((r) => r.msgId === m.id) ? `retry:${delays.get(m.id)}` : "none";
  });
}

/** Hands what the cell sent (and `holdQueue` recorded) to the consumer, emptying the record. */
export async function deliverHeld(sent: Sent[]) {
  const batch = sent.splice(0, sent.length);
  return batch.length === 0 ? [] : consume("iota-events", batch.map(({ body }) => ({ body })));
}

