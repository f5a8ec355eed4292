import { runtimeRoutes } from "./routes/runtime";
import { Hono } from "hono";
import { openDb } from "../db/client";
import { authenticate } from "./auth";
import type { AppEnv } from "./context";
import { errorBody, handleError } from "./errors";
import { endpointRoutes, serveEndpoint, tenantHostSlug } from "./routes/endpoints";
import { normalizePath } from "../tenant/http-mapping";
import { deadLetterRoutes, eventRoutes } from "./routes/events";
import { rejectedRoutes } from "./routes/rejected";
import { executionRoutes, usageRoutes } from "./routes/executions";
import { healthRoutes } from "./routes/health";
import { metricsRoutes, scriptMetricsRoutes, tailByTicket, tailRoutes } from "./routes/observability";
import { scriptRoutes } from "./routes/scripts";
import { secretRoutes } from "./routes/secrets";
import { tenantRoutes } from "./routes/tenants";
import { whoamiRoutes } from "./routes/whoami";

/** The Worker's HTTP face: health, the API and the tenants' endpoints. Routes only parse, authorize and call a service. */
export function createApp() {
  const app = new Hono<AppEnv>();
  app.use("*", async (c, next) => {
    c.set("db", openDb(c.env.DB));
    await next();
  });
  // A tenant's own host serves its endpoints at the root, with no /t/<slug> (API.md §13).
  app.use("*", async (c, next) => {
    const url = new URL(c.req.url);
    const slug = tenantHostSlug(url.hostname, c.env.TENANT_DOMAIN);
    if (slug === null) return next();
    return serveEndpoint(c, slug, normalizePath(url.pathname), "");
  });
  app.route("/health", healthRoutes);

  // A browser's WebSocket tail carries a ticket, not a bearer token (API.md §15).
  app.get("/api/tail", tailByTicket);

  const api = new Hono<AppEnv>();
  api.use("*", authenticate);
  api.route("/tenants", tenantRoutes);
  api.route("/scripts", scriptRoutes);
  api.route("/scripts", scriptMetricsRoutes);
  api.route("/metrics", metricsRoutes);
  api.route("/tail", tailRoutes);
  api.route("/executions", executionRoutes);
  api.route("/usage", usageRoutes);
  api.route("/secrets", secretRoutes);
  api.route("/events", eventRoutes);
  api.route("/dead-letters", deadLetterRoutes);
  api.route("/rejected-messages", rejectedRoutes);
  api.route("/runtime", runtimeRoutes);
  api.route("/whoami", whoamiRoutes);
  app.route("/api", api);
  app.route("/t", endpointRoutes);

  // Everything else on the platform's host is the admin UI's static assets.
  app.notFound((c) => {
    const isAsset = (c.req.method === "GET" || c.req.method === "HEAD") && !/^\/(api|t)(\/|$)/.test(c.req.path);
    if (isAsset && c.env.ASSETS) return c.env.ASSETS.fetch(c.req.raw);
    return c.json(errorBody("not_found", `no route for ${c.req.method} ${c.req.path}`), 404);
  });
  app.onError(handleError);
  return app;
}
