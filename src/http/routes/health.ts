import { Hono } from "hono";
import pkg from "../../../package.json";
import type { AppEnv } from "../context";

/** `GET /health` (no auth): 200 once D1 answers (API.md §4). */
export const healthRoutes = new Hono<AppEnv>();

healthRoutes.get("/", async (c) => {
  await c.env.DB.prepare("SELECT 1").first();
  return c.json({ ok: true, version: pkg.version });
});
