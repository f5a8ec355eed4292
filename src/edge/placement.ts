/**
 * Where a request to a tenant endpoint runs (API.md §14), decided in the Worker from the
 * isolate's cached catalogue: the edge when the matched script resolves to it — and also
 * when nothing matches, since a 404 needs no cell — else the tenant's cell.
 */
import { edgeCpuMs, type Placement, resolvePlacement } from "../domain/placement";
import type { RunnableScript } from "../tenant/catalogue";
import type { HttpInvocation } from "../tenant/http-mapping";
import type { EdgeTenant } from "./tenant";

export async function placeRequest(edge: EdgeTenant, env: { EDGE_CPU_MS?: string }, invocation: HttpInvocation): Promise<"edge" | "cell"> {
  const catalogue = edge.catalogue();
  const found = (await catalogue.routeTable()).match(invocation.method, invocation.path);
  if (!found || !("match" in found)) return "edge";
  const runnable = await catalogue.script(found.match.route.scriptId);
  if (!runnable || runnable.script.status !== "active") return "edge";
  return resolvePlacement({
    placement: placementOf(runnable),
    type: runnable.script.type,
    usesCellState: !runnable.compiled.ok || runnable.compiled.script.usesCellState,
    ownCpuMs: runnable.version.limits.cpuMs,
    edgeCpuMs: edgeCpuMs(env),
  });
}

/** A version's placement (versions saved before placement existed run in the cell). */
export function placementOf(runnable: RunnableScript): Placement {
  return (runnable.version as { placement?: Placement }).placement ?? "cell";
}
