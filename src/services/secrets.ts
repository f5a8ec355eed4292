/**
 * Tenant secrets (API.md §9): stored in D1 encrypted with AES-GCM under `SECRETS_KEY`, a
 * fresh 12-byte IV per write, and the tenant id and name as additional data, so a row
 * copied to another tenant or name does not decrypt. Values are never returned by the API
 * nor logged; only `iota.secrets.get` inside the tenant's own scripts reads them.
 */
import { and, asc, eq } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client";
import { secrets, type TenantRow } from "../db/schema";
import { ApiError } from "../domain/errors";
import { fromBase64, toBase64 } from "../lib/crypto";
import { actorName, type Principal } from "./actor";
import { auditInsert } from "./audit";

export const SECRET_NAME = /^[A-Z][A-Z0-9_]{0,63}$/;
export const MAX_SECRET_BYTES = 64 * 1024;
/**
 * The shortest secret value, in characters: execution records are redacted of values this
 * long or longer (a shorter one would blank unrelated text, and could not be told apart).
 */
export const MIN_SECRET_LENGTH = 8;

export const putSecretBody = z.strictObject({
  value: z
    .string()
    .refine((v) => [...v].length >= MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH} characters (shorter values cannot be redacted from execution records)`)
    .refine((v) => new TextEncoder().encode(v).byteLength <= MAX_SECRET_BYTES, `must be at most ${MAX_SECRET_BYTES} bytes`),
});

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

/** The AES-GCM key from `SECRETS_KEY` (32 random bytes, base64), imported once per isolate. */
export function secretsKey(env: Env): Promise<CryptoKey> {
  const raw = env.SECRETS_KEY;
  let key = keys.get(raw);
  if (!key) {
    const bytes = raw ? fromBase64(raw) : new Uint8Array();
    if (bytes.byteLength !== 32) throw new Error("SECRETS_KEY must be 32 random bytes, base64-encoded");
    key = crypto.subtle.importKey("raw", bytes, "AES-GCM", false, ["encrypt", "decrypt"]);
    keys.set(raw, key);
  }
  return key;
}

function additionalData(tenantId: string, name: string) {
  return encoder.encode(`iota-secret:${tenantId}:${name}`);
}

export async function encryptSecret(key: CryptoKey, tenantId: string, name: string, value: string) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: additionalData(tenantId, name) }, key, encoder.encode(value));
  return { ciphertext: toBase64(new Uint8Array(sealed)), iv: toBase64(iv) };
}

/** The plaintext, or null when the row does not belong to this tenant and name (or was tampered with). */
export async function decryptSecret(key: CryptoKey, tenantId: string, name: string, row: { ciphertext: string; iv: string }): Promise<string | null> {
  try {
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: fromBase64(row.iv), additionalData: additionalData(tenantId, name) }, key, fromBase64(row.ciphertext));
    return new TextDecoder().decode(plain);
  } catch {
    return null;
  }
}

export function checkSecretName(name: string) {
  if (!SECRET_NAME.test(name)) throw ApiError.invalid("invalid secret name", [{ path: "name", message: "must match ^[A-Z][A-Z0-9_]{0,63}$" }]);
}

export async function putSecret(db: Db, env: Env, principal: Principal, tenant: TenantRow, name: string, value: string) {
  checkSecretName(name);
  const sealed = await encryptSecret(await secretsKey(env), tenant.id, name, value);
  const now = Date.now();
  await db.batch([
    db
      .insert(secrets)
      .values({ tenantId: tenant.id, name, ...sealed, createdAt: now, updatedAt: now })
      .onConflictDoUpdate({ target: [secrets.tenantId, secrets.name], set: { ...sealed, updatedAt: now } }),
    auditInsert(db, { tenantId: tenant.id, actor: actorName(principal), action: "secret.put", targetType: "secret", targetId: name }, now),
  ]);
}

export async function listSecrets(db: Db, tenant: TenantRow) {
  const rows = await db
    .select({ name: secrets.name, updatedAt: secrets.updatedAt })
    .from(secrets)
    .where(eq(secrets.tenantId, tenant.id))
    .orderBy(asc(secrets.name));
  return rows.map((row) => ({ name: row.name, updatedAt: new Date(row.updatedAt).toISOString() }));
}

export async function deleteSecret(db: Db, principal: Principal, tenant: TenantRow, name: string) {
  checkSecretName(name);
  const where = and(eq(secrets.tenantId, tenant.id), eq(secrets.name, name));
  const existing = await db.select({ name: secrets.name }).from(secrets).where(where).get();
  if (!existing) throw ApiError.notFound("secret");
  await db.batch([
    db.delete(secrets).where(where),
    auditInsert(db, { tenantId: tenant.id, actor: actorName(principal), action: "secret.delete", targetType: "secret", targetId: name }),
  ]);
}

/** The names of a tenant's secrets, sorted (a handler object's `env`, API.md §13). */
export async function secretNames(db: Db, tenantId: string): Promise<string[]> {
  const rows = await db.select({ name: secrets.name }).from(secrets).where(eq(secrets.tenantId, tenantId)).orderBy(asc(secrets.name));
  return rows.map((row) => row.name);
}

/** The secret's value for a script of this tenant, or null when it is not set. */
export async function readSecret(db: Db, env: Env, tenantId: string, name: string): Promise<string | null> {
  const row = await db
    .select({ ciphertext: secrets.ciphertext, iv: secrets.iv })
    .from(secrets)
    .where(and(eq(secrets.tenantId, tenantId), eq(secrets.name, name)))
    .get();
  return row ? decryptSecret(await secretsKey(env), tenantId, name, row) : null;
}
