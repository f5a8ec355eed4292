import { Hono } from "hono";
import { MAX_BODY_BYTES, readCappedText } from "../body";
import type { AppEnv } from "../context";
import { ApiError } from "../errors";
import { runnerFor } from "../../services/runner";
import { tenantIdFor } from "../../services/tenant-ids";
import { type HttpInvocation, isNullBodyStatus, splitTenantPath } from "../../tenant/http-mapping";

/**
 * `ANY /t/:tenant/*`: the tenants' public HTTP endpoints (API.md §7). The Worker finds the
 * tenant without a D1 read per request (see tenant-ids.ts), caps the body at 1 MiB, and hands the request to the tenant's runner, which
 * matches the route and runs the script.
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
  const reply = await runnerFor(c.env, tenantId).invokeHttp(invocation);
  const body = c.req.method === "HEAD" || isNullBodyStatus(reply.status) ? null : reply.body;
  return new Response(body, { status: reply.status, headers: reply.headers });
});
