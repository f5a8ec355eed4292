/** Who is signed in and where the tenant's endpoints answer (GET /api/whoami), for every screen. */
import { createContext } from "preact";
import { useContext } from "preact/hooks";

export interface WhoAmI {
  principal: "admin" | "key";
  scopes: string[] | null;
  tenant: { slug: string; name: string };
  /** `path`: `<origin>/t/<slug>`; `host`: `<scheme>://<slug>.<TENANT_DOMAIN>` (or null). */
  endpoints: { path: string; host: string | null };
}

export const WhoAmIContext = createContext<WhoAmI | null>(null);

export const useWhoAmI = () => useContext(WhoAmIContext);
