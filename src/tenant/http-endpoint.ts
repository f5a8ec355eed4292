/**
 * A request to one of the tenant's http endpoints (API.md §7), as the cell answers it:
 * the route, the script's event, the execution, and the reply the script's result maps to
 * (or the platform's error in the §3 envelope), with the platform's headers.
 */
import type { TenantRow } from "../db/schema";
import type { Executor, Refusal, Run } from "../executor/executor";
import type { Catalogue, RunnableScript } from "./catalogue";
import { bodyBytes, buildEvent, buildReply, type HttpInvocation, type HttpReply, recordedBody, redactEvent, responseReply, withPlatformHeaders } from "./http-mapping";
import { quotaMessage } from "./quota-ledger";
import { parseTraceparent } from "../observability/trace";

export interface EndpointHooks {
  /** Where this runs, for Server-Timing (API.md §14). */
  placement?: "edge" | "cell";
  /** The script as this request runs it (the benchmark swaps in a cold one). */
  forRequest?: (runnable: RunnableScript, invocation: HttpInvocation) => RunnableScript;
  afterRequest?: (runnable: RunnableScript) => void;
  /**
   * Takes the rest of an execution whose response left early (a fetch handler's `waitUntil`
   * work, API.md §13): the placement keeps it running (the Worker's or the cell's waitUntil).
   */
  background?: (rest: Promise<unknown>) => void;
}

export async function invokeEndpoint(tenant: TenantRow, catalogue: Catalogue, executor: Executor, invocation: HttpInvocation, hooks: EndpointHooks = {}): Promise<HttpReply> {
  const found = (await catalogue.routeTable()).match(invocation.method, invocation.path);
  if (!found || !("match" in found)) {
    const answers = found ? ` (this path answers ${found.allowed.join(", ")})` : "";
    return errorReply(404, "not_found", `no route for ${invocation.method} ${invocation.path}${answers}`);
  }
  const cached = await catalogue.script(found.match.route.scriptId);
  if (!cached || cached.script.status !== "active") return errorReply(404, "not_found", `no route for ${invocation.method} ${invocation.path}`);
  // A handler object reads the raw body itself: no JSON check before it runs (API.md §13).
  const handlerObject = cached.compiled.ok && cached.compiled.script.shape?.form === "object";
  const built = buildEvent(invocation, found.match.params, { checkBody: !handlerObject });
  // As the API answers a malformed body (http/body.ts): the body is the field at path "".
  if ("error" in built) return errorReply(400, "invalid_request", built.error, [{ path: "", message: built.error }]);

  const runnable = hooks.forRequest?.(cached, invocation) ?? cached;
  // The caller's trace, kept when its traceparent is valid (else the execution starts one).
  const traceparent = invocation.headers.find(([name]) => name.toLowerCase() === "traceparent")?.[1];
  const trace = parseTraceparent(traceparent);
  const placement = hooks.placement ?? "cell";
  let early!: (reply: HttpReply) => void;
  const responded = new Promise<HttpReply>((resolve) => (early = resolve));
  // A handler object reads its body from the Request (as bytes): the event it is not given
  // carries no copy of it into the sandbox (a 1 MiB binary body as JSON text cost seconds of
  // CPU and the whole memory limit), and its record keeps the body as text, or says its size.
  const event = handlerObject ? { ...built.event, body: null, rawBody: "" } : built.event;
  const recorded = handlerObject ? { ...built.event, body: recordedBody(invocation.body) } : built.event;
  const running = executor.execute(tenant, {
    runnable,
    trigger: "http",
    event,
    recordedInput: redactEvent(recorded),
    trace,
    request: { url: invocation.url ?? `http://localhost${invocation.path}${invocation.search === "" ? "" : `?${invocation.search}`}`, method: invocation.method, headers: invocation.headers, body: bodyBytes(invocation.body) },
    basePath: invocation.basePath ?? "",
    // A fetch handler's Response leaves now; the execution (its waitUntil work) goes on.
    onResponse: (response, at) => early(withPlatformHeaders(responseReply(response), { executionId: at.executionId, sandboxMs: at.sandboxMs, placement })),
  });
  const first = await Promise.race([responded.then((reply) => ({ reply })), running.then((outcome) => ({ outcome }))]);
  if ("reply" in first) {
    hooks.background?.(running.then(() => hooks.afterRequest?.(runnable)));
    return first.reply;
  }
  const outcome = first.outcome;
  hooks.afterRequest?.(runnable);
  if ("refused" in outcome) return refusalReply(outcome);
  return scriptReply(outcome, placement);
}

/** The response of an execution that ended before any early response: the function form's value mapped (§7), or the platform's error. */
function scriptReply(outcome: Run, placement: "edge" | "cell"): HttpReply {
  const { execution, resultJson } = outcome;
  // The execution id, and the time spent in the sandbox (Server-Timing), on every script response.
  const withId = (reply: HttpReply): HttpReply => withPlatformHeaders(reply, { executionId: execution.id, sandboxMs: outcome.sandboxMs, placement });
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
