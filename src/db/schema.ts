/**
 * The D1 catalogue: what changes rarely and is shared (API.md §1). A tenant's traffic
 * (executions, events, dead letters, schedules, collections) lives in its TenantRunner's own
 * SQLite storage instead, see src/tenant/.
 *
 * Times are epoch milliseconds; JSON columns hold text parsed by the services.
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { LimitOverrides, ScriptLimits } from "../domain/limits";
import type { Scope } from "../domain/scopes";
import { LANGUAGES, SCRIPT_STATUSES } from "../domain/scripts";
import { SCRIPT_TYPES, type Trigger } from "../domain/triggers";

export const tenants = sqliteTable("tenants", {
  id: text("id").primaryKey(),
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  /** Only the limits the admin set; the defaults fill in the rest when read. */
  limits: text("limits", { mode: "json" }).$type<LimitOverrides>().notNull().default(sql`'{}'`),
  /** Hosts `iota.http` may reach (`api.example.com`, `*.example.com`); null means any public host. */
  allowedHosts: text("allowed_hosts", { mode: "json" }).$type<string[] | null>(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    name: text("name").notNull(),
    /** The key's first 8 characters, to recognise it in listings. */
    prefix: text("prefix").notNull(),
    /** SHA-256 of the whole key, hex. The key itself is never stored. */
    hash: text("hash").notNull(),
    scopes: text("scopes", { mode: "json" }).$type<Scope[]>().notNull(),
    createdAt: integer("created_at").notNull(),
    lastUsedAt: integer("last_used_at"),
    revokedAt: integer("revoked_at"),
  },
  (t) => [uniqueIndex("api_keys_hash").on(t.hash), index("api_keys_tenant").on(t.tenantId, t.createdAt)],
);

export const scripts = sqliteTable(
  "scripts",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    type: text("type", { enum: SCRIPT_TYPES }).notNull(),
    status: text("status", { enum: SCRIPT_STATUSES }).notNull(),
    /** The latest version; its snapshot is the row (id, version) in script_versions. */
    version: integer("version").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    // Names stay taken while archived (API.md §6).
    uniqueIndex("scripts_tenant_name").on(t.tenantId, t.name),
    // Lists page by id (time-ordered) within a tenant, optionally filtered by status or type.
    index("scripts_tenant_id").on(t.tenantId, t.id),
    index("scripts_tenant_status").on(t.tenantId, t.status, t.id),
    index("scripts_tenant_type").on(t.tenantId, t.type, t.id),
  ],
);

/** Immutable snapshots: a row is written once and never updated or deleted. */
export const scriptVersions = sqliteTable(
  "script_versions",
  {
    scriptId: text("script_id")
      .notNull()
      .references(() => scripts.id),
    version: integer("version").notNull(),
    /** As the author wrote it (TypeScript too); the JavaScript is derived when compiled. */
    source: text("source").notNull(),
    /** Versions written before languages existed are JavaScript. */
    language: text("language", { enum: LANGUAGES }).notNull().default("javascript"),
    trigger: text("trigger", { mode: "json" }).$type<Trigger>().notNull(),
    limits: text("limits", { mode: "json" }).$type<ScriptLimits>().notNull(),
    sha256: text("sha256").notNull(),
    message: text("message").notNull().default(""),
    createdBy: text("created_by").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  // The primary key is what makes two racing saves of the same version collide: the
  // database refuses the second (script_id, version), so no update is ever lost.
  (t) => [primaryKey({ columns: [t.scriptId, t.version] })],
);

/**
 * The http routes held by non-archived http scripts, one row per method. The unique index
 * enforces "a path is unique per tenant and method" in the database, even for racing saves.
 */
export const scriptRoutes = sqliteTable(
  "script_routes",
  {
    tenantId: text("tenant_id").notNull(),
    /** The pattern with parameter names erased: `/orders/:id` and `/orders/:n` collide. */
    routeKey: text("route_key").notNull(),
    method: text("method").notNull(),
    scriptId: text("script_id")
      .notNull()
      .references(() => scripts.id),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.routeKey, t.method] }),
    index("script_routes_script").on(t.scriptId),
  ],
);

export const secrets = sqliteTable(
  "secrets",
  {
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    name: text("name").notNull(),
    /** AES-GCM ciphertext and its 12-byte IV, base64; tenant and name are the additional data. */
    ciphertext: text("ciphertext").notNull(),
    iv: text("iv").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.name] })],
);

/** Append-only: who did what, when. Purged past AUDIT_RETENTION_DAYS by the Worker's cron. */
export const auditLog = sqliteTable(
  "audit_log",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    tenantId: text("tenant_id"),
    /** `admin` or `key:<id>`. */
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    targetType: text("target_type").notNull(),
    targetId: text("target_id").notNull(),
    details: text("details", { mode: "json" }).$type<Record<string, unknown>>(),
    at: integer("at").notNull(),
  },
  (t) => [index("audit_log_at").on(t.at), index("audit_log_tenant").on(t.tenantId, t.id)],
);

/**
 * Queue messages that name no known tenant (or none at all): kept for the platform admin
 * with the reason, and acknowledged, so a bad message never loops through retries.
 */
export const rejectedMessages = sqliteTable(
  "rejected_messages",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    queue: text("queue").notNull(),
    /** The message body as JSON, cut at 64 KiB. */
    body: text("body").notNull(),
    reason: text("reason").notNull(),
    receivedAt: integer("received_at").notNull(),
  },
  (t) => [index("rejected_messages_received").on(t.receivedAt)],
);

export type TenantRow = typeof tenants.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type ScriptRow = typeof scripts.$inferSelect;
export type ScriptVersionRow = typeof scriptVersions.$inferSelect;
