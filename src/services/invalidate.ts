import { invalidateEdge } from "../edge/registry";
import type { InvalidateScope } from "../tenant/catalogue";
import { runnerFor } from "./runner";

/**
 * After a catalogue write that concerns a tenant: its cell drops what it cached, and so
 * does this isolate's edge cache, so the change is served at once here (other isolates
 * within the edge cache's bound, API.md §14).
 */
export async function invalidateTenant(env: Env, tenantId: string, scope: InvalidateScope) {
  invalidateEdge(tenantId);
  await runnerFor(env, tenantId).invalidate(scope);
}
