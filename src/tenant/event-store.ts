/**
 * The tenant's events, their deliveries, its dead letters, idempotency keys and schedule
 * claims, in the TenantRunner's SQLite storage (API.md §10, §11). Synchronous, on the
 * Durable Object's thread.
 */
import type { JsonValue } from "../lib/json";
import type { DeadLetter } from "./records";

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

export type DeliveryStatus = "pending" | "running" | "retrying" | "completed" | "dead_lettered";

export interface StoredEvent {
  id: string;
  type: string;
  payload: JsonValue;
  publishedAt: number;
  source: string;
  depth: number;
}

export interface Delivery {
  eventId: string;
  scriptId: string;
  status: DeliveryStatus;
  attempts: number;
  executionId: string | null;
  lastError: { name: string; message: string } | null;
  firstFailedAt: number | null;
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

  insertEvent(event: StoredEvent): boolean {
    return (
      this.sql.exec(
        "INSERT OR IGNORE INTO events (id, type, payload, published_at, source, depth) VALUES (?, ?, ?, ?, ?, ?)",
        event.id,
        event.type,
        JSON.stringify(event.payload),
        event.publishedAt,
        event.source,
        event.depth,
      ).rowsWritten > 0
    );
  }

  getEvent(id: string): StoredEvent | null {
    const row = this.sql.exec<Row>("SELECT * FROM events WHERE id = ?", id).toArray()[0];
    if (!row) return null;
    return { id: row.id as string, type: row.type as string, payload: JSON.parse(row.payload as string), publishedAt: row.published_at as number, source: row.source as string, depth: row.depth as number };
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

  /** Creates the delivery unless it exists; true when it was created. */
  insertDelivery(eventId: string, scriptId: string, now: number): boolean {
    return this.sql.exec("INSERT OR IGNORE INTO deliveries (event_id, script_id, status, updated_at) VALUES (?, ?, 'pending', ?)", eventId, scriptId, now).rowsWritten > 0;
  }

  getDelivery(eventId: string, scriptId: string): Delivery | null {
    const row = this.sql.exec<Row>("SELECT * FROM deliveries WHERE event_id = ? AND script_id = ?", eventId, scriptId).toArray()[0];
    return row ? toDelivery(row) : null;
  }

  deliveriesOf(eventId: string): Delivery[] {
    return this.sql.exec<Row>("SELECT * FROM deliveries WHERE event_id = ? ORDER BY script_id", eventId).toArray().map(toDelivery);
  }

  updateDelivery(eventId: string, scriptId: string, change: { status: DeliveryStatus; attempts?: number; executionId?: string | null; lastError?: { name: string; message: string } | null }, now: number) {
    const failed = change.lastError ? now : null;
    this.sql.exec(
      `UPDATE deliveries SET status = ?, attempts = coalesce(?, attempts), execution_id = coalesce(?, execution_id),
         last_error = CASE WHEN ? IS NULL THEN last_error ELSE ? END, first_failed_at = coalesce(first_failed_at, ?), updated_at = ?
       WHERE event_id = ? AND script_id = ?`,
      change.status,
      change.attempts ?? null,
      change.executionId ?? null,
      change.lastError ? 1 : null,
      change.lastError ? JSON.stringify(change.lastError) : null,
      failed,
      now,
      eventId,
      scriptId,
    );
  }

  /** A replay starts the delivery over: a fresh retry budget and no past failure. */
  resetDelivery(eventId: string, scriptId: string, now: number) {
    this.sql.exec("UPDATE deliveries SET status = 'pending', attempts = 0, first_failed_at = NULL, updated_at = ? WHERE event_id = ? AND script_id = ?", now, eventId, scriptId);
  }

  /** Deliveries a previous life of the runner left running: they will be delivered again. */
  releaseOrphanedDeliveries(now: number) {
    this.sql.exec("UPDATE deliveries SET status = 'retrying', updated_at = ? WHERE status = 'running'", now);
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

  setReplayExecution(id: string, executionId: string) {
    this.sql.exec("UPDATE dead_letters SET replay_execution_id = ? WHERE id = ?", executionId, id);
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

function toDelivery(row: Row): Delivery {
  return {
    eventId: row.event_id as string,
    scriptId: row.script_id as string,
    status: row.status as DeliveryStatus,
    attempts: row.attempts as number,
    executionId: (row.execution_id as string | null) ?? null,
    lastError: row.last_error ? JSON.parse(row.last_error as string) : null,
    firstFailedAt: (row.first_failed_at as number | null) ?? null,
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
