import type { QueueMessage } from "../events/messages";
import type { JsonValue } from "../lib/json";
import type { InvalidateScope } from "../tenant/catalogue";
import type { DeadLetterFilter } from "../tenant/event-store";
import type { DeadLetter, ExecutionRecord } from "../tenant/records";
import type { LeaseAnswer, LeaseRequest } from "../tenant/edge-leases";
import type { EdgeReport } from "../edge/reporter";
import type { PublishedEvent } from "../host/host-api";
import type { HttpInvocation, HttpReply } from "../tenant/http-mapping";
import type { EventView, ManualRun, QueueVerdict, TenantRunner, Usage } from "../tenant/runner";
import type { ExecutionFilter } from "../tenant/store";
import type { MetricsWindow } from "../observability/window";
import { TAIL_HEADERS } from "../tenant/tails";
import type { TailFilter } from "../observability/tail";

type RunnerMethod<K extends keyof TenantRunner> = TenantRunner[K] extends (tenantId: string, ...args: infer A) => infer R ? (...args: A) => R : never;

/**
 * The Worker's handle on a tenant's TenantRunner (one Durable Object per tenant, addressed
 * by tenant id). Every call names the tenant. The RPC stub's inferred types for recursive
 * JSON values are too deep for TypeScript, so the boundary is typed here, once, from the
 * runner's own signatures.
 */
export function runnerFor(env: Env, tenantId: string) {
  const stub = env.TENANT_RUNNER.get(env.TENANT_RUNNER.idFromName(tenantId)) as unknown as TenantRunner;
  return {
    invokeHttp: ((invocation: HttpInvocation): Promise<HttpReply> => stub.invokeHttp(tenantId, invocation)) satisfies RunnerMethod<"invokeHttp">,
    runManual: ((run: ManualRun) => stub.runManual(tenantId, run)) satisfies RunnerMethod<"runManual">,
    listExecutions: ((filter: ExecutionFilter): Promise<ExecutionRecord[]> => stub.listExecutions(tenantId, filter)) satisfies RunnerMethod<"listExecutions">,
    getExecution: ((id: string) => stub.getExecution(tenantId, id)) satisfies RunnerMethod<"getExecution">,
    usage: ((): Promise<Usage> => stub.usage(tenantId)) satisfies RunnerMethod<"usage">,
    invalidate: ((scope: InvalidateScope) => stub.invalidate(tenantId, scope)) satisfies RunnerMethod<"invalidate">,
    acceptEvent: ((input: { type: string; payload: JsonValue; idempotencyKey?: string; traceparent?: string }) => stub.acceptEvent(tenantId, input)) satisfies RunnerMethod<"acceptEvent">,
    receive: ((items: Array<{ body: QueueMessage; attempts: number }>): Promise<QueueVerdict[]> => stub.receive(tenantId, items)) satisfies RunnerMethod<"receive">,
    deadLettered: ((message: QueueMessage, attempts: number) => stub.deadLettered(tenantId, message, attempts)) satisfies RunnerMethod<"deadLettered">,
    rejectMessage: ((body: JsonValue, reason: string) => stub.rejectMessage(tenantId, body, reason)) satisfies RunnerMethod<"rejectMessage">,
    getEvent: ((id: string): Promise<EventView | null> => stub.getEvent(tenantId, id)) satisfies RunnerMethod<"getEvent">,
    listDeadLetters: ((filter: DeadLetterFilter): Promise<DeadLetter[]> => stub.listDeadLetters(tenantId, filter)) satisfies RunnerMethod<"listDeadLetters">,
    getDeadLetter: ((id: string): Promise<DeadLetter | null> => stub.getDeadLetter(tenantId, id)) satisfies RunnerMethod<"getDeadLetter">,
    replayDeadLetter: ((id: string): Promise<DeadLetter | null> => stub.replayDeadLetter(tenantId, id)) satisfies RunnerMethod<"replayDeadLetter">,
    replayDeadLetters: ((selection: { ids?: string[]; scriptId?: string; since?: number }) => stub.replayDeadLetters(tenantId, selection)) satisfies RunnerMethod<"replayDeadLetters">,
    deleteDeadLetter: ((id: string) => stub.deleteDeadLetter(tenantId, id)) satisfies RunnerMethod<"deleteDeadLetter">,
    metricsJson: ((scope: string, window: MetricsWindow) => stub.metricsJson(tenantId, scope, window)) satisfies RunnerMethod<"metricsJson">,
    scriptTotals: ((window: MetricsWindow, sort: "invocations" | "errors", limit: number) => stub.scriptTotals(tenantId, window, sort, limit)) satisfies RunnerMethod<"scriptTotals">,
    issueTailTicket: (() => stub.issueTailTicket(tenantId)) satisfies RunnerMethod<"issueTailTicket">,
    /**
     * A tail (SSE stream or WebSocket) from the cell: the request's own headers (an
     * `Upgrade: websocket` stays) plus the tenant, the filter and a ticket to redeem.
     */
    tail: (request: Request, filter: TailFilter, ticket?: string): Promise<Response> => {
      const headers = new Headers(request.headers);
      headers.delete("authorization");
      headers.set(TAIL_HEADERS.tenant, tenantId);
      headers.set(TAIL_HEADERS.filter, JSON.stringify(filter));
      if (ticket !== undefined) headers.set(TAIL_HEADERS.ticket, ticket);
      return (stub as unknown as { fetch: (request: Request) => Promise<Response> }).fetch(new Request("https://cell/tail", { headers }));
    },
    edgeLease: ((want: LeaseRequest): Promise<LeaseAnswer> => stub.edgeLease(tenantId, want)) satisfies RunnerMethod<"edgeLease">,
    edgeOutbound: ((leaseId: string, want: number): Promise<number> => stub.edgeOutbound(tenantId, leaseId, want)) satisfies RunnerMethod<"edgeOutbound">,
    edgeReport: ((report: EdgeReport): Promise<void> => stub.edgeReport(tenantId, report)) satisfies RunnerMethod<"edgeReport">,
    edgePublish: ((events: PublishedEvent[], source: string): Promise<void> => stub.edgePublish(tenantId, events, source)) satisfies RunnerMethod<"edgePublish">,
    edgeDb: ((op: Parameters<TenantRunner["edgeDb"]>[1], args: unknown[], dbBytes: number): Promise<unknown> => stub.edgeDb(tenantId, op, args, dbBytes)) satisfies RunnerMethod<"edgeDb">,
  };
}
