/**
 * The tenant's events, their deliveries, its dead letters, idempotency keys and schedule
 * claims, in the TenantRunner's SQLite storage (API.md §10, §11). Synchronous, on the
 * Durable Object's thread.
 */
import type { DeliveryStatus } from "../events/attempt-policy";
import type { JsonValue } from "../lib/json";
import type { DeadLetter } from "./records";

export type { DeliveryStatus };

export const EVENTS_MIGRATION = [
  `CREATE TABLE events (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    published_at INTEGER NOT NULL,
    source TEXT NOT NULL,
    depth INTEGER NOT NULL
  )`,
  "CREATE INDEX events_published ON events (published_at)",
  `CREATE TABLE deliveries (
    event_id TEXT NOT NULL,
    script_id TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    execution_id TEXT,
    last_error TEXT,
    first_failed_at INTEGER,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (event_id, script_id)
  )`,
  "CREATE TABLE idempotency_keys (key TEXT PRIMARY KEY, event_id TEXT NOT NULL, expires_at INTEGER NOT NULL)",
  "CREATE INDEX idempotency_expiry ON idempotency_keys (expires_at)",
  `CREATE TABLE dead_letters (
    id TEXT PRIMARY KEY,
    script_id TEXT,
    event_id TEXT NOT NULL,
    event_type TEXT,
    payload TEXT,
    attempts INTEGER NOT NULL,
    error TEXT NOT NULL,
    first_failed_at INTEGER NOT NULL,
    last_failed_at INTEGER NOT NULL,
    replay_count INTEGER NOT NULL DEFAULT 0,
    replayed_at INTEGER,
    replay_execution_id TEXT
  )`,
  "CREATE UNIQUE INDEX dead_letters_delivery ON dead_letters (event_id, script_id)",
  "CREATE INDEX dead_letters_script ON dead_letters (script_id, id)",
  "CREATE INDEX dead_letters_failed ON dead_letters (last_failed_at)",
  "CREATE TABLE schedule_claims (script_id TEXT NOT NULL, minute INTEGER NOT NULL, PRIMARY KEY (script_id, minute))",
];

/**
 * The cell owns each delivery's attempts and when the next one is due (`next_attempt_at`,
 * set while pending or retrying), and records when an event was fanned out (NULL: not yet,
 * the alarm's sweep will). Appended as its own migration (see store.ts).
 */
export const DELIVERY_STATE_MIGRATION = [
  "ALTER TABLE deliveries ADD COLUMN next_attempt_at INTEGER",
  "UPDATE deliveries SET next_attempt_at = updated_at WHERE status IN ('pending', 'retrying', 'running')",
  "CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN ('pending', 'retrying')",
  "ALTER TABLE events ADD COLUMN fanned_out_at INTEGER",
  // Older versions fanned out through the queue, which may have lost the message: an event of
  // the last hour without deliveries is fanned out again (idempotent); older ones are left.
  `UPDATE events SET fanned_out_at = published_at
     WHERE published_at < (CAST(strftime('%s', 'now') AS INTEGER) - 3600) * 1000
        OR EXISTS (SELECT 1 FROM deliveries WHERE deliveries.event_id = events.id)`,
  "CREATE INDEX events_unfanned ON events (published_at) WHERE fanned_out_at IS NULL",
];

/** Each event keeps the trace context it was published in, so the executions it causes join that trace (API.md §15). */
export const EVENT_TRACE_MIGRATION = ["ALTER TABLE events ADD COLUMN traceparent TEXT"];

export interface StoredEvent {
  id: string;
  type: string;
  payload: JsonValue;
  publishedAt: number;
  source: string;
  depth: number;
  /** The W3C `traceparent` of the publisher (its execution's span), or null (events recorded before traces existed). */
  traceparent?: string | null;
}

export interface Delivery {
  eventId: string;
  scriptId: string;
  status: DeliveryStatus;
  attempts: number;
  executionId: string | null;
  lastError: { name: string; message: string } | null;
  firstFailedAt: number | null;
  /** When the next attempt is due (pending, retrying); null otherwise. */
  nextAttemptAt: number | null;
}

export interface DeadLetterFilter {
  scriptId?: string;
  since?: number;
  replayed?: boolean;
  before?: string;
  limit: number;
}

type Row = Record<string, SqlStorageValue>;

export class EventStore {
  constructor(private readonly sql: SqlStorage) {}

  // ---- events ----

  /** Records an event, not yet fanned out; false when it was already there. */
  insertEvent(event: StoredEvent): boolean {
    return (
      this.sql.exec(
        "INSERT OR IGNORE INTO events (id, type, payload, published_at, source, depth, traceparent) VALUES (?, ?, ?, ?, ?, ?, ?)",
        event.id,
        event.type,
        JSON.stringify(event.payload),
        event.publishedAt,
        event.source,
        event.depth,
        event.traceparent ?? null,
      ).rowsWritten > 0
    );
  }

  getEvent(id: string): StoredEvent | null {
    const row = this.sql.exec<Row>("SELECT * FROM events WHERE id = ?", id).toArray()[0];
    return row ? toEvent(row) : null;
  }

  /** Events recorded but not fanned out yet, oldest first (all of `ids` when given). */
  unfannedEvents(limit: number, ids?: readonly string[]): StoredEvent[] {
    const rows =
      ids === undefined
        ? this.sql.exec<Row>("SELECT * FROM events WHERE fanned_out_at IS NULL ORDER BY published_at LIMIT ?", limit).toArray()
        : ids.flatMap((id) => this.sql.exec<Row>("SELECT * FROM events WHERE id = ? AND fanned_out_at IS NULL", id).toArray());
    return rows.map(toEvent);
  }

  markFannedOut(id: string, now: number) {
    this.sql.exec("UPDATE events SET fanned_out_at = ? WHERE id = ?", now, id);
  }

  hasUnfannedEvents(): boolean {
    return this.sql.exec("SELECT 1 FROM events WHERE fanned_out_at IS NULL LIMIT 1").toArray().length > 0;
  }

  /** The event an unexpired idempotency key points at, or null. */
  eventForKey(key: string, now: number): string | null {
    const row = this.sql.exec<{ event_id: string }>("SELECT event_id FROM idempotency_keys WHERE key = ? AND expires_at > ?", key, now).toArray()[0];
    return row?.event_id ?? null;
  }

  rememberKey(key: string, eventId: string, expiresAt: number) {
    this.sql.exec("INSERT INTO idempotency_keys (key, event_id, expires_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET event_id = excluded.event_id, expires_at = excluded.expires_at", key, eventId, expiresAt);
  }

  // ---- deliveries ----

  /** Creates the delivery, its first attempt due now, unless it exists; true when it was created. */
  insertDelivery(eventId: string, scriptId: string, now: number): boolean {
    return (
      this.sql.exec("INSERT OR IGNORE INTO deliveries (event_id, script_id, status, updated_at, next_attempt_at) VALUES (?, ?, 'pending', ?, ?)", eventId, scriptId, now, now)
        .rowsWritten > 0
    );
  }

  /**
   * Claims attempt `attempt` (running) if it is the next one of a pending or retrying
   * delivery; false when another claim got there first.
   */
  claimAttempt(eventId: string, scriptId: string, attempt: number, now: number): boolean {
    return (
      this.sql.exec(
        `UPDATE deliveries SET status = 'running', attempts = ?, next_attempt_at = NULL, updated_at = ?
         WHERE event_id = ? AND script_id = ? AND status IN ('pending', 'retrying') AND attempts = ?`,
        attempt,
        now,
        eventId,
        scriptId,
        attempt - 1,
      ).rowsWritten > 0
    );
  }

  completeDelivery(eventId: string, scriptId: string, executionId: string, now: number) {
    this.sql.exec("UPDATE deliveries SET status = 'completed', execution_id = ?, next_attempt_at = NULL, updated_at = ? WHERE event_id = ? AND script_id = ?", executionId, now, eventId, scriptId);
  }

  /** The attempt failed: the next one is due at `at`. */
  scheduleRetry(eventId: string, scriptId: string, change: { at: number; error: { name: string; message: string }; executionId: string | null }, now: number) {
    this.sql.exec(
      `UPDATE deliveries SET status = 'retrying', next_attempt_at = ?, last_error = ?, execution_id = coalesce(?, execution_id),
         first_failed_at = coalesce(first_failed_at, ?), updated_at = ?
       WHERE event_id = ? AND script_id = ?`,
      change.at,
      JSON.stringify(change.error),
      change.executionId,
      now,
      now,
      eventId,
      scriptId,
    );
  }

  /** Pending or retrying deliveries whose next attempt was due at or before `dueBy`, most overdue first. */
  overdueDeliveries(dueBy: number, limit: number): Delivery[] {
    return this.sql
      .exec<Row>("SELECT * FROM deliveries WHERE status IN ('pending', 'retrying') AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?", dueBy, limit)
      .toArray()
      .map(toDelivery);
  }

  /** The earliest next attempt of a pending or retrying delivery, or null. */
  earliestNextAttempt(): number | null {
    const row = this.sql.exec<{ at: number | null }>("SELECT min(next_attempt_at) AS at FROM deliveries WHERE status IN ('pending', 'retrying')").one();
    return row.at ?? null;
  }

  /** A message for the next attempt was sent (again) now: look again only if it is not taken up. */
  markResent(eventId: string, scriptId: string, now: number) {
    this.sql.exec("UPDATE deliveries SET next_attempt_at = ? WHERE event_id = ? AND script_id = ?", now, eventId, scriptId);
  }

  /** Deliveries left running: at start-up, by a previous life of the runner. */
  runningDeliveries(): Delivery[] {
    return this.sql.exec<Row>("SELECT * FROM deliveries WHERE status = 'running'").toArray().map(toDelivery);
  }

  getDelivery(eventId: string, scriptId: string): Delivery | null {
    const row = this.sql.exec<Row>("SELECT * FROM deliveries WHERE event_id = ? AND script_id = ?", eventId, scriptId).toArray()[0];
    return row ? toDelivery(row) : null;
  }

  deliveriesOf(eventId: string): Delivery[] {
    return this.sql.exec<Row>("SELECT * FROM deliveries WHERE event_id = ? ORDER BY script_id", eventId).toArray().map(toDelivery);
  }

  /** The delivery is over without success: its dead letter is recorded beside it (and its last execution, when one ran). */
  markDeadLettered(eventId: string, scriptId: string, change: { attempts: number; error: { name: string; message: string }; executionId?: string | null }, now: number) {
    this.sql.exec(
      `UPDATE deliveries SET status = 'dead_lettered', attempts = ?, next_attempt_at = NULL, last_error = ?,
         execution_id = coalesce(?, execution_id), first_failed_at = coalesce(first_failed_at, ?), updated_at = ?
       WHERE event_id = ? AND script_id = ?`,
      change.attempts,
      JSON.stringify(change.error),
      change.executionId ?? null,
      now,
      now,
      eventId,
      scriptId,
    );
  }

  /** A replay starts the delivery over: a fresh retry budget, no past failure, its first attempt due now. */
  resetDelivery(eventId: string, scriptId: string, now: number) {
    this.sql.exec(
      "UPDATE deliveries SET status = 'pending', attempts = 0, first_failed_at = NULL, next_attempt_at = ?, updated_at = ? WHERE event_id = ? AND script_id = ?",
      now,
      now,
      eventId,
      scriptId,
    );
  }

  // ---- dead letters ----

  /** Records (or, for a delivery dead-lettered again after a replay, updates) a dead letter. */
  recordDeadLetter(entry: { id: string; scriptId: string | null; eventId: string; eventType: string | null; payload: JsonValue; attempts: number; error: { name: string; message: string }; firstFailedAt: number; now: number }): string {
    const row = this.sql
      .exec<{ id: string }>(
        `INSERT INTO dead_letters (id, script_id, event_id, event_type, payload, attempts, error, first_failed_at, last_failed_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (event_id, script_id) DO UPDATE SET attempts = excluded.attempts, error = excluded.error, last_failed_at = excluded.last_failed_at
         RETURNING id`,
        entry.id,
        entry.scriptId,
        entry.eventId,
        entry.eventType,
        JSON.stringify(entry.payload),
        entry.attempts,
        JSON.stringify(entry.error),
        entry.firstFailedAt,
        entry.now,
      )
      .one();
    return row.id;
  }

  getDeadLetter(id: string): DeadLetter | null {
    const row = this.sql.exec<Row>("SELECT * FROM dead_letters WHERE id = ?", id).toArray()[0];
    return row ? toDeadLetter(row) : null;
  }

  listDeadLetters(filter: DeadLetterFilter): DeadLetter[] {
    const where: string[] = [];
    const params: SqlStorageValue[] = [];
    if (filter.scriptId !== undefined) (where.push("script_id = ?"), params.push(filter.scriptId));
    if (filter.since !== undefined) (where.push("last_failed_at >= ?"), params.push(filter.since));
    if (filter.replayed !== undefined) where.push(filter.replayed ? "replay_count > 0" : "replay_count = 0");
    if (filter.before !== undefined) (where.push("id < ?"), params.push(filter.before));
    return this.sql
      .exec<Row>(`SELECT * FROM dead_letters ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`, ...params, filter.limit + 1)
      .toArray()
      .map(toDeadLetter);
  }

  markReplayed(id: string, now: number) {
    this.sql.exec("UPDATE dead_letters SET replay_count = replay_count + 1, replayed_at = ?, replay_execution_id = NULL WHERE id = ?", now, id);
  }

  /** An execution of a replayed delivery: recorded on its dead letter. */
  setReplayExecution(eventId: string, scriptId: string, executionId: string) {
    this.sql.exec("UPDATE dead_letters SET replay_execution_id = ? WHERE event_id = ? AND script_id = ? AND replay_count > 0", executionId, eventId, scriptId);
  }

  deleteDeadLetter(id: string): boolean {
    return this.sql.exec("DELETE FROM dead_letters WHERE id = ?", id).rowsWritten > 0;
  }

  // ---- schedules ----

  /** Claims a script's run for one minute; false when that minute was already claimed. */
  claimMinute(scriptId: string, minute: number): boolean {
    return this.sql.exec("INSERT OR IGNORE INTO schedule_claims (script_id, minute) VALUES (?, ?)", scriptId, minute).rowsWritten > 0;
  }

  // ---- retention ----

  /** Deletes up to `batchSize` rows older than `cutoff` from each table; answers how many in all. */
  purgeBefore(cutoff: number, batchSize: number, now: number): number {
    let deleted = 0;
    deleted += this.sql.exec("DELETE FROM dead_letters WHERE id IN (SELECT id FROM dead_letters WHERE last_failed_at < ? LIMIT ?)", cutoff, batchSize).rowsWritten;
    const events = this.sql.exec<{ id: string }>("SELECT id FROM events WHERE published_at < ? LIMIT ?", cutoff, batchSize).toArray();
    for (const { id } of events) {
      this.sql.exec("DELETE FROM deliveries WHERE event_id = ?", id);
      this.sql.exec("DELETE FROM events WHERE id = ?", id);
    }
    deleted += events.length;
    deleted += this.sql.exec("DELETE FROM idempotency_keys WHERE key IN (SELECT key FROM idempotency_keys WHERE expires_at < ? LIMIT ?)", now, batchSize).rowsWritten;
    deleted += this.sql.exec("DELETE FROM schedule_claims WHERE rowid IN (SELECT rowid FROM schedule_claims WHERE minute < ? LIMIT ?)", now - 86_400_000, batchSize).rowsWritten;
    return deleted;
  }
}

function toEvent(row: Row): StoredEvent {
  return {
    id: row.id as string,
    type: row.type as string,
    payload: JSON.parse(row.payload as string),
    publishedAt: row.published_at as number,
    source: row.source as string,
    depth: row.depth as number,
    traceparent: (row.traceparent as string | null) ?? null,
  };
}

function toDelivery(row: Row): Delivery {
  return {
    eventId: row.event_id as string,
    scriptId: row.script_id as string,
    status: row.status as DeliveryStatus,
    attempts: row.attempts as number,
    executionId: (row.execution_id as string | null) ?? null,
    lastError: row.last_error ? JSON.parse(row.last_error as string) : null,
    firstFailedAt: (row.first_failed_at as number | null) ?? null,
    nextAttemptAt: (row.next_attempt_at as number | null) ?? null,
  };
}

function toDeadLetter(row: Row): DeadLetter {
  const iso = (ms: SqlStorageValue | undefined) => (ms === null || ms === undefined ? null : new Date(ms as number).toISOString());
  return {
    id: row.id as string,
    scriptId: (row.script_id as string | null) ?? null,
    eventId: row.event_id as string,
    eventType: (row.event_type as string | null) ?? null,
    payload: row.payload === null ? null : JSON.parse(row.payload as string),
    attempts: row.attempts as number,
    error: JSON.parse(row.error as string),
    firstFailedAt: iso(row.first_failed_at)!,
    lastFailedAt: iso(row.last_failed_at)!,
    replayCount: row.replay_count as number,
    replayedAt: iso(row.replayed_at),
    replayExecutionId: (row.replay_execution_id as string | null) ?? null,
  };
}
