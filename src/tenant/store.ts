/**
 * The TenantRunner's own SQLite storage: everything the tenant's traffic writes (API.md §1).
 * Writes happen on the Durable Object's thread, synchronously, so recording an execution
 * costs no network hop and is never lost when the Worker answers first.
 *
 * The schema is migrated in code: `MIGRATIONS[i]` brings version i to i+1, once, in order.
 */
import type { ExecutionError } from "../sandbox/errors";
import { COLLECTIONS_MIGRATION } from "../host/collections";
import { DELIVERY_STATE_MIGRATION, EVENT_TRACE_MIGRATION, EVENTS_MIGRATION } from "./event-store";
import { METRICS_MIGRATION } from "./metrics";
import { OUTBOX_SEND_MIGRATION } from "./outbox";
import { RATE_BUCKETS_MIGRATION } from "./rate-buckets";
import { TAIL_TICKETS_MIGRATION } from "./tails";
import type { EdgeRecord, ExecutionRecord, ExecutionStatus, FinishedOutcome, TriggerKind } from "./records";

const MIGRATIONS: string[][] = [
  [
    `CREATE TABLE executions (
      id TEXT PRIMARY KEY,
      script_id TEXT NOT NULL,
      version INTEGER NOT NULL,
      trigger TEXT NOT NULL,
      status TEXT NOT NULL,
      attempt INTEGER NOT NULL DEFAULT 1,
      input TEXT,
      result TEXT,
      error TEXT,
      logs TEXT NOT NULL DEFAULT '[]',
      started_at INTEGER NOT NULL,
      finished_at INTEGER,
      duration_ms REAL,
      cpu_ms REAL,
      memory_bytes INTEGER,
      sdk_calls INTEGER NOT NULL DEFAULT 0
    )`,
    "CREATE INDEX executions_script ON executions (script_id, id)",
    "CREATE INDEX executions_status ON executions (status, id)",
    "CREATE INDEX executions_trigger ON executions (trigger, id)",
    "CREATE INDEX executions_started ON executions (started_at)",
  ],
  COLLECTIONS_MIGRATION,
  [
    // Messages for the events queue, until the queue has them (see outbox.ts).
    "CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, message TEXT NOT NULL, created_at INTEGER NOT NULL)",
  ],
  EVENTS_MIGRATION,
  // The cell owns delivery attempts, sends delayed and refused outbox rows, and keeps its rate windows.
  [...DELIVERY_STATE_MIGRATION, ...OUTBOX_SEND_MIGRATION, ...RATE_BUCKETS_MIGRATION],
  // Observability (API.md §15): each execution's trace, the order executions finished in
  // (what the metrics rollups have taken), the rollups themselves, and events' trace context.
  [
    "ALTER TABLE executions ADD COLUMN trace_id TEXT",
    "ALTER TABLE executions ADD COLUMN finish_seq INTEGER",
    "CREATE INDEX executions_trace ON executions (trace_id, id)",
    "CREATE INDEX executions_finish_seq ON executions (finish_seq)",
    ...METRICS_MIGRATION,
    ...EVENT_TRACE_MIGRATION,
    ...TAIL_TICKETS_MIGRATION,
  ],
  // Modules (API.md §13): the module versions each execution ran with, as JSON.
  ["ALTER TABLE executions ADD COLUMN modules TEXT"],
  // The handler object (API.md §13): when a fetch handler's response left, before waitUntil work ended.
  ["ALTER TABLE executions ADD COLUMN response_ms REAL"],
];

/** Inputs and results longer than this are stored cut, with a marker (see `storedJson`). */
export const MAX_STORED_JSON_CHARS = 64 * 1024;

export interface ExecutionFilter {
  scriptId?: string;
  status?: ExecutionStatus;
  trigger?: TriggerKind;
  /** Epoch ms: only executions started at or after. */
  since?: number;
  /** Only ids before this one (the cursor). */
  before?: string;
  /** Only executions of this W3C trace. */
  traceId?: string;
  limit: number;
}

interface ExecutionRow extends Record<string, SqlStorageValue> {
  id: string;
  script_id: string;
  version: number;
  trigger: string;
  status: string;
  attempt: number;
  input: string | null;
  result: string | null;
  error: string | null;
  logs: string;
  started_at: number;
  finished_at: number | null;
  duration_ms: number | null;
  cpu_ms: number | null;
  memory_bytes: number | null;
  sdk_calls: number;
  trace_id: string | null;
  modules: string | null;
  response_ms: number | null;
}

export class TenantStore {
  constructor(private readonly sql: SqlStorage) {}

  /** Applies the migrations this storage has not seen yet. */
  migrate() {
    this.sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    const current = Number(this.getMeta("schema_version") ?? "0");
    for (let version = current; version < MIGRATIONS.length; version++) {
      for (const statement of MIGRATIONS[version]!) this.sql.exec(statement);
      this.setMeta("schema_version", String(version + 1));
    }
  }

  getMeta(key: string): string | null {
    const row = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0];
    return row ? row.value : null;
  }

  setMeta(key: string, value: string) {
    this.sql.exec("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value);
  }

  /** The `running` (or `pending`) row written before a script starts, so a crash leaves a trace. */
  insertExecution(row: { id: string; scriptId: string; version: number; trigger: TriggerKind; status: "running" | "pending"; attempt: number; input: unknown; startedAt: number; traceId: string | null }) {
    this.sql.exec(
      "INSERT INTO executions (id, script_id, version, trigger, status, attempt, input, started_at, trace_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      row.id,
      row.scriptId,
      row.version,
      row.trigger,
      row.status,
      row.attempt,
      storedJson(row.input),
      row.startedAt,
      row.traceId,
    );
  }

  /** Stores an execution that ran elsewhere (at the edge), finished, in its place in the finish order; one already stored is left as it is (false). */
  insertFinished(record: EdgeRecord, finishSeq: () => number): boolean {
    if (this.sql.exec("SELECT 1 FROM executions WHERE id = ?", record.id).toArray().length > 0) return false;
    this.insertExecution({ ...record, status: "running" });
    this.finishExecution(record.id, finishSeq(), record);
    return true;
  }

  /** Ends an execution that never ran (a queued run refused again and again). */
  cancelExecution(id: string, error: ExecutionError, now: number) {
    this.sql.exec("UPDATE executions SET status = 'cancelled', error = ?, finished_at = ? WHERE id = ? AND status = 'pending'", JSON.stringify(error), now, id);
  }

  /** Whether the script has an execution running now (for schedules without allowOverlap). */
  isRunning(scriptId: string): boolean {
    return this.sql.exec("SELECT 1 FROM executions WHERE script_id = ? AND status = 'running' LIMIT 1", scriptId).toArray().length > 0;
  }

  markRunning(id: string, startedAt: number) {
    this.sql.exec("UPDATE executions SET status = 'running', started_at = ? WHERE id = ? AND status = 'pending'", startedAt, id);
  }

  /** Records how an execution ended; `finishSeq` is its place in the order executions finished (what the metrics roll up by). */
  finishExecution(
    id: string,
    finishSeq: number,
    outcome: FinishedOutcome,
  ) {
    this.sql.exec(
      `UPDATE executions SET status = ?, result = ?, error = ?, logs = ?, finished_at = ?, duration_ms = ?, cpu_ms = ?,
         memory_bytes = ?, sdk_calls = ?, finish_seq = ?, modules = ?, response_ms = ? WHERE id = ?`,
      outcome.status,
      outcome.resultJson === undefined ? null : storedText(outcome.resultJson),
      outcome.error ? JSON.stringify(outcome.error) : null,
      JSON.stringify(outcome.logs),
      outcome.finishedAt,
      outcome.durationMs,
      outcome.cpuMs,
      outcome.memoryBytes,
      outcome.sdkCalls,
      finishSeq,
      outcome.modules && outcome.modules.length > 0 ? JSON.stringify(outcome.modules) : null,
      outcome.responseMs ?? null,
      id,
    );
  }

  getExecution(id: string): ExecutionRecord | null {
    const row = this.sql.exec<ExecutionRow>("SELECT * FROM executions WHERE id = ?", id).toArray()[0];
    return row ? toRecord(row) : null;
  }

  /** Newest first (ids are time-ordered), after the cursor, filtered; `limit + 1` rows. */
  listExecutions(filter: ExecutionFilter): ExecutionRecord[] {
    const where: string[] = [];
    const params: SqlStorageValue[] = [];
    const add = (clause: string, value: SqlStorageValue | undefined) => {
      if (value === undefined) return;
      where.push(clause);
      params.push(value);
    };
    add("script_id = ?", filter.scriptId);
    add("status = ?", filter.status);
    add("trigger = ?", filter.trigger);
    add("started_at >= ?", filter.since);
    add("id < ?", filter.before);
    add("trace_id = ?", filter.traceId);
    const sql = `SELECT * FROM executions ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`;
    return this.sql
      .exec<ExecutionRow>(sql, ...params, filter.limit + 1)
      .toArray()
      .map(toRecord);
  }

  /**
   * Rows left `running` by a previous life of this object: nothing can finish them now. Each
   * ends `failed` and takes its place in the finish order (`nextSeq`), so metrics count it.
   */
  failOrphanedExecutions(now: number, nextSeq: () => number): number {
    const error = JSON.stringify({ name: "SandboxError", message: "the runner restarted while this execution was running", stack: "" });
    const orphans = this.sql.exec<{ id: string }>("SELECT id FROM executions WHERE status = 'running' ORDER BY id").toArray();
    for (const orphan of orphans) {
      this.sql.exec("UPDATE executions SET status = 'failed', error = ?, finished_at = ?, finish_seq = ? WHERE id = ?", error, now, nextSeq(), orphan.id);
    }
    return orphans.length;
  }

  /** Async runs still pending that were accepted before `cutoff`: their queue message may be lost. */
  pendingRunsBefore(cutoff: number, limit: number): string[] {
    return this.sql.exec<{ id: string }>("SELECT id FROM executions WHERE status = 'pending' AND started_at < ? ORDER BY id LIMIT ?", cutoff, limit).toArray().map((row) => row.id);
  }

  /** When the oldest pending async run was accepted, or null. */
  oldestPendingRun(): number | null {
    return this.sql.exec<{ at: number | null }>("SELECT min(started_at) AS at FROM executions WHERE status = 'pending'").one().at ?? null;
  }

  hasExecutions(): boolean {
    return this.sql.exec("SELECT 1 FROM executions LIMIT 1").toArray().length > 0;
  }

  /** Deletes up to `batchSize` finished executions started before `cutoff`; returns how many. */
  purgeExecutionsBefore(cutoff: number, batchSize: number): number {
    return this.sql.exec(
      "DELETE FROM executions WHERE id IN (SELECT id FROM executions WHERE started_at < ? AND status NOT IN ('pending', 'running') LIMIT ?)",
      cutoff,
      batchSize,
    ).rowsWritten;
  }
}

/** JSON for storage; past MAX_STORED_JSON_CHARS, a marker object with a preview instead. */
export function storedJson(value: unknown): string {
  return storedText(JSON.stringify(value ?? null));
}

function storedText(text: string): string {
  if (text.length <= MAX_STORED_JSON_CHARS) return text;
  return JSON.stringify({ $truncated: true, size: text.length, preview: text.slice(0, MAX_STORED_JSON_CHARS) });
}

function toRecord(row: ExecutionRow): ExecutionRecord {
  return {
    id: row.id,
    scriptId: row.script_id,
    version: row.version,
    trigger: row.trigger as TriggerKind,
    status: row.status as ExecutionStatus,
    attempt: row.attempt,
    input: row.input === null ? null : JSON.parse(row.input),
    result: row.result === null ? null : JSON.parse(row.result),
    error: row.error === null ? null : JSON.parse(row.error),
    logs: JSON.parse(row.logs),
    startedAt: new Date(row.started_at).toISOString(),
    finishedAt: row.finished_at === null ? null : new Date(row.finished_at).toISOString(),
    durationMs: row.duration_ms,
    cpuMs: row.cpu_ms,
    memoryBytes: row.memory_bytes,
    sdkCalls: row.sdk_calls,
    traceId: row.trace_id ?? null,
    modules: row.modules ? JSON.parse(row.modules) : [],
    ...(row.response_ms !== null && row.response_ms !== undefined && { responseMs: row.response_ms }),
  };
}
