/**
 * The records a tenant's runner answers with, exactly as the API returns them (API.md §7,
 * §10). Free of Workers types, so the admin UI takes its types from here too.
 */
import type { JsonValue } from "../lib/json";
import type { ExecutionError } from "../sandbox/errors";
import type { LogEntry } from "../sandbox/host";

export type ExecutionStatus = "pending" | "running" | "completed" | "failed" | "timeout" | "cancelled";
/** What started an execution (a script's trigger *configuration* is domain/triggers.ts's `Trigger`). */
export type TriggerKind = "http" | "event" | "scheduled" | "manual";

export interface ExecutionRecord {
  id: string;
  scriptId: string;
  version: number;
  trigger: TriggerKind;
  status: ExecutionStatus;
  attempt: number;
  input: JsonValue;
  result: JsonValue;
  error: ExecutionError | null;
  logs: LogEntry[];
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  cpuMs: number | null;
  memoryBytes: number | null;
  sdkCalls: number;
  /** The W3C trace this execution belongs to (API.md §15); null for executions recorded before traces existed. */
  traceId: string | null;
  /** The modules it ran with (API.md §13), each at the version used; [] when it imports none. */
  modules: Array<{ name: string; version: number }>;
  /**
   * Milliseconds from the start until the HTTP response left, when a fetch handler's
   * response left before the execution ended (`waitUntil` work, API.md §13); absent otherwise.
   */
  responseMs?: number;
}

export interface DeadLetter {
  id: string;
  scriptId: string | null;
  eventId: string;
  eventType: string | null;
  payload: JsonValue;
  attempts: number;
  error: { name: string; message: string };
  firstFailedAt: string;
  lastFailedAt: string;
  replayCount: number;
  replayedAt: string | null;
  replayExecutionId: string | null;
}

/** How an execution ended, as the cell stores it (`TenantStore.finishExecution`). */
export interface FinishedOutcome {
  status: Exclude<ExecutionStatus, "pending" | "running">;
  /** The result as the JSON text the script produced. */
  resultJson: string | undefined;
  error: ExecutionError | null;
  logs: LogEntry[];
  finishedAt: number;
  durationMs: number;
  cpuMs: number;
  memoryBytes: number;
  sdkCalls: number;
  /** The modules it ran with (API.md §13). */
  modules?: Array<{ name: string; version: number }>;
  /** When an early response left (a fetch handler's); null or absent when none did (and from edges that predate it). */
  responseMs?: number | null;
}

/**
 * An execution that ran at the edge, as the Worker hands it to the tenant's cell after the
 * response (edge/reporter.ts): the cell stores it as it stores its own.
 */
export interface EdgeRecord extends FinishedOutcome {
  id: string;
  scriptId: string;
  version: number;
  trigger: TriggerKind;
  attempt: number;
  input: unknown;
  startedAt: number;
  /** The trace the execution is a span of (API.md §15). */
  traceId: string | null;
  status: "completed" | "failed" | "timeout";
}
