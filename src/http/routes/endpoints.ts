import { type Context, Hono } from "hono";
import { MAX_BODY_BYTES, readCappedBytes } from "../body";
import type { AppEnv } from "../context";
import { ApiError } from "../errors";
import { placeRequest } from "../../edge/placement";
import { edgeTenant } from "../../edge/registry";
import { runnerFor } from "../../services/runner";
import { tenantIdFor } from "../../services/tenant-ids";
import { SLUG } from "../../services/tenants";
import { type HttpInvocation, isNullBodyStatus, splitTenantPath } from "../../tenant/http-mapping";

/**
 * `ANY /t/:tenant/*`: the tenants' public HTTP endpoints (API.md §7, §14). The Worker finds
 * the tenant without a D1 read per request (see tenant-ids.ts), caps the body at 1 MiB, and
 * runs the script where its placement says: here, at the edge (src/edge/), or in the
 * tenant's cell, which matches the route again and runs it.
 */
export const endpointRoutes = new Hono<AppEnv>();

endpointRoutes.all("/:tenant/*", async (c) => {
  // Slug and path come from the same normalised path (`/t/%61cme/x` is `/t/acme/x`).
  const target = splitTenantPath(new URL(c.req.url).pathname);
  if (!target) throw ApiError.notFound("endpoint");
  return serveEndpoint(c, target.slug, target.path, `/t/${target.slug}`);
});

/**
 * A request to a tenant's endpoint, at `/t/<slug>/<path>` or on the tenant's host
 * (`<slug>.<TENANT_DOMAIN>/<path>`, API.md §13): run where the script's placement says.
 */
export async function serveEndpoint(c: Context<AppEnv>, slug: string, path: string, basePath: string): Promise<Response> {
  const tenantId = await tenantIdFor(c.var.db, slug);
  if (!tenantId) throw ApiError.notFound("endpoint");
  const url = new URL(c.req.url);
  const hasBody = c.req.method !== "GET" && c.req.method !== "HEAD";
  const invocation: HttpInvocation = {
    method: c.req.method,
    path,
    search: url.search.replace(/^\?/, ""),
    headers: [...c.req.raw.headers],
    // Raw bytes: a fetch handler reads them as they came (API.md §13); the function form's text is decoded from them.
    body: hasBody ? await readCappedBytes(c.req.raw, MAX_BODY_BYTES) : null,
    url: c.req.url,
    basePath,
  };
  const edge = edgeTenant(c.env, tenantId);
  const tenant = await edge.catalogue().tenant();
  if (!tenant) throw ApiError.notFound("endpoint");
  const reply = (await placeRequest(edge, c.env, invocation)) === "edge" ? await edge.invoke(tenant, invocation, c.executionCtx) : await runnerFor(c.env, tenantId).invokeHttp(invocation);
  const body = c.req.method === "HEAD" || isNullBodyStatus(reply.status) ? null : reply.body;
  return new Response(body, { status: reply.status, headers: reply.headers });
}

/** The tenant slug of a tenant host (`acme.example.com` with TENANT_DOMAIN `example.com`), or null. */
export function tenantHostSlug(hostname: string, tenantDomain: string | undefined): string | null {
  const domain = (tenantDomain ?? "").trim().toLowerCase().replace(/^\.+|\.+$/g, "");
  if (domain === "") return null;
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (!host.endsWith(`.${domain}`)) return null;
  const slug = host.slice(0, -domain.length - 1);
  return SLUG.test(slug) ? slug : null;
}
