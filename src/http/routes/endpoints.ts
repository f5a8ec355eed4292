import { Hono } from "hono";
import { MAX_BODY_BYTES, readCappedText } from "../body";
import type { AppEnv } from "../context";
import { ApiError } from "../errors";
import { runnerFor } from "../../services/runner";
import { findTenantBySlug, SLUG } from "../../services/tenants";
import type { HttpInvocation } from "../../tenant/http-mapping";

/**
 * `ANY /t/:tenant/*`: the tenants' public HTTP endpoints (API.md §7). The Worker finds the
 * tenant without a D1 read per request (slugs never change, so the slug → id cache never
 * goes stale), caps the body at 1 MiB, and hands the request to the tenant's runner, which
 * matches the route and runs the script.
 */
export const endpointRoutes = new Hono<AppEnv>();

/** Slug → tenant id, per isolate. Unknown slugs are remembered briefly, so a new tenant appears within seconds. */
const tenantIds = new Map<string, { id: string | null; until: number }>();
const UNKNOWN_TENANT_TTL_MS = 5_000;
const MAX_CACHED_TENANTS = 10_000;

async function tenantIdFor(c: { var: AppEnv["Variables"] }, slug: string): Promise<string | null> {
  const cached = tenantIds.get(slug);
  if (cached && (cached.id !== null || cached.until > Date.now())) return cached.id;
  const tenant = SLUG.test(slug) ? await findTenantBySlug(c.var.db, slug) : undefined;
  if (tenantIds.size >= MAX_CACHED_TENANTS) tenantIds.clear();
  tenantIds.set(slug, { id: tenant?.id ?? null, until: Date.now() + UNKNOWN_TENANT_TTL_MS });
  return tenant?.id ?? null;
}

endpointRoutes.all("/:tenant/*", async (c) => {
  const slug = c.req.param("tenant");
  const tenantId = await tenantIdFor(c, slug);
  if (!tenantId) throw ApiError.notFound("endpoint");
  const url = new URL(c.req.url);
  const prefix = `/t/${slug}`;
  const path = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) || "/" : "/";
  const hasBody = c.req.method !== "GET" && c.req.method !== "HEAD";
  const invocation: HttpInvocation = {
    method: c.req.method,
    path: path.startsWith("/") ? path : `/${path}`,
    search: url.search.replace(/^\?/, ""),
    headers: [...c.req.raw.headers],
    body: hasBody ? await readCappedText(c.req.raw, MAX_BODY_BYTES) : null,
  };
  const reply = await runnerFor(c.env, tenantId).invokeHttp(invocation);
  return new Response(c.req.method === "HEAD" ? null : reply.body, { status: reply.status, headers: reply.headers });
});
