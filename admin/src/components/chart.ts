/**
 * A time-series chart: uPlot (small, canvas, no eval), loaded on first use so the sign-in
 * and list screens never carry it. Times are epoch ms; a null value is a gap.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "../ui";

export interface Series {
  label: string;
  values: Array<number | null>;
  color: string;
}

export function Chart({ id, title, times, series, unit }: { id: string; title: string; times: number[]; series: Series[]; unit?: string }) {
  const host = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let plot: { destroy(): void } | null = null;
    let live = true;
    void Promise.all([import("uplot"), import("uplot/dist/uPlot.min.css")])
      .then(([{ default: UPlot }]) => {
        if (!live || !host.current) return;
        const width = Math.max(320, host.current.clientWidth || 800);
        plot = new UPlot(
          {
            width,
            height: 220,
            series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, spanGaps: false, value: (_u: unknown, v: number | null) => (v === null ? "–" : `${round(v)}${unit ?? ""}`) }))],
            axes: [{}, { values: (_u: unknown, ticks: number[]) => ticks.map((t) => `${round(t)}${unit ?? ""}`) }],
            scales: { x: { time: true } },
            legend: { live: true },
          },
          [times.map((t) => t / 1000), ...series.map((s) => s.values)],
          host.current,
        );
      })
      .catch((e: unknown) => live && setError(e instanceof Error ? e.message : String(e)));
    return () => {
      live = false;
      plot?.destroy();
    };
  }, [times, series]);
  return html`
    <figure class="chart" data-testid=${`chart-${id}`}>
      <figcaption>${title}</figcaption>
      ${error && html`<p class="error">${error}</p>`}
      <div ref=${host}></div>
    </figure>
  `;
}

function round(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 10 ? value.toFixed(1) : String(Math.round(value * 100) / 100);
}
