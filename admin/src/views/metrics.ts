import { useMemo, useState } from "preact/hooks";
import { api } from "../api";
import { Chart } from "../components/chart";
import { ErrorNote, html, useLoad } from "../ui";
// A point as the metrics endpoints answer it (API.md §15), typed where the Worker builds it.
import type { MetricsPoint } from "../../../src/observability/rollup";

export interface MetricsAnswer {
  from: string;
  to: string;
  step: "minute" | "hour";
  points: MetricsPoint[];
}

/** The windows a user picks from: each within its step's retention and the 1 500-point cap. */
export const WINDOWS = [
  { label: "1 hour", spanMs: 3_600_000, step: "minute" },
  { label: "6 hours", spanMs: 6 * 3_600_000, step: "minute" },
  { label: "24 hours", spanMs: 24 * 3_600_000, step: "minute" },
  { label: "7 days", spanMs: 7 * 86_400_000, step: "hour" },
  { label: "30 days", spanMs: 29 * 86_400_000, step: "hour" },
] as const;

export function metricsQuery(windowIndex: number): string {
  const window = WINDOWS[windowIndex]!;
  // `from` a little inside the window, so the aligned window never reaches past retention.
  return new URLSearchParams({ step: window.step, from: new Date(Date.now() - window.spanMs + 60_000).toISOString() }).toString();
}

export function WindowPicker({ value, onChange }: { value: number; onChange: (index: number) => void }) {
  return html`<select aria-label="window" value=${value} onChange=${(e: Event) => onChange(Number((e.target as HTMLSelectElement).value))}>
    ${WINDOWS.map((w, i) => html`<option value=${i}>last ${w.label}</option>`)}
  </select>`;
}

/** A script's (or the tenant's) charts: invocations and errors, and latency percentiles. Refreshes every 10 s. */
export function MetricsCharts({ path, name }: { path: string; name: string }) {
  const [windowIndex, setWindowIndex] = useState(0);
  const metrics = useLoad(async () => (await api<MetricsAnswer>(`${path}?${metricsQuery(windowIndex)}`)).data, [path, windowIndex], 10_000);
  const data = metrics.data;
  const charts = useMemo(() => {
    if (!data) return null;
    const times = data.points.map((p) => Date.parse(p.at));
    return {
      times,
      traffic: [
        { label: "invocations", color: "#0b57d0", values: data.points.map((p) => p.invocations) },
        { label: "errors", color: "#b3261e", values: data.points.map((p) => p.failed + p.timeouts) },
        { label: "refused", color: "#a87b00", values: data.points.map((p) => p.refused) },
      ],
      latency: [
        { label: "p50", color: "#0d652d", values: data.points.map((p) => p.durationMs.p50) },
        { label: "p95", color: "#a87b00", values: data.points.map((p) => p.durationMs.p95) },
        { label: "p99", color: "#b3261e", values: data.points.map((p) => p.durationMs.p99) },
      ],
      totals: data.points.reduce((t, p) => ({ invocations: t.invocations + p.invocations, errors: t.errors + p.failed + p.timeouts, refused: t.refused + p.refused }), { invocations: 0, errors: 0, refused: 0 }),
    };
  }, [data]);
  return html`
    <div class="metrics">
      <div class="filters">
        <${WindowPicker} value=${windowIndex} onChange=${setWindowIndex} />
        <span class="hint">by ${data?.step ?? WINDOWS[windowIndex]!.step}, refreshes every 10 s</span>
        ${charts && html`<span class="totals" data-testid="metrics-totals">${charts.totals.invocations} invocations · ${charts.totals.errors} errors · ${charts.totals.refused} refused</span>`}
      </div>
      <${ErrorNote} error=${metrics.error} />
      ${charts &&
      html`<div class="charts">
        <${Chart} id="invocations" title=${`${name}: invocations and errors per ${data!.step}`} times=${charts.times} series=${charts.traffic} />
        <${Chart} id="latency" title=${`${name}: duration percentiles`} times=${charts.times} series=${charts.latency} unit=" ms" />
      </div>`}
    </div>
  `;
}

export function MetricsTab({ scriptId }: { scriptId: string }) {
  return html`<${MetricsCharts} path=${`/api/scripts/${scriptId}/metrics`} name="this script" />`;
}
