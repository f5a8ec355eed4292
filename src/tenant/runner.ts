import { DurableObject } from "cloudflare:workers";

/**
 * One per tenant (addressed by tenant id): runs the tenant's scripts under its quotas and
 * keeps its traffic in its own SQLite storage. Filled by the TenantRunner issue.
 */
export class TenantRunner extends DurableObject<Env> {}
