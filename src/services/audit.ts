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
