/**
 * Metrics rollups (API.md §15), pure: how finished executions and admission refusals become
 * per-minute and per-hour counters, for each script and for the tenant as a whole, and how
 * two rollups of the same bucket merge. The cell (tenant/metrics.ts) stores them; whoever
 * ran an execution (the cell, later the edge) only has to hand over its records.
 */
import { Sketch } from "./sketch";

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const STEPS = { minute: MINUTE_MS, hour: HOUR_MS } as const;
export type StepName = keyof typeof STEPS;

/** The scope key of the whole tenant (script ids are never empty). */
export const TENANT_SCOPE = "";

/** What the rollups need of one finished execution. */
export interface ExecutionSample {
  scriptId: string;
  status: "completed" | "failed" | "timeout";
  /** Epoch ms: the bucket it counts in. */
  finishedAt: number;
  /** Null for an execution a restart cut (it has no duration): counted, but not in the percentiles. */
  durationMs: number | null;
  cpuMs: number;
  sdkCalls: number;
}

/** One bucket of one scope: a step-long window starting at `at`. */
export interface Rollup {
  step: number;
  scriptId: string;
  at: number;
  invocations: number;
  completed: number;
  failed: number;
  timeouts: number;
  refused: number;
  cpuSum: number;
  cpuMax: number;
  sdkCalls: number;
  duration: Sketch;
}

export function bucketStart(time: number, step: number): number {
  return Math.floor(time / step) * step;
}

export function emptyRollup(step: number, scriptId: string, at: number): Rollup {
  return { step, scriptId, at, invocations: 0, completed: 0, failed: 0, timeouts: 0, refused: 0, cpuSum: 0, cpuMax: 0, sdkCalls: 0, duration: new Sketch() };
}

export function rollupKey(step: number, scriptId: string, at: number): string {
  return `${step}|${scriptId}|${at}`;
}

/**
 * The rollups a batch of samples adds to: one per step (minute, hour), scope (the script,
 * the tenant) and bucket the samples fall in. Each sample counts once in each.
 */
export function rollUp(samples: Iterable<ExecutionSample>): Map<string, Rollup> {
  const out = new Map<string, Rollup>();
  for (const sample of samples) {
    for (const step of [MINUTE_MS, HOUR_MS]) {
      for (const scope of [sample.scriptId, TENANT_SCOPE]) {
        const at = bucketStart(sample.finishedAt, step);
        const key = rollupKey(step, scope, at);
        let rollup = out.get(key);
        if (!rollup) out.set(key, (rollup = emptyRollup(step, scope, at)));
        addSample(rollup, sample);
      }
    }
  }
  return out;
}

function addSample(rollup: Rollup, sample: ExecutionSample) {
  rollup.invocations += 1;
  if (sample.status === "completed") rollup.completed += 1;
  else if (sample.status === "failed") rollup.failed += 1;
  else rollup.timeouts += 1;
  const cpu = Number.isFinite(sample.cpuMs) && sample.cpuMs > 0 ? sample.cpuMs : 0;
  rollup.cpuSum += cpu;
  rollup.cpuMax = Math.max(rollup.cpuMax, cpu);
  rollup.sdkCalls += Number.isFinite(sample.sdkCalls) ? sample.sdkCalls : 0;
  if (sample.durationMs !== null) rollup.duration.add(sample.durationMs);
}

/** The keys a refusal of `scriptId` at `at` counts in (minute and hour; script and tenant). */
export function refusalKeys(scriptId: string, at: number): Array<{ step: number; scriptId: string; at: number }> {
  return [MINUTE_MS, HOUR_MS].flatMap((step) => [scriptId, TENANT_SCOPE].map((scope) => ({ step, scriptId: scope, at: bucketStart(at, step) })));
}

/** `into` plus `other` (same step, scope and bucket): counts add, maxima take the larger, sketches merge. */
export function mergeRollup(into: Rollup, other: Rollup): Rollup {
  into.invocations += other.invocations;
  into.completed += other.completed;
  into.failed += other.failed;
  into.timeouts += other.timeouts;
  into.refused += other.refused;
  into.cpuSum += other.cpuSum;
  into.cpuMax = Math.max(into.cpuMax, other.cpuMax);
  into.sdkCalls += other.sdkCalls;
  into.duration.merge(other.duration);
  return into;
}

/** A point of the API's answer (API.md §15). Percentiles are null where nothing ran. */
export interface MetricsPoint {
  at: string;
  invocations: number;
  completed: number;
  failed: number;
  timeouts: number;
  refused: number;
  durationMs: { p50: number | null; p95: number | null; p99: number | null };
  cpuMs: { sum: number; max: number };
  sdkCalls: number;
}

/** A script's totals over a window (the tenant overview, `GET /api/metrics/scripts`). */
export interface ScriptTotals extends Omit<MetricsPoint, "at"> {
  scriptId: string;
}

/** The percentiles the API shows, rounded to the microsecond (the sketch is good to 1 %). */
export function percentiles(sketch: Sketch): MetricsPoint["durationMs"] {
  const at = (q: number) => {
    const value = sketch.quantile(q);
    return value === null ? null : roundMs(value);
  };
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

export function roundMs(value: number): number {
  return Math.round(value * 1000) / 1000;
}
