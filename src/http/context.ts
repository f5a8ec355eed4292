import type { Db } from "../db/client";
import type { TenantRow } from "../db/schema";
import type { Principal } from "../services/actor";

/** What every route can read from Hono's context. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    db: Db;
    principal: Principal;
    /** The tenant a tenant route acts on (the key's own, or the admin's `X-Tenant`). */
    tenant: TenantRow;
  };
}
