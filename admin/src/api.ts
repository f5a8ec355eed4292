/**
 * The admin UI's only way to the platform: the public API, with the signed-in token
 * (a tenant key, or the admin token with a tenant slug sent as X-Tenant).
 */

export interface Session {
  token: string;
  /** Only with the admin token: the tenant to act on. */
  tenant?: string;
}

const STORAGE_KEY = "iota-admin-session";

export function loadSession(): Session | null {
  const raw = sessionStorage.getItem(STORAGE_KEY);
  return raw ? (JSON.parse(raw) as Session) : null;
}

export function saveSession(session: Session | null) {
  if (session) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  else sessionStorage.removeItem(STORAGE_KEY);
}

/** An error answer of the API (§3 envelope). */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export async function api<T = any>(path: string, options: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<{ data: T; headers: Headers }> {
  const session = loadSession();
  const headers: Record<string, string> = { ...options.headers };
  if (session) {
    headers.authorization = `Bearer ${session.token}`;
    if (session.tenant) headers["x-tenant"] = session.tenant;
  }
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, { method: options.method ?? "GET", headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await res.text();
  const data = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    const error = data?.error ?? {};
    throw new ApiFailure(res.status, error.code ?? "error", error.message ?? res.statusText, error.details);
  }
  return { data: data as T, headers: res.headers };
}

/** What a script is written in (API.md §13). */
export const LANGUAGES = ["javascript", "typescript"] as const;
export type Language = (typeof LANGUAGES)[number];

export interface Script {
  id: string;
  name: string;
  description: string;
  type: "http" | "event" | "scheduled" | "manual" | "module";
  status: "draft" | "active" | "paused" | "disabled" | "archived";
  version: number;
  source?: string;
  language: Language;
  trigger: Record<string, unknown>;
  limits: Record<string, number>;
  updatedAt: string;
}

// The records as the API returns them, typed where the platform defines them.
export type { ExecutionRecord as Execution, DeadLetter } from "../../src/tenant/records";

export interface Diagnostic {
  line: number;
  column: number;
  message: string;
}
