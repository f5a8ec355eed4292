/**
 * A request to one of the tenant's http endpoints (API.md §7), as the cell answers it:
 * the route, the script's event, the execution, and the reply the script's result maps to
 * (or the platform's error in the §3 envelope), with the platform's headers.
 */
import type { TenantRow } from "../db/schema";
import type { Executor, Refusal } from "../executor/executor";
import type { Catalogue, RunnableScript } from "./catalogue";
import { buildEvent, buildReply, type HttpInvocation, type HttpReply, redactEvent, withPlatformHeaders } from "./http-mapping";
import { quotaMessage } from "./quota-ledger";
import { parseTraceparent } from "../observability/trace";

export interface EndpointHooks {
  /** Where this runs, for Server-Timing (API.md §14). */
  placement?: "edge" | "cell";
  /** The script as this request runs it (the benchmark swaps in a cold one). */
  forRequest?: (runnable: RunnableScript, invocation: HttpInvocation) => RunnableScript;
  afterRequest?: (runnable: RunnableScript) => void;
}

export async function invokeEndpoint(tenant: TenantRow, catalogue: Catalogue, executor: Executor, invocation: HttpInvocation, hooks: EndpointHooks = {}): Promise<HttpReply> {
  const found = (await catalogue.routeTable()).match(invocation.method, invocation.path);
  if (!found || !("match" in found)) {
    const answers = found ? ` (this path answers ${found.allowed.join(", ")})` : "";
    return errorReply(404, "not_found", `no route for ${invocation.method} ${invocation.path}${answers}`);
  }
  const cached = await catalogue.script(found.match.route.scriptId);
  if (!cached || cached.script.status !== "active") return errorReply(404, "not_found", `no route for ${invocation.method} ${invocation.path}`);
  const built = buildEvent(invocation, found.match.params);
  if ("error" in built) return errorReply(400, "invalid_request", built.error);

  const runnable = hooks.forRequest?.(cached, invocation) ?? cached;
  // The caller's trace, kept when its traceparent is valid (else the execution starts one).
  const traceparent = invocation.headers.find(([name]) => name.toLowerCase() === "traceparent")?.[1];
  const trace = parseTraceparent(traceparent);
  const outcome = await executor.execute(tenant, { runnable, trigger: "http", event: built.event, recordedInput: redactEvent(built.event), trace });
  hooks.afterRequest?.(runnable);
  if ("refused" in outcome) return refusalReply(outcome);
  const { execution, resultJson } = outcome;
  // The execution id, and the time spent in the sandbox (Server-Timing), on every script response.
  const withId = (reply: HttpReply): HttpReply => withPlatformHeaders(reply, { executionId: execution.id, sandboxMs: outcome.sandboxMs, placement: hooks.placement ?? "cell" });
  if (execution.status === "timeout") return withId(errorReply(504, "script_timeout", "the script did not finish in time", { executionId: execution.id }));
  if (execution.status !== "completed") return withId(errorReply(500, "script_error", "the script failed", { executionId: execution.id }));
  const mapped = buildReply(resultJson === undefined ? undefined : JSON.parse(resultJson));
  if ("error" in mapped) return withId(errorReply(500, "script_error", mapped.error, { executionId: execution.id }));
  return withId(mapped.reply);
}

function errorReply(status: number, code: string, message: string, details?: unknown): HttpReply {
  const error = details === undefined ? { code, message } : { code, message, details };
  return { status, headers: [["content-type", "application/json; charset=utf-8"]], body: JSON.stringify({ error }) };
}

function refusalReply(outcome: Refusal): HttpReply {
  const { reason, retryAfterSeconds } = outcome.refused;
  const reply = errorReply(429, "quota_exceeded", quotaMessage(reason), { reason, retryAfterSeconds });
  return { ...reply, headers: [...reply.headers, ["retry-after", String(retryAfterSeconds)]] };
}
