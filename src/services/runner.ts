import type { InvalidateScope } from "../tenant/catalogue";
import type { HttpInvocation, HttpReply } from "../tenant/http-mapping";
import type { ManualRun, TenantRunner, Usage } from "../tenant/runner";
import type { ExecutionFilter, ExecutionRecord } from "../tenant/store";

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
  };
}
