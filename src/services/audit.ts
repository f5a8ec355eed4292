import { and, inArray, lt } from "drizzle-orm";
import type { Db } from "../db/client";
import { auditLog } from "../db/schema";

export interface AuditEntry {
  tenantId: string | null;
  actor: string;
  action: string;
  targetType: string;
  targetId: string;
  details?: Record<string, unknown>;
}

/**
 * The audit row for a write, as a statement to put in the same D1 batch as the write
 * itself: both land or neither does.
 */
export function auditInsert(db: Db, entry: AuditEntry, at = Date.now()) {
  return db.insert(auditLog).values({ ...entry, details: entry.details ?? null, at });
}

/**
 * Deletes audit rows older than `retentionDays`, `batchSize` at a time and at most
 * `maxBatches` batches per call, so a large backlog never becomes one giant delete.
 */
export async function purgeAuditLog(db: Db, retentionDays: number, now = Date.now(), batchSize = 500, maxBatches = 20) {
  const cutoff = now - retentionDays * 86_400_000;
  let deleted = 0;
  for (let i = 0; i < maxBatches; i++) {
    const old = await db.select({ id: auditLog.id }).from(auditLog).where(lt(auditLog.at, cutoff)).limit(batchSize);
    if (old.length === 0) break;
    await db.delete(auditLog).where(and(inArray(auditLog.id, old.map((row) => row.id))));
    deleted += old.length;
    if (old.length < batchSize) break;
  }
  return deleted;
}
