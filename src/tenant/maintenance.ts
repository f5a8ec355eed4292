/**
 * The cell's alarm (API.md §10, §11): due schedules, the sweep of what a crash or a lost
 * message left behind, the outbox, retention; and when the alarm fires next. One alarm
 * serves all of them: it is armed for the earliest thing outstanding, whenever something is.
 */
import type { TenantRow } from "../db/schema";
import type { Executor } from "../executor/executor";
import type { Catalogue } from "./catalogue";
import type { Deliveries, TenantCell } from "./deliveries";
import type { EventStore } from "./event-store";
import { type CellMetrics, ROLLUP_BATCHES_PER_TURN } from "./metrics";
import { HOUR_MS, MINUTE_MS } from "../observability/rollup";
import { METRICS_RETENTION_MS } from "../observability/window";
import type { Outbox } from "./outbox";
import type { QueuedRuns } from "./queued-runs";
import { dueToStart, minuteOf, nextDueMinute, type Schedule } from "./schedules";
import type { TenantStore } from "./store";

/** Retention runs at most this often, deleting at most PURGE_BATCHES batches of PURGE_BATCH_SIZE rows a run. */
const PURGE_INTERVAL_MS = 60 * 60 * 1000;
const PURGE_BATCH_SIZE = 500;
const PURGE_BATCHES = 10;
/** The last minute whose due schedules an alarm started (meta key). */
const SCHEDULES_THROUGH = "schedules_through";
/** How long an alarm handler waits for the scheduled runs it started (less than a minute). */
const ALARM_WAITS_FOR_RUNS_MS = 45_000;
/** A late alarm starts the schedules of at most this many minutes (the latest ones). */
const CATCH_UP_MINUTES = 5;
/** An outbox that could not be sent is tried again by the alarm this soon, at the earliest. */
const OUTBOX_RETRY_MS = 5_000;

export interface MaintenanceParts {
  store: TenantStore;
  events: EventStore;
  outbox: Outbox;
  deliveries: Deliveries;
  runs: QueuedRuns;
  metrics: CellMetrics;
  storage: Pick<DurableObjectStorage, "getAlarm" | "setAlarm">;
  env: () => { RETENTION_DAYS?: string };
  /** The tenant's catalogue, once the cell knows its tenant. */
  catalogue: () => Catalogue | null;
  /** The tenant as deliveries see it. */
  tenantCell: (catalogue: Catalogue) => Promise<TenantCell>;
  executor: () => Executor;
}

export class Maintenance {
  /** The alarm as this cell last set or read it (saves a storage call per event); null: none known. */
  private alarmAt: number | null = null;

  constructor(private readonly cell: MaintenanceParts) {}

  /** At start: what the alarm is, and armed if something is outstanding. */
  async start() {
    this.alarmAt = await this.cell.storage.getAlarm();
    await this.scheduleAlarm();
  }

  /**
   * The alarm: due schedules, the sweep, the outbox, retention; then the next alarm. The
   * scheduled runs it starts are awaited last, after the next alarm is armed, and for at most
   * ALARM_WAITS_FOR_RUNS_MS, so a long run delays nothing else (the next minute's alarm
   * included: workerd holds it until this handler returns).
   */
  async alarm() {
    this.alarmAt = null;
    const catalogue = this.cell.catalogue();
    let runs: Promise<unknown> = Promise.resolve();
    if (catalogue) {
      runs = (await this.startSchedules(catalogue)).done;
      const tenant = await this.cell.tenantCell(catalogue);
      await this.cell.deliveries.sweep(tenant);
      await this.cell.runs.sweep(tenant.slug);
    }
    await this.cell.outbox.flush();
    // Records not rolled up yet (a timer lost to eviction) are taken before any are purged.
    this.cell.metrics.rollUpPending(ROLLUP_BATCHES_PER_TURN);
    this.purgeRetention();
    await this.scheduleAlarm();
    // Waiting keeps the cell alive for the runs; but the next alarm fires only once this
    // handler returns, so it stops waiting before the next minute, and longer runs go on.
    let stopWaiting: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([runs, new Promise((resolve) => (stopWaiting = setTimeout(resolve, ALARM_WAITS_FOR_RUNS_MS)))]);
    if (stopWaiting !== undefined) clearTimeout(stopWaiting);
  }

  /** After an execution: the first one of a fresh cell arms retention. */
  async afterExecution() {
    if (this.alarmAt === null) await this.scheduleAlarm();
  }

  /** Makes sure the alarm fires by `at`: one storage call only when no earlier alarm is known. */
  async wakeBy(at: number) {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    await this.cell.storage.setAlarm(at);
  }

  /**
   * Starts each scheduled script due in the minutes since the last alarm that looked
   * (`schedules_through`), up to this one, once: a claim row per script and minute makes a
   * doubled alarm run nothing twice. The minutes come from the clock, not from what the
   * alarm was armed for: a cell woken by its alarm after an eviction re-arms while it starts,
   * before the alarm runs (schedules on an idle tenant never ran when the armed minute was
   * read back). A late alarm (a busy cell) catches up on at most CATCH_UP_MINUTES minutes,
   * each only for the schedules that existed as they are by then.
   * A run still going skips the next unless `allowOverlap`. Answers when the runs started end.
   */
  private async startSchedules(catalogue: Catalogue): Promise<{ done: Promise<unknown> }> {
    const { store, events } = this.cell;
    const current = minuteOf(Date.now());
    // A cell armed before `schedules_through` existed counts from the minute it armed for.
    const through = Number(store.getMeta(SCHEDULES_THROUGH) ?? Number(store.getMeta("schedule_minute") ?? "NaN") - MINUTE_MS);
    const none = { done: Promise.resolve() };
    if (!Number.isFinite(through) || through >= current) return none;
    const tenant = await catalogue.tenant();
    if (!tenant) return none;
    const schedules = await catalogue.schedules();
    const runs: Promise<unknown>[] = [];
    for (let minute = Math.max(through + MINUTE_MS, current - (CATCH_UP_MINUTES - 1) * MINUTE_MS); minute <= current; minute += MINUTE_MS) {
      for (const schedule of dueToStart(schedules, minute, current)) {
        if (!schedule.allowOverlap && store.isRunning(schedule.scriptId)) continue;
        if (!events.claimMinute(schedule.scriptId, minute)) continue;
        runs.push(this.runScheduled(tenant, catalogue, schedule, minute));
      }
    }
    store.setMeta(SCHEDULES_THROUGH, String(current));
    return { done: Promise.allSettled(runs) };
  }

  private async runScheduled(tenant: TenantRow, catalogue: Catalogue, schedule: Schedule, minute: number) {
    const runnable = await catalogue.script(schedule.scriptId);
    if (!runnable || runnable.script.status !== "active") return;
    const event = { scheduledTime: new Date(minute).toISOString(), cron: schedule.cron };
    await this.cell.executor().execute(tenant, { runnable, trigger: "scheduled", event, recordedInput: event });
  }

  /** Deletes traffic past RETENTION_DAYS, and metrics rollups past theirs (minutes 48 h, hours 30 days), a bounded number of small batches per run. */
  private purgeRetention() {
    const { store, events, metrics } = this.cell;
    const now = Date.now();
    const last = Number(store.getMeta("last_purge") ?? "0");
    const backlog = store.getMeta("purge_backlog") === "1";
    if (!backlog && now - last < PURGE_INTERVAL_MS) return;
    const cutoff = now - (Number(this.cell.env().RETENTION_DAYS) || 30) * 86_400_000;
    let full = true;
    for (let batch = 0; batch < PURGE_BATCHES && full; batch++) {
      const executions = store.purgeExecutionsBefore(cutoff, PURGE_BATCH_SIZE);
      const traffic = events.purgeBefore(cutoff, PURGE_BATCH_SIZE, now);
      const minutes = metrics.purgeBefore(MINUTE_MS, now - METRICS_RETENTION_MS.minute, PURGE_BATCH_SIZE);
      const hours = metrics.purgeBefore(HOUR_MS, now - METRICS_RETENTION_MS.hour, PURGE_BATCH_SIZE);
      full = executions === PURGE_BATCH_SIZE || traffic >= PURGE_BATCH_SIZE || minutes === PURGE_BATCH_SIZE || hours === PURGE_BATCH_SIZE;
    }
    store.setMeta("last_purge", String(now));
    // A full last batch means more is left: the next alarm comes soon and goes on.
    store.setMeta("purge_backlog", full ? "1" : "0");
  }

  /**
   * Arms the alarm for the earliest of: the next due schedule, the outbox, the sweep (events
   * not fanned out, deliveries and runs whose message may be lost), retention. Whenever
   * something is outstanding, an alarm is set.
   */
  async scheduleAlarm() {
    const { store, outbox, deliveries, runs, storage } = this.cell;
    const now = Date.now();
    const schedules = (await this.cell.catalogue()?.schedules().catch(() => [])) ?? [];
    const nextSchedule = nextDueMinute(schedules, now);
    if (nextSchedule !== null) store.setMeta("schedule_minute", String(nextSchedule));
    // Schedules count from now: a minute before a schedule existed is never caught up on.
    if (schedules.length > 0 && store.getMeta(SCHEDULES_THROUGH) === null) store.setMeta(SCHEDULES_THROUGH, String(minuteOf(now)));
    const unsent = outbox.nextSendAt();
    const last = Number(store.getMeta("last_purge") ?? "0");
    const backlog = store.getMeta("purge_backlog") === "1";
    const purge = backlog ? now + 1_000 : store.hasExecutions() || this.cell.metrics.hasRollups() ? last + PURGE_INTERVAL_MS : null;
    const candidates = [nextSchedule, unsent === null ? null : Math.max(unsent, now + OUTBOX_RETRY_MS), deliveries.nextSweepAt(), runs.nextSweepAt(), purge].filter((t): t is number => t !== null);
    if (candidates.length === 0) return;
    const next = Math.max(now, Math.min(...candidates));
    const current = await storage.getAlarm();
    // Keep an earlier alarm unless it is for a schedule minute that has passed unfired.
    if (current === null || current > next || current < minuteOf(now)) {
      await storage.setAlarm(next);
      this.alarmAt = next;
    } else {
      this.alarmAt = current;
    }
  }
}
