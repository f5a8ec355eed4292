/**
 * The cell's metrics rollups (API.md §15) in its SQLite: per minute (kept 48 h) and per hour
 * (kept 30 days), for each script and for the tenant (`script_id = ''`).
 *
 * Executions are not counted on their way out. Each finished execution record takes the
 * next number of the cell's finish order (`executions.finish_seq`, written with the record
 * in its transaction); a rollup takes the records after the last number it has taken, adds
 * them up (observability/rollup.ts) and moves that mark, in one transaction. So every
 * execution the cell records counts exactly once, whoever ran it (the cell; later, edge
 * records handed to the cell) and whatever crashes: the records are the log the rollups
 * read. The cost on an execution's path is one more column and a timer; the rollup runs a
 * second later (or before a metrics query, or on the alarm), for every record since.
 * Admission refusals record no execution: they are counted where they happen, at once.
 */
import { emptyRollup, type MetricsPoint, mergeRollup, percentiles, refusalKeys, type Rollup, rollUp, roundMs, type ExecutionSample, type ScriptTotals } from "../observability/rollup";
import { Sketch } from "../observability/sketch";
import { bucketsOf, type MetricsWindow } from "../observability/window";

export const METRICS_MIGRATION = [
  `CREATE TABLE metrics (
    step INTEGER NOT NULL,
    script_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    invocations INTEGER NOT NULL DEFAULT 0,
    completed INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    timeouts INTEGER NOT NULL DEFAULT 0,
    refused INTEGER NOT NULL DEFAULT 0,
    cpu_sum REAL NOT NULL DEFAULT 0,
    cpu_max REAL NOT NULL DEFAULT 0,
    sdk_calls INTEGER NOT NULL DEFAULT 0,
    p50 REAL,
    p95 REAL,
    p99 REAL,
    sketch TEXT NOT NULL DEFAULT '[0]',
    PRIMARY KEY (step, script_id, at)
  ) WITHOUT ROWID`,
  "CREATE INDEX metrics_age ON metrics (step, at)",
];

/** How soon after an execution its rollup runs (all records since go in one batch). */
export const ROLLUP_DELAY_MS = 1_000;
/** Records one rollup transaction takes at most. */
export const ROLLUP_BATCH = 1_000;
/** Batches a metrics query, the timer or the alarm rolls up at once, at most (the timer comes back for the rest). */
export const ROLLUP_BATCHES_PER_TURN = 20;

const WATERMARK = "metrics_seq";

interface Meta {
  get(key: string): string | null;
  set(key: string, value: string): void;
}

type Row = Record<string, SqlStorageValue>;

export class CellMetrics {
  /** The last finish number handed out. */
  private lastSeq: number;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly sql: SqlStorage,
    private readonly transaction: <T>(fn: () => T) => T,
    private readonly meta: Meta,
  ) {
    const recorded = this.sql.exec<{ seq: number | null }>("SELECT max(finish_seq) AS seq FROM executions").one().seq ?? 0;
    this.lastSeq = Math.max(recorded, Number(this.meta.get(WATERMARK) ?? "0"));
  }

  /** The finish number of the execution being recorded now. */
  nextSeq(): number {
    this.lastSeq += 1;
    return this.lastSeq;
  }

  /** An execution was recorded: its rollup follows within ROLLUP_DELAY_MS. */
  soon() {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      try {
        // A backlog (after a long eviction) goes in bounded turns, so requests get the thread in between.
        if (this.rollUpPending(ROLLUP_BATCHES_PER_TURN) === ROLLUP_BATCHES_PER_TURN * ROLLUP_BATCH) this.soon();
      } catch (error) {
        // The records stay; the next rollup (query, alarm, execution) takes them.
        console.error("metrics rollup failed", error);
      }
    }, ROLLUP_DELAY_MS);
  }

  /** Admission refused an execution of `scriptId` at `at`: counted now (nothing is recorded for it elsewhere). */
  recordRefusal(scriptId: string, at: number) {
    this.transaction(() => {
      for (const key of refusalKeys(scriptId, at)) {
        this.sql.exec(
          "INSERT INTO metrics (step, script_id, at, refused) VALUES (?, ?, ?, 1) ON CONFLICT (step, script_id, at) DO UPDATE SET refused = refused + 1",
          key.step,
          key.scriptId,
          key.at,
        );
      }
    });
  }

  /** Rolls up every finished record not yet taken, in batches (at most `maxBatches`); answers how many it took. */
  rollUpPending(maxBatches = Number.POSITIVE_INFINITY): number {
    let taken = 0;
    for (let batch = 0; batch < maxBatches; batch++) {
      const n = this.rollUpBatch(ROLLUP_BATCH);
      taken += n;
      if (n < ROLLUP_BATCH) break;
    }
    return taken;
  }

  /** Records not rolled up yet (for tests and the bench). */
  pendingCount(): number {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM executions WHERE finish_seq > ?", this.watermark()).one().n;
  }

  /** One transaction: the next `limit` records after the mark, added to their rollups, and the mark moved past them. */
  private rollUpBatch(limit: number): number {
    return this.transaction(() => {
      const rows = this.sql
        .exec<Row>("SELECT script_id, status, finished_at, duration_ms, cpu_ms, sdk_calls, finish_seq FROM executions WHERE finish_seq > ? ORDER BY finish_seq LIMIT ?", this.watermark(), limit)
        .toArray();
      if (rows.length === 0) return 0;
      const samples: ExecutionSample[] = [];
      for (const row of rows) {
        const status = row.status as string;
        if (status !== "completed" && status !== "failed" && status !== "timeout") continue;
        samples.push({
          scriptId: row.script_id as string,
          status,
          finishedAt: row.finished_at as number,
          durationMs: (row.duration_ms as number | null) ?? null,
          cpuMs: (row.cpu_ms as number | null) ?? 0,
          sdkCalls: row.sdk_calls as number,
        });
      }
      for (const rollup of rollUp(samples).values()) {
        const stored = this.read(rollup.step, rollup.scriptId, rollup.at);
        this.write(stored ? mergeRollup(stored, rollup) : rollup);
      }
      this.meta.set(WATERMARK, String(rows.at(-1)!.finish_seq));
      return rows.length;
    });
  }

  /** The points of one scope (a script, or TENANT_SCOPE) over a window, one per bucket, zeros where nothing happened. */
  points(scriptId: string, window: MetricsWindow): MetricsPoint[] {
    this.rollUpPending(ROLLUP_BATCHES_PER_TURN);
    const rows = this.sql
      .exec<Row>(
        "SELECT at, invocations, completed, failed, timeouts, refused, cpu_sum, cpu_max, sdk_calls, p50, p95, p99 FROM metrics WHERE step = ? AND script_id = ? AND at >= ? AND at < ? ORDER BY at",
        window.stepMs,
        scriptId,
        window.from,
        window.to,
      )
      .toArray();
    const byBucket = new Map(rows.map((row) => [row.at as number, row]));
    return bucketsOf(window).map((at) => {
      const row = byBucket.get(at);
      if (!row) return emptyPoint(at);
      return {
        at: new Date(at).toISOString(),
        invocations: row.invocations as number,
        completed: row.completed as number,
        failed: row.failed as number,
        timeouts: row.timeouts as number,
        refused: row.refused as number,
        durationMs: { p50: (row.p50 as number | null) ?? null, p95: (row.p95 as number | null) ?? null, p99: (row.p99 as number | null) ?? null },
        cpuMs: { sum: roundMs(row.cpu_sum as number), max: roundMs(row.cpu_max as number) },
        sdkCalls: row.sdk_calls as number,
      };
    });
  }

  /**
   * `points` as JSON text, written directly (the same text `JSON.stringify(points(…))` gives):
   * 24 h of minutes is 1 440 points, and building objects only to serialise them cost more
   * than the query.
   */
  pointsJson(scriptId: string, window: MetricsWindow): string {
    this.rollUpPending(ROLLUP_BATCHES_PER_TURN);
    // Rows as arrays (`raw()`): a third of the cost of row objects at 1 440 rows.
    const rows = [
      ...this.sql
        .exec(
          "SELECT at, invocations, completed, failed, timeouts, refused, cpu_sum, cpu_max, sdk_calls, p50, p95, p99 FROM metrics WHERE step = ? AND script_id = ? AND at >= ? AND at < ? ORDER BY at",
          window.stepMs,
          scriptId,
          window.from,
          window.to,
        )
        .raw(),
    ] as Array<[number, number, number, number, number, number, number, number, number, number | null, number | null, number | null]>;
    const parts: string[] = [];
    let next = 0;
    for (let at = window.from; at < window.to; at += window.stepMs) {
      const iso = new Date(at).toISOString();
      const row = rows[next];
      if (row === undefined || row[0] !== at) {
        parts.push(`{"at":"${iso}","invocations":0,"completed":0,"failed":0,"timeouts":0,"refused":0,"durationMs":{"p50":null,"p95":null,"p99":null},"cpuMs":{"sum":0,"max":0},"sdkCalls":0}`);
        continue;
      }
      next += 1;
      const [, invocations, completed, failed, timeouts, refused, cpuSum, cpuMax, sdkCalls, p50, p95, p99] = row;
      parts.push(
        `{"at":"${iso}","invocations":${invocations},"completed":${completed},"failed":${failed},"timeouts":${timeouts},"refused":${refused},` +
          `"durationMs":{"p50":${p50 ?? null},"p95":${p95 ?? null},"p99":${p99 ?? null}},"cpuMs":{"sum":${roundMs(cpuSum)},"max":${roundMs(cpuMax)}},"sdkCalls":${sdkCalls}}`,
      );
    }
    return `[${parts.join(",")}]`;
  }

  /** Each script's totals over a window, the busiest (or the most failing) first. */
  topScripts(window: MetricsWindow, sort: "invocations" | "errors", limit: number): ScriptTotals[] {
    this.rollUpPending(ROLLUP_BATCHES_PER_TURN);
    const order = sort === "errors" ? "failed + timeouts DESC, invocations DESC" : "invocations DESC, failed + timeouts DESC";
    const totals = this.sql
      .exec<Row>(
        `SELECT script_id, sum(invocations) AS invocations, sum(completed) AS completed, sum(failed) AS failed, sum(timeouts) AS timeouts,
           sum(refused) AS refused, sum(cpu_sum) AS cpu_sum, max(cpu_max) AS cpu_max, sum(sdk_calls) AS sdk_calls
         FROM metrics WHERE step = ? AND at >= ? AND at < ? AND script_id != '' GROUP BY script_id ORDER BY ${order}, script_id LIMIT ?`,
        window.stepMs,
        window.from,
        window.to,
        limit,
      )
      .toArray();
    return totals.map((row) => {
      const scriptId = row.script_id as string;
      const sketch = new Sketch();
      for (const { sketch: json } of this.sql.exec<{ sketch: string }>("SELECT sketch FROM metrics WHERE step = ? AND script_id = ? AND at >= ? AND at < ?", window.stepMs, scriptId, window.from, window.to)) {
        sketch.merge(Sketch.fromJSON(JSON.parse(json)));
      }
      return {
        scriptId,
        invocations: row.invocations as number,
        completed: row.completed as number,
        failed: row.failed as number,
        timeouts: row.timeouts as number,
        refused: row.refused as number,
        durationMs: percentiles(sketch),
        cpuMs: { sum: roundMs(row.cpu_sum as number), max: roundMs(row.cpu_max as number) },
        sdkCalls: row.sdk_calls as number,
      };
    });
  }

  /** Deletes up to `batchSize` rollups of `stepMs` older than `cutoff`; answers how many. */
  purgeBefore(stepMs: number, cutoff: number, batchSize: number): number {
    return this.sql.exec(
      "DELETE FROM metrics WHERE (step, script_id, at) IN (SELECT step, script_id, at FROM metrics WHERE step = ? AND at < ? LIMIT ?)",
      stepMs,
      cutoff,
      batchSize,
    ).rowsWritten;
  }

  hasRollups(): boolean {
    return this.sql.exec("SELECT 1 FROM metrics LIMIT 1").toArray().length > 0;
  }

  private watermark(): number {
    return Number(this.meta.get(WATERMARK) ?? "0");
  }

  private read(step: number, scriptId: string, at: number): Rollup | null {
    const row = this.sql.exec<Row>("SELECT * FROM metrics WHERE step = ? AND script_id = ? AND at = ?", step, scriptId, at).toArray()[0];
    if (!row) return null;
    return {
      ...emptyRollup(step, scriptId, at),
      invocations: row.invocations as number,
      completed: row.completed as number,
      failed: row.failed as number,
      timeouts: row.timeouts as number,
      refused: row.refused as number,
      cpuSum: row.cpu_sum as number,
      cpuMax: row.cpu_max as number,
      sdkCalls: row.sdk_calls as number,
      duration: Sketch.fromJSON(JSON.parse(row.sketch as string)),
    };
  }

  /** Stores a rollup with its percentiles worked out, so queries read columns and never sketches. */
  private write(rollup: Rollup) {
    const p = percentiles(rollup.duration);
    this.sql.exec(
      `INSERT OR REPLACE INTO metrics (step, script_id, at, invocations, completed, failed, timeouts, refused, cpu_sum, cpu_max, sdk_calls, p50, p95, p99, sketch)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      rollup.step,
      rollup.scriptId,
      rollup.at,
      rollup.invocations,
      rollup.completed,
      rollup.failed,
      rollup.timeouts,
      rollup.refused,
      rollup.cpuSum,
      rollup.cpuMax,
      rollup.sdkCalls,
      p.p50,
      p.p95,
      p.p99,
      JSON.stringify(rollup.duration),
    );
  }
}

function emptyPoint(at: number): MetricsPoint {
  return { at: new Date(at).toISOString(), invocations: 0, completed: 0, failed: 0, timeouts: 0, refused: 0, durationMs: { p50: null, p95: null, p99: null }, cpuMs: { sum: 0, max: 0 }, sdkCalls: 0 };
}
