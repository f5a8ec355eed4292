/**
 * The live tail (API.md §15), pure: what a tail asks for (filters), what it is sent for one
 * finished execution (a summary with its log lines), how fast (a budget per tail, so a slow
 * or flooded tail is told how much it missed instead of buffering without bound), and the
 * wire formats (Server-Sent Events, WebSocket JSON messages).
 */
import type { LogEntry, LogLevel } from "../sandbox/host";
import type { ExecutionRecord } from "../tenant/records";

/** Tails open at once per tenant (SSE and WebSocket together). */
export const MAX_TAILS_PER_TENANT = 20;
/** What one tail is sent at most per second; more is skipped and counted. */
export const TAIL_EVENTS_PER_SECOND = 300;
export const TAIL_BYTES_PER_SECOND = 2 * 1024 * 1024;

export const TAIL_STATUSES = ["completed", "failed", "timeout"] as const;
export type TailStatus = (typeof TAIL_STATUSES)[number];
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

export interface TailFilter {
  scriptId?: string;
  /** Any of these statuses (all when absent). */
  statuses?: TailStatus[];
  /** Only executions with a log line at this level or above, sent with those lines only. */
  level?: LogLevel;
}

/** One finished execution as a tail sees it: the record without input and result (they can be large, and private to the caller). */
export type TailSummary = Pick<
  ExecutionRecord,
  "id" | "scriptId" | "version" | "trigger" | "status" | "attempt" | "startedAt" | "finishedAt" | "durationMs" | "cpuMs" | "memoryBytes" | "sdkCalls" | "traceId" | "logs"
> & { error: { name: string; message: string } | null };

export function summaryOf(record: ExecutionRecord): TailSummary {
  return {
    id: record.id,
    scriptId: record.scriptId,
    version: record.version,
    trigger: record.trigger,
    status: record.status,
    attempt: record.attempt,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
    durationMs: record.durationMs,
    cpuMs: record.cpuMs,
    memoryBytes: record.memoryBytes,
    sdkCalls: record.sdkCalls,
    traceId: record.traceId,
    error: record.error ? { name: record.error.name, message: record.error.message } : null,
    logs: record.logs,
  };
}

/** What `filter` lets through of `summary`: the summary (its logs cut to the level), or null. */
export function applyFilter(summary: TailSummary, filter: TailFilter): TailSummary | null {
  if (filter.scriptId !== undefined && summary.scriptId !== filter.scriptId) return null;
  if (filter.statuses !== undefined && !filter.statuses.includes(summary.status as TailStatus)) return null;
  if (filter.level === undefined) return summary;
  const logs = logsAtLeast(summary.logs, filter.level);
  return logs.length === 0 ? null : { ...summary, logs };
}

export function logsAtLeast(logs: LogEntry[], level: LogLevel): LogEntry[] {
  const min = LOG_LEVELS.indexOf(level);
  return logs.filter((entry) => LOG_LEVELS.indexOf(entry.level) >= min);
}

/**
 * A tail's budget: TAIL_EVENTS_PER_SECOND events and TAIL_BYTES_PER_SECOND bytes, refilled
 * continuously (token buckets), so a burst of one second's worth passes at once.
 */
export class TailBudget {
  private events = TAIL_EVENTS_PER_SECOND;
  private bytes = TAIL_BYTES_PER_SECOND;
  private last: number;

  constructor(private readonly clock: () => number = Date.now) {
    this.last = clock();
  }

  /** Takes one event of `size` bytes if the budget holds it. */
  take(size: number): boolean {
    const now = this.clock();
    const seconds = Math.max(0, now - this.last) / 1000;
    this.last = now;
    this.events = Math.min(TAIL_EVENTS_PER_SECOND, this.events + seconds * TAIL_EVENTS_PER_SECOND);
    this.bytes = Math.min(TAIL_BYTES_PER_SECOND, this.bytes + seconds * TAIL_BYTES_PER_SECOND);
    if (this.events < 1 || this.bytes < size) return false;
    this.events -= 1;
    this.bytes -= size;
    return true;
  }
}

/** What a tail is sent. */
export type TailMessage = { event: "ready"; data: { filter: TailFilter } } | { event: "execution"; data: TailSummary } | { event: "skipped"; data: { count: number } };

/** One Server-Sent Event (`event:` and one `data:` line of JSON, which has no newlines). */
export function sseFrame(message: TailMessage): string {
  return `event: ${message.event}\ndata: ${JSON.stringify(message.data)}\n\n`;
}

/** An SSE comment: keeps proxies from closing an idle stream, and tells a dead one. */
export const SSE_KEEPALIVE = ": keep-alive\n\n";

/** One WebSocket text message: `{"event": …, "data": …}`. */
export function socketFrame(message: TailMessage): string {
  return JSON.stringify(message);
}
