import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import { SCOPES, type Scope } from "../../src/domain/scopes";
import { eventually } from "./wait";

export const ADMIN = env.ADMIN_TOKEN;

export interface CallOptions {
  method?: string;
  token?: string | null;
  tenant?: string;
  body?: unknown;
  /** Sent as is, without JSON encoding or a content type. */
  rawBody?: BodyInit;
  headers?: Record<string, string>;
}

/** A request to the Worker as a client would send it (JSON body, bearer token). */
export async function call(path: string, options: CallOptions = {}) {
  const headers = new Headers(options.headers);
  const token = options.token === undefined ? ADMIN : options.token;
  if (token !== null) headers.set("authorization", `Bearer ${token}`);
  if (options.tenant) headers.set("x-tenant", options.tenant);
  let body: BodyInit | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  const res = await exports.default.fetch(new Request(`http://iota.test${path}`, { method: options.method ?? "GET", headers, body }));
  const text = await res.text();
  let json: any = undefined;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** Asserts the §3 error envelope with the given status and code; returns the error. */
export function expectError(res: Awaited<ReturnType<typeof call>>, status: number, code: string) {
  expect({ status: res.status, code: res.json?.error?.code }, res.text).toEqual({ status, code });
  expect(typeof res.json.error.message).toBe("string");
  return res.json.error as { code: string; message: string; details?: any };
}

let counter = 0;
/** A slug no other test uses, so tests never see each other's rows. */
export function uniqueSlug(base = "t") {
  counter += 1;
  return `${base}-${Date.now().toString(36)}-${counter}-${Math.floor(Math.random() * 1e6).toString(36)}`.slice(0, 39);
}

export async function createTenant(slug = uniqueSlug(), limits?: Record<string, number>) {
  const res = await call("/api/tenants", { method: "POST", body: { slug, name: `Tenant ${slug}`, limits } });
  expect(res.status, res.text).toBe(201);
  return res.json as { slug: string; name: string; limits: Record<string, number> };
}

export const ALL_SCOPES: Scope[] = [...SCOPES];

export async function createKey(slug: string, scopes: Scope[] = ALL_SCOPES) {
  const res = await call(`/api/tenants/${slug}/keys`, { method: "POST", body: { name: "test key", scopes } });
  expect(res.status, res.text).toBe(201);
  return res.json as { id: string; key: string; name: string; scopes: Scope[] };
}

/** A tenant with a key holding every scope. */
export async function tenantWithKey(limits?: Record<string, number>) {
  const tenant = await createTenant(uniqueSlug(), limits);
  const key = await createKey(tenant.slug);
  return { tenant, slug: tenant.slug, key: key.key, keyId: key.id };
}

export const HELLO = `export default async function (event, ctx) {\n  return { hello: "world" };\n}\n`;

export async function createScript(token: string, body: Record<string, unknown>) {
  const res = await call("/api/scripts", { method: "POST", token, body: { type: "manual", source: HELLO, ...body } });
  expect(res.status, res.text).toBe(201);
  return res.json as Record<string, any> & { id: string; version: number };
}

/** How many audit rows a tenant has: a refused request must not add one. */
export async function auditCount(slug: string) {
  const row = await env.DB.prepare(
    "SELECT count(*) AS n FROM audit_log WHERE tenant_id = (SELECT id FROM tenants WHERE slug = ?)",
  )
    .bind(slug)
    .first<{ n: number }>();
  return row!.n;
}

/** How long an edge execution may take to reach the tenant's history (API.md §14: within seconds). */
export const RECORD_HAND_OFF_MS = 5_000;

/** The tenant's executions once at least `count` are recorded: edge records reach the cell after their responses. */
export async function recordedExecutions(token: string, count: number, query = ""): Promise<any[]> {
  return eventually(async () => ((await call(`/api/executions${query}`, { token })).json.items ?? []) as any[], (items) => items.length >= count, RECORD_HAND_OFF_MS);
}

/** One execution, once it is recorded. */
export async function recordedExecution(token: string, id: string): Promise<any> {
  return (await eventually(() => call(`/api/executions/${id}`, { token }), (res) => res.status === 200, RECORD_HAND_OFF_MS)).json;
}
