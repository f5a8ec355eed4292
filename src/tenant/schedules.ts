/**
 * Schedules (API.md §11), pure: which scheduled scripts are due in a given minute, and when
 * the next one is. Cron expressions are 5-field, evaluated in the script's time zone
 * (default UTC) with croner.
 */
import { Cron } from "croner";

export interface Schedule {
  scriptId: string;
  cron: string;
  timezone: string;
  allowOverlap: boolean;
  /** Since when the schedule is as it is: its script's last change (a version saved, activated…), epoch ms. */
  since?: number;
}

const MINUTE = 60_000;

function cronOf(schedule: Schedule): Cron | null {
  try {
    return new Cron(schedule.cron, { timezone: schedule.timezone, paused: true });
  } catch {
    return null;
  }
}

/** The start of the minute `ms` falls in. */
export function minuteOf(ms: number): number {
  return Math.floor(ms / MINUTE) * MINUTE;
}

/** The schedules whose cron matches the minute starting at `minute`. */
export function dueAt(schedules: readonly Schedule[], minute: number): Schedule[] {
  return schedules.filter((schedule) => cronOf(schedule)?.match(new Date(minute)) ?? false);
}

/**
 * The schedules an alarm starts for `minute` when it comes at `current` (a minute start):
 * those due then, but for a minute already past only those that were as they are by then
 * (a schedule saved or activated at 10:30 does not catch up on 10:27).
 */
export function dueToStart(schedules: readonly Schedule[], minute: number, current: number): Schedule[] {
  return dueAt(schedules, minute).filter((schedule) => minute >= current || schedule.since === undefined || schedule.since <= minute);
}

/** The first minute after `after` in which any schedule is due, or null. */
export function nextDueMinute(schedules: readonly Schedule[], after: number): number | null {
  let next: number | null = null;
  for (const schedule of schedules) {
    const at = cronOf(schedule)?.nextRun(new Date(after))?.getTime();
    if (at !== undefined && (next === null || at < next)) next = at;
  }
  return next === null ? null : minuteOf(next);
}
