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

/** The first minute after `after` in which any schedule is due, or null. */
export function nextDueMinute(schedules: readonly Schedule[], after: number): number | null {
  let next: number | null = null;
  for (const schedule of schedules) {
    const at = cronOf(schedule)?.nextRun(new Date(after))?.getTime();
    if (at !== undefined && (next === null || at < next)) next = at;
  }
  return next === null ? null : minuteOf(next);
}
