/**
 * The cell's outbox: queue messages written in the same transaction as the state they
 * announce (an event's deliveries, a retry, an async run), sent to the events queue after
 * that commits. What is in the outbox is re-sent until the queue takes it, so a crash
 * between accepting and sending loses nothing.
 *
 * - One flush at a time (single flight): a flush asked for while one runs waits for that
 *   one, which keeps reading rows until none is ready, so no row is sent twice by two flushes.
 * - A row may carry `deliver_at`: it is sent with the queue's `delaySeconds` (a retry the
 *   cell scheduled).
 * - A row the queue will never take (too large, not a valid message) leaves the outbox as a
 *   dead letter with its reason; a row the queue refused for another reason waits with
 *   backoff while the rows behind it go on. Nothing blocks the head.
 */
import { MAX_EVENT_PAYLOAD_BYTES, payloadBytes, queueMessage, type QueueMessage } from "../events/messages";

export const OUTBOX_SEND_MIGRATION = [
  "ALTER TABLE outbox ADD COLUMN deliver_at INTEGER",
  "ALTER TABLE outbox ADD COLUMN send_failures INTEGER NOT NULL DEFAULT 0",
  "ALTER TABLE outbox ADD COLUMN next_send_at INTEGER NOT NULL DEFAULT 0",
];

/** What the queue carries per message (Cloudflare Queues: 128 KB). */
export const MAX_QUEUE_MESSAGE_BYTES = 128_000;
/** Per `sendBatch`: Queues take 100 messages and 256 KB; keep room for the envelope. */
const BATCH_MESSAGES = 100;
const BATCH_BYTES = 200 * 1024;
/** Queues delay a message at most 12 h. */
const MAX_DELAY_SECONDS = 43_200;
/** A row whose send failed waits 1, 2, 4 … s, at most this long, before the next try. */
const MAX_SEND_BACKOFF_MS = 5 * 60_000;
/** Errors by which the queue says it will never take this message. */
const REFUSED_FOR_GOOD = /too large|exceeds|payload|invalid|serializ/i;

export type RefusalReason = { name: "PayloadTooLarge" | "InvalidMessage" | "QueueRefused"; message: string };

interface OutboxRow {
  seq: number;
  message: string;
  deliverAt: number | null;
  sendFailures: number;
}

export interface OutboxOptions {
  sql: SqlStorage;
  /** The events queue, looked up at each send. */
  queue: () => Queue;
  transaction: <T>(fn: () => T) => T;
  /** Called, inside the transaction that deletes the row, for a row the queue will never take. */
  refused: (message: unknown, reason: RefusalReason) => void;
  clock?: () => number;
}

export class Outbox {
  private flushing: Promise<void> | null = null;
  private readonly clock: () => number;

  constructor(private readonly options: OutboxOptions) {
    this.clock = options.clock ?? Date.now;
  }

  /** Adds messages; with `deliverAt`, the queue hands them to the consumer no earlier. Call inside the transaction of the state they announce. */
  add(messages: readonly QueueMessage[], now: number, deliverAt?: number) {
    for (const message of messages) {
      this.options.sql.exec("INSERT INTO outbox (message, created_at, deliver_at) VALUES (?, ?, ?)", JSON.stringify(message), now, deliverAt ?? null);
    }
  }

  /** Sends every ready row; resolves when the outbox holds none that is ready. */
  flush(): Promise<void> {
    // Started on the next tick, so `flushing` is set before the drain can clear it.
    this.flushing ??= Promise.resolve().then(() => this.drain());
    return this.flushing;
  }

  /** When the earliest row should be sent (now or later), or null when the outbox is empty. */
  nextSendAt(): number | null {
    return this.options.sql.exec<{ at: number | null }>("SELECT min(next_send_at) AS at FROM outbox").one().at ?? null;
  }

  /**
   * Until no row is ready. The flight ends in the same synchronous step as the read that
   * found nothing, so a row added after it is sent by the next flush, never left behind.
   */
  private async drain() {
    try {
      await this.drainRows();
    } catch (error) {
      this.flushing = null;
      throw error;
    }
  }

  private async drainRows() {
    for (;;) {
      const now = this.clock();
      const rows = this.ready(now);
      if (rows.length === 0) {
        this.flushing = null;
        return;
      }
      const sendable: Array<{ row: OutboxRow; body: QueueMessage }> = [];
      for (const row of rows) {
        const checked = checkRow(row.message);
        if ("refusal" in checked) this.giveUp(row, checked.body, checked.refusal);
        else sendable.push({ row, body: checked.body });
      }
      for (const batch of batches(sendable)) await this.send(batch);
    }
  }

  private ready(now: number): OutboxRow[] {
    return this.options.sql
      .exec<{ seq: number; message: string; deliver_at: number | null; send_failures: number }>(
        "SELECT seq, message, deliver_at, send_failures FROM outbox WHERE next_send_at <= ? ORDER BY seq LIMIT ?",
        now,
        BATCH_MESSAGES,
      )
      .toArray()
      .map((row) => ({ seq: row.seq, message: row.message, deliverAt: row.deliver_at, sendFailures: row.send_failures }));
  }

  private async send(batch: Array<{ row: OutboxRow; body: QueueMessage }>): Promise<void> {
    const now = this.clock();
    try {
      await this.options.queue().sendBatch(batch.map(({ row, body }) => toSendRequest(body, row.deliverAt, now)));
    } catch (error) {
      if (batch.length === 1) return this.sendFailed(batch[0]!, error);
      // One of them may be what the queue refuses: each on its own, so the others still go.
      for (const item of batch) await this.send([item]);
      return;
    }
    for (const { row } of batch) this.options.sql.exec("DELETE FROM outbox WHERE seq = ?", row.seq);
  }

  private sendFailed(item: { row: OutboxRow; body: QueueMessage }, error: unknown) {
    const text = error instanceof Error ? error.message : String(error);
    if (REFUSED_FOR_GOOD.test(text)) return this.giveUp(item.row, item.body, { name: "QueueRefused", message: `the events queue refused the message: ${text}` });
    const failures = item.row.sendFailures + 1;
    const waitMs = Math.min(MAX_SEND_BACKOFF_MS, 1000 * 2 ** (failures - 1));
    console.warn(`outbox row ${item.row.seq} not sent (${failures}×), next try in ${waitMs} ms:`, text);
    this.options.sql.exec("UPDATE outbox SET send_failures = ?, next_send_at = ? WHERE seq = ?", failures, this.clock() + waitMs, item.row.seq);
  }

  private giveUp(row: OutboxRow, body: unknown, reason: RefusalReason) {
    this.options.transaction(() => {
      this.options.refused(body, reason);
      this.options.sql.exec("DELETE FROM outbox WHERE seq = ?", row.seq);
    });
  }
}

/** Whether the queue can take a stored message; pure. */
export function checkRow(text: string): { body: QueueMessage } | { body: unknown; refusal: RefusalReason } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { body: text, refusal: { name: "InvalidMessage", message: "the stored message is not JSON" } };
  }
  const parsed = queueMessage.safeParse(json);
  if (!parsed.success) return { body: json, refusal: { name: "InvalidMessage", message: `not a valid queue message: ${parsed.error.issues[0]?.message ?? "invalid"}` } };
  const body = parsed.data;
  if (body.kind === "event" && payloadBytes(body.payload) > MAX_EVENT_PAYLOAD_BYTES) {
    return { body, refusal: { name: "PayloadTooLarge", message: `the event's payload is over ${MAX_EVENT_PAYLOAD_BYTES} bytes` } };
  }
  // Three bytes per UTF-16 unit at most: only long texts need encoding to know.
  if (text.length * 3 > MAX_QUEUE_MESSAGE_BYTES && new TextEncoder().encode(text).byteLength > MAX_QUEUE_MESSAGE_BYTES) {
    return { body, refusal: { name: "PayloadTooLarge", message: `the message is over the queue's ${MAX_QUEUE_MESSAGE_BYTES} bytes` } };
  }
  return { body };
}

function toSendRequest(body: QueueMessage, deliverAt: number | null, now: number): MessageSendRequest<QueueMessage> {
  const delaySeconds = deliverAt === null ? 0 : Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil((deliverAt - now) / 1000)));
  return delaySeconds > 0 ? { body, contentType: "json", delaySeconds } : { body, contentType: "json" };
}

function* batches<T extends { row: OutboxRow }>(items: T[]): Generator<T[]> {
  let batch: T[] = [];
  let bytes = 0;
  for (const item of items) {
    if (batch.length > 0 && (batch.length >= BATCH_MESSAGES || bytes + item.row.message.length > BATCH_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(item);
    bytes += item.row.message.length;
  }
  if (batch.length > 0) yield batch;
}
