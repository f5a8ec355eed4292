import { Hono } from "hono";
import { DEFAULT_LIMITS } from "../../domain/limits";
import { PACKAGES } from "../../packages/registry";
import { MAX_IMPORT_DEPTH, MAX_IMPORTED_MODULES } from "../../sandbox/modules";
import { WEB_GLOBALS } from "../../sandbox/web/index";
import type { AppEnv } from "../context";

/** What a script can use, the same for every tenant (API.md §13). */
const RUNTIME = {
  packages: PACKAGES,
  globals: ["console", "iota", ...Object.keys(WEB_GLOBALS)].sort(),
  limits: { ...DEFAULT_LIMITS, importDepth: MAX_IMPORT_DEPTH, importedModules: MAX_IMPORTED_MODULES },
};

/** `GET /api/runtime` (any authenticated caller): the allowed packages, the globals, the default limits. */
export const runtimeRoutes = new Hono<AppEnv>();

runtimeRoutes.get("/", (c) => c.json(RUNTIME));
