import type { Execution } from "../api";
import { bytes, html, Json, Status, when } from "../ui";

/** One execution's record: status, timing, error, result, logs, input, and a link to its trace. */
export function ExecutionDetail({ execution }: { execution: Execution }) {
  return html`
    <div class="execution" data-testid="execution">
      <p><${Status} value=${execution.status} /> <code>${execution.id}</code> · v${execution.version} · ${execution.trigger} · attempt ${execution.attempt}</p>
      <p class="timing">${execution.durationMs ?? "–"} ms · CPU ${execution.cpuMs ?? "–"} ms · memory ${bytes(execution.memoryBytes)} · ${execution.sdkCalls} SDK calls · ${when(execution.startedAt)}</p>
      ${execution.traceId && html`<p class="trace">Trace <a href=${`#/traces/${execution.traceId}`} data-testid="trace-link"><code>${execution.traceId}</code></a></p>`}
      ${execution.error && html`<div class="error-box"><strong>${execution.error.name}</strong>: ${execution.error.message}<pre>${execution.error.stack}</pre></div>`}
      <h4>Result</h4>
      <${Json} value=${execution.result} />
      <h4>Logs</h4>
      <ol class="logs">
        ${execution.logs.map((l) => html`<li class=${`log-${l.level}`}><time>${new Date(l.at).toLocaleTimeString()}</time> <b>${l.level}</b> ${l.message}</li>`)}
      </ol>
      <h4>Input</h4>
      <${Json} value=${execution.input} />
    </div>
  `;
}
