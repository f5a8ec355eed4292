import { and, desc, eq, isNull, lt, or } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client";
import { apiKeys, tenants, type ApiKeyRow, type TenantRow } from "../db/schema";
import { SCOPES } from "../domain/scopes";
import { ApiError } from "../domain/errors";
import { base64url, secretsEqual, sha256Hex } from "../lib/crypto";
import { newId } from "../lib/ids";
import { actorName, type Principal } from "./actor";
import { auditInsert } from "./audit";

export const KEY_PREFIX = "isk_";
/** `lastUsedAt` is refreshed at most this often, so reading a key is not a write per request. */
const LAST_USED_RESOLUTION_MS = 60_000;

export const createKeyBody = z.strictObject({
  name: z.string().min(1).max(200),
  scopes: z
    .array(z.enum(SCOPES, { error: `must be one of ${SCOPES.join(", ")}` }))
    .min(1)
    .transform((scopes) => SCOPES.filter((s) => scopes.includes(s))),
});

export function keyJson(row: ApiKeyRow) {
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes,
    prefix: row.prefix,
    createdAt: iso(row.createdAt),
    lastUsedAt: row.lastUsedAt === null ? null : iso(row.lastUsedAt),
    revokedAt: row.revokedAt === null ? null : iso(row.revokedAt),
  };
}

function iso(ms: number) {
  return new Date(ms).toISOString();
}

/** A new key: `isk_` + 32 random bytes, base64url. Only its SHA-256 is stored. */
export async function createKey(db: Db, principal: Principal, tenant: TenantRow, body: z.infer<typeof createKeyBody>) {
  const key = KEY_PREFIX + base64url(crypto.getRandomValues(new Uint8Array(32)));
  const now = Date.now();
  const row: ApiKeyRow = {
    id: newId("key", now),
    tenantId: tenant.id,
    name: body.name,
    prefix: key.slice(0, 8),
    hash: await sha256Hex(key),
    scopes: body.scopes,
    createdAt: now,
    lastUsedAt: null,
    revokedAt: null,
  };
  await db.batch([
    db.insert(apiKeys).values(row),
    auditInsert(db, {
      tenantId: tenant.id,
      actor: actorName(principal),
      action: "key.create",
      targetType: "key",
      targetId: row.id,
      details: { name: row.name, scopes: row.scopes },
    }),
  ]);
  return { ...keyJson(row), key };
}

export async function listKeys(db: Db, tenant: TenantRow) {
  const rows = await db.select().from(apiKeys).where(eq(apiKeys.tenantId, tenant.id)).orderBy(desc(apiKeys.createdAt));
  return rows.map(keyJson);
}

/** Revokes a key (204 even when it already was); another tenant's key is a 404. */
export async function revokeKey(db: Db, principal: Principal, tenant: TenantRow, keyId: string) {
  const row = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.id, keyId), eq(apiKeys.tenantId, tenant.id)))
    .get();
  if (!row) throw ApiError.notFound("key");
  if (row.revokedAt !== null) return;
  const now = Date.now();
  await db.batch([
    db.update(apiKeys).set({ revokedAt: now }).where(and(eq(apiKeys.id, keyId), isNull(apiKeys.revokedAt))),
    auditInsert(db, { tenantId: tenant.id, actor: actorName(principal), action: "key.revoke", targetType: "key", targetId: keyId }),
  ]);
}

/**
 * The live key matching a presented token, with its tenant, or null. The lookup is by the
 * token's SHA-256, so the database never sees the token, and timing in the index lookup
 * can at most reveal bits of a hash, never of a key.
 */
export async function findLiveKey(db: Db, token: string) {
  if (!token.startsWith(KEY_PREFIX) || token.length > 100) return null;
  const hash = await sha256Hex(token);
  const found = await db
    .select({ key: apiKeys, tenant: tenants })
    .from(apiKeys)
    .innerJoin(tenants, eq(tenants.id, apiKeys.tenantId))
    .where(and(eq(apiKeys.hash, hash), isNull(apiKeys.revokedAt)))
    .get();
  // The index lookup found the row; the final say is a constant-time comparison.
  if (!found || !(await secretsEqual(found.key.hash, hash))) return null;
  return found;
}

/** Records that a key was used, at most once a minute per key. */
export async function touchKey(db: Db, key: ApiKeyRow, now = Date.now()) {
  if (key.lastUsedAt !== null && now - key.lastUsedAt < LAST_USED_RESOLUTION_MS) return;
  await db
    .update(apiKeys)
    .set({ lastUsedAt: now })
    .where(and(eq(apiKeys.id, key.id), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, now - LAST_USED_RESOLUTION_MS))));
}
