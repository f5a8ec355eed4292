import { Hono } from "hono";
import { MAX_BODY_BYTES, readCappedText } from "../body";
import type { AppEnv } from "../context";
import { ApiError } from "../errors";
import { placeRequest } from "../../edge/placement";
import { edgeTenant } from "../../edge/registry";
import { runnerFor } from "../../services/runner";
import { tenantIdFor } from "../../services/tenant-ids";
import { type HttpInvocation, isNullBodyStatus, splitTenantPath } from "../../tenant/http-mapping";

/**
 * `ANY /t/:tenant/*`: the tenants' public HTTP endpoints (API.md §7, §14). The Worker finds
 * the tenant without a D1 read per request (see tenant-ids.ts), caps the body at 1 MiB, and
 * runs the script where its placement says: here, at the edge (src/edge/), or in the
 * tenant's cell, which matches the route again and runs it.
 */
export const endpointRoutes = new Hono<AppEnv>();

endpointRoutes.all("/:tenant/*", async (c) => {
  const url = new URL(c.req.url);
  // Slug and path come from the same normalised path (`/t/%61cme/x` is `/t/acme/x`).
  const target = splitTenantPath(url.pathname);
  const tenantId = target && (await tenantIdFor(c.var.db, target.slug));
  if (!target || !tenantId) throw ApiError.notFound("endpoint");
  const hasBody = c.req.method !== "GET" && c.req.method !== "HEAD";
  const invocation: HttpInvocation = {
    method: c.req.method,
    path: target.path,
    search: url.search.replace(/^\?/, ""),
    headers: [...c.req.raw.headers],
    body: hasBody ? await readCappedText(c.req.raw, MAX_BODY_BYTES) : null,
  };
  const edge = edgeTenant(c.env, tenantId);
  const tenant = await edge.catalogue().tenant();
  if (!tenant) throw ApiError.notFound("endpoint");
  const reply = (await placeRequest(edge, c.env, invocation)) === "edge" ? await edge.invoke(tenant, invocation, c.executionCtx) : await runnerFor(c.env, tenantId).invokeHttp(invocation);
  const body = c.req.method === "HEAD" || isNullBodyStatus(reply.status) ? null : reply.body;
  return new Response(body, { status: reply.status, headers: reply.headers });
});
