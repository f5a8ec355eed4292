/**
 * Which buckets a metrics query covers (API.md §15), pure: defaults, alignment to the step,
 * the 1 500-point cap and the retention of each step. A window the rollups cannot answer is
 * refused (400) rather than answered with made-up zeros.
 */
import type { FieldProblem } from "../domain/errors";
import { HOUR_MS, MINUTE_MS, STEPS, type StepName } from "./rollup";

export const MAX_POINTS = 1_500;
/** How long the cell keeps each step's rollups (its alarm purges older ones). */
export const METRICS_RETENTION_MS: Record<StepName, number> = { minute: 48 * HOUR_MS, hour: 30 * 24 * HOUR_MS };
/** The window when only the step (or nothing) is given: the last hour by minute, the last day by hour. */
export const DEFAULT_SPAN_MS: Record<StepName, number> = { minute: HOUR_MS, hour: 24 * HOUR_MS };

export interface MetricsWindow {
  step: StepName;
  stepMs: number;
  /** Epoch ms, aligned to the step; the first bucket. */
  from: number;
  /** Epoch ms, aligned to the step; the end (exclusive). */
  to: number;
}

export interface WindowQuery {
  from?: number;
  to?: number;
  step?: StepName;
}

/**
 * The window a query asks for at `now`: `to` defaults to now and `from` to the step's
 * default span before `to`; both are aligned outward to the step (`to` is exclusive: the
 * bucket holding it is included unless `to` is exactly its start). Refused: `from` not before `to`, more than MAX_POINTS buckets, `from`
 * older than the step's retention, `to` more than one step in the future.
 */
export function metricsWindow(query: WindowQuery, now: number): { window: MetricsWindow } | { problems: FieldProblem[] } {
  const step = query.step ?? "minute";
  const stepMs = STEPS[step];
  const to = query.to ?? now;
  const from = query.from ?? to - DEFAULT_SPAN_MS[step];
  const problems: FieldProblem[] = [];
  if (from >= to) problems.push({ path: "from", message: "must be before to" });
  if (to > now + stepMs) problems.push({ path: "to", message: "must not be in the future" });
  const alignedFrom = Math.floor(from / stepMs) * stepMs;
  const alignedTo = Math.ceil(to / stepMs) * stepMs;
  const oldest = Math.floor((now - METRICS_RETENTION_MS[step]) / stepMs) * stepMs;
  if (alignedFrom < oldest) {
    problems.push({ path: "from", message: `${step} metrics are kept ${step === "minute" ? "48 hours" : "30 days"}: from must be at or after ${new Date(oldest).toISOString()}${step === "minute" ? " (use step=hour for older windows)" : ""}` });
  }
  const points = (alignedTo - alignedFrom) / stepMs;
  if (problems.length === 0 && points > MAX_POINTS) problems.push({ path: "from", message: `the window holds ${points} ${step}s; at most ${MAX_POINTS} points (use a shorter window or step=hour)` });
  if (problems.length > 0) return { problems };
  return { window: { step, stepMs, from: alignedFrom, to: alignedTo } };
}

/** The bucket starts of a window, in order. */
export function bucketsOf(window: MetricsWindow): number[] {
  const out: number[] = [];
  for (let at = window.from; at < window.to; at += window.stepMs) out.push(at);
  return out;
}

export { HOUR_MS, MINUTE_MS };
