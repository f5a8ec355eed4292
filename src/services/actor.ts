import type { TenantRow } from "../db/schema";
import type { Scope } from "../domain/scopes";

/** Who is calling: the platform admin, or a key of one tenant with its scopes. */
export type Principal =
  | { kind: "admin" }
  | { kind: "key"; keyId: string; tenant: TenantRow; scopes: Scope[] };

/** How a principal appears in the audit log and in `createdBy`. */
export function actorName(principal: Principal): string {
  return principal.kind === "admin" ? "admin" : `key:${principal.keyId}`;
}
