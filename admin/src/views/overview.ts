import { useState } from "preact/hooks";
import { api, type Script } from "../api";
import type { ScriptTotals } from "../../../src/observability/rollup";
import { ErrorNote, html, useLoad } from "../ui";
import { MetricsCharts, metricsQuery, WindowPicker } from "./metrics";


/** The tenant at a glance: its traffic and latency, its busiest scripts and its most failing ones. */
export function OverviewView() {
  const [windowIndex, setWindowIndex] = useState(3);
  const names = useLoad(async () => new Map((await api<{ items: Script[] }>("/api/scripts?limit=200")).data.items.map((s) => [s.id, s.name])), []);
  const ranked = (sort: "invocations" | "errors") => async () => (await api<{ items: ScriptTotals[] }>(`/api/metrics/scripts?${metricsQuery(windowIndex)}&sort=${sort}&limit=10`)).data.items;
  const busiest = useLoad(ranked("invocations"), [windowIndex], 10_000);
  const failing = useLoad(ranked("errors"), [windowIndex], 10_000);
  const name = (id: string) => names.data?.get(id) ?? id;

  const table = (testId: string, rows: ScriptTotals[] | undefined, filter: (row: ScriptTotals) => boolean) => html`
    <table class="list" data-testid=${testId}>
      <thead><tr><th>Script</th><th>Invocations</th><th>Errors</th><th>Refused</th><th>p50 ms</th><th>p99 ms</th></tr></thead>
      <tbody>
        ${(rows ?? []).filter(filter).map(
          (row) => html`<tr>
            <td><a href=${`#/scripts/${row.scriptId}/metrics`}>${name(row.scriptId)}</a></td><td>${row.invocations}</td><td>${row.failed + row.timeouts}</td><td>${row.refused}</td>
            <td>${row.durationMs.p50 ?? "–"}</td><td>${row.durationMs.p99 ?? "–"}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  `;

  return html`
    <section>
      <header class="bar"><h2>Overview</h2></header>
      <${MetricsCharts} path="/api/metrics" name="all scripts" />
      <div class="filters"><h3>Scripts</h3> <${WindowPicker} value=${windowIndex} onChange=${setWindowIndex} /></div>
      <${ErrorNote} error=${busiest.error ?? failing.error} />
      <div class="columns">
        <div><h4>Busiest</h4>${table("busiest", busiest.data, (row) => row.invocations > 0)}</div>
        <div><h4>Most failing</h4>${table("failing", failing.data, (row) => row.failed + row.timeouts > 0)}</div>
      </div>
    </section>
  `;
}
