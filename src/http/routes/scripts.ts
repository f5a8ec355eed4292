import { invalidateTenant } from "../../services/invalidate";
import { Hono } from "hono";
import { z } from "zod";
import { createScriptBody, SCRIPT_STATUSES, statusBody, updateScriptBody, validateBody } from "../../domain/scripts";
import { SCRIPT_TYPES } from "../../domain/triggers";
import { diffVersions } from "../../services/diff";
import { tenantModuleLookup } from "../../services/modules";
import { diagnoseLinked } from "../../services/source-check";
import { runnerFor } from "../../services/runner";
import { quotaMessage } from "../../tenant/runner";
import { decodeCursor, limitParam } from "../../services/pagination";
import {
  checkSourceSize,
  createScript,
  isScriptId,
  listScripts,
  listVersions,
  loadScript,
  loadVersion,
  parseIfMatch,
  restoreVersion,
  scriptJson,
  scriptSummaryJson,
  setStatus,
  updateScript,
  versionJson,
  type LoadedScript,
} from "../../services/scripts";
import { tenantAccess } from "../auth";
import { readJson, validate } from "../body";
import type { AppEnv } from "../context";
import { ApiError } from "../errors";
import { readQuery } from "../query";

/** Scripts and their versions (API.md §6), for a tenant key or the admin with X-Tenant. */
export const scriptRoutes = new Hono<AppEnv>();

const read = tenantAccess("scripts:read");
const write = tenantAccess("scripts:write");
const execute = tenantAccess("scripts:execute");

/** After a write: the tenant's runner drops what it cached of the script before we answer. */
async function changed(c: { env: Env; var: AppEnv["Variables"] }, scriptId: string) {
  await invalidateTenant(c.env, c.var.tenant.id, { scriptId });
}

/** A script answer carries its version as the ETag that `If-Match` sends back. */
function withEtag(loaded: LoadedScript) {
  return { ETag: `"${loaded.script.version}"` };
}

const versionNumber = z.coerce.number({ error: "must be a version number" }).int().min(1).max(1_000_000_000);

/** `POST /api/scripts/validate` `{source, language?}` → `{ok, diagnostics}`; refused like a save only when too large. */
scriptRoutes.post("/validate", read, async (c) => {
  const { source, language, type, name } = await readJson(c, validateBody);
  checkSourceSize(c.var.tenant, source);
  const modules = await tenantModuleLookup(c.var.db, c.var.tenant.id);
  const { diagnostics } = await diagnoseLinked(source, language ?? "javascript", { modules, isModule: type === "module", name });
  return c.json({ ok: diagnostics.length === 0, diagnostics });
});

scriptRoutes.post("/", write, async (c) => {
  const body = await readJson(c, createScriptBody);
  const created = await createScript(c.var.db, c.var.principal, c.var.tenant, body);
  await changed(c, created.script.id);
  return c.json(scriptJson(created), 201, withEtag(created));
});

const listQuery = z.object({
  type: z.enum(SCRIPT_TYPES).optional(),
  status: z.enum(SCRIPT_STATUSES).optional(),
  q: z.string().max(200).optional(),
  limit: limitParam(200, 50),
  cursor: z.string().optional(),
});

scriptRoutes.get("/", read, async (c) => {
  const query = readQuery(c, listQuery);
  const page = await listScripts(c.var.db, c.var.tenant, {
    ...query,
    after: query.cursor ? decodeCursor(query.cursor, isScriptId) : undefined,
  });
  return c.json({ items: page.items.map(scriptSummaryJson), nextCursor: page.nextCursor });
});

scriptRoutes.get("/:id", read, async (c) => {
  const loaded = await loadScript(c.var.db, c.var.tenant, c.req.param("id"));
  return c.json(scriptJson(loaded), 200, withEtag(loaded));
});

scriptRoutes.put("/:id", write, async (c) => {
  const ifMatch = parseIfMatch(c.req.header("if-match"));
  const body = await readJson(c, updateScriptBody);
  const saved = await updateScript(c.var.db, c.var.principal, c.var.tenant, c.req.param("id"), body, ifMatch);
  await changed(c, saved.script.id);
  return c.json(scriptJson(saved), 200, withEtag(saved));
});

scriptRoutes.patch("/:id/status", write, async (c) => {
  const body = await readJson(c, statusBody);
  const saved = await setStatus(c.var.db, c.var.principal, c.var.tenant, c.req.param("id"), body.status);
  await changed(c, saved.script.id);
  return c.json(scriptJson(saved), 200, withEtag(saved));
});

scriptRoutes.delete("/:id", write, async (c) => {
  const archived = await setStatus(c.var.db, c.var.principal, c.var.tenant, c.req.param("id"), "archived");
  await changed(c, archived.script.id);
  return c.body(null, 204);
});

const versionsQuery = z.object({ limit: limitParam(200, 100), cursor: z.string().optional() });

scriptRoutes.get("/:id/versions", read, async (c) => {
  const query = readQuery(c, versionsQuery);
  const before = query.cursor ? Number(decodeCursor(query.cursor, (key) => /^[1-9][0-9]{0,9}$/.test(key))) : undefined;
  const page = await listVersions(c.var.db, c.var.tenant, c.req.param("id"), query.limit, before);
  return c.json({
    items: page.items.map((v) => ({ ...v, createdAt: new Date(v.createdAt).toISOString() })),
    nextCursor: page.nextCursor,
  });
});

scriptRoutes.get("/:id/versions/:n", read, async (c) => {
  const n = validate(versionNumber, c.req.param("n"), "n");
  return c.json(versionJson(await loadVersion(c.var.db, c.var.tenant, c.req.param("id"), n)));
});

scriptRoutes.post("/:id/versions/:n/restore", write, async (c) => {
  const n = validate(versionNumber, c.req.param("n"), "n");
  const ifMatch = parseIfMatch(c.req.header("if-match"));
  await readJson(c, z.strictObject({}).optional());
  const saved = await restoreVersion(c.var.db, c.var.principal, c.var.tenant, c.req.param("id"), n, ifMatch);
  await changed(c, saved.script.id);
  return c.json(scriptJson(saved), 201, withEtag(saved));
});

const runBody = z.strictObject({ input: z.json().optional(), version: versionNumber.optional() }).optional();
const runQuery = z.object({ async: z.enum(["true", "false"]).optional() });

/**
 * `POST /api/scripts/:id/run`: 200 with the execution record (a failed or timed-out script
 * is a status in it, not an HTTP error), or with `?async=true` 202 `{executionId}`. Only
 * admission refuses (429, nothing recorded).
 */
scriptRoutes.post("/:id/run", execute, async (c) => {
  const { async } = readQuery(c, runQuery);
  const body = (await readJson(c, runBody)) ?? {};
  const { script } = await loadScript(c.var.db, c.var.tenant, c.req.param("id"));
  if (script.status === "archived") throw ApiError.conflict("an archived script cannot be run; change its status to draft first");
  if (script.type === "module") {
    throw ApiError.invalid(`${script.name} is a module: it never runs alone; scripts import it as "./${script.name}"`, [{ path: "type", message: "is module" }]);
  }
  const traceparent = c.req.header("traceparent");
  const outcome = await runnerFor(c.env, c.var.tenant.id).runManual({ scriptId: script.id, version: body.version, input: body.input ?? null, async: async === "true", ...(traceparent !== undefined && { traceparent }) });
  if ("notFound" in outcome) throw ApiError.notFound(`version ${body.version}`);
  if ("noRunHandler" in outcome) {
    const has = outcome.noRunHandler.length === 0 ? "none" : outcome.noRunHandler.join(", ");
    throw ApiError.invalid(`the script's handler object has no run handler, so it cannot be run by hand (its handlers: ${has})`, [{ path: "source", message: `add run(input, env, ctx) to the default export; its handlers: ${has}` }]);
  }
  if ("refused" in outcome) {
    const { reason, retryAfterSeconds } = outcome.refused;
    throw new ApiError("quota_exceeded", quotaMessage(reason), { reason, retryAfterSeconds }, { "Retry-After": String(retryAfterSeconds) });
  }
  if ("pending" in outcome) return c.json({ executionId: outcome.pending.id }, 202);
  return c.json(outcome.execution);
});

const diffQuery = z.object({ from: versionNumber.optional(), to: versionNumber.optional() });

/** `to` defaults to the latest version and `from` to the one before `to`. */
scriptRoutes.get("/:id/diff", read, async (c) => {
  const query = readQuery(c, diffQuery);
  const { script } = await loadScript(c.var.db, c.var.tenant, c.req.param("id"));
  const to = query.to ?? script.version;
  const from = query.from ?? Math.max(1, to - 1);
  const [a, b] = await Promise.all([
    loadVersion(c.var.db, c.var.tenant, script.id, from),
    loadVersion(c.var.db, c.var.tenant, script.id, to),
  ]);
  return c.json(diffVersions(a, b));
});
