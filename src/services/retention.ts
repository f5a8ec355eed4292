import { inArray, lt } from "drizzle-orm";
import type { Db } from "../db/client";
import { auditLog, rejectedMessages } from "../db/schema";

const DAY_MS = 86_400_000;

/**
 * Deletes rows older than `cutoff` from an append-only table with an integer id,
 * `batchSize` at a time and at most `maxBatches` batches per call, so a large backlog never
 * becomes one giant delete.
 */
async function purge(db: Db, table: typeof auditLog | typeof rejectedMessages, time: typeof auditLog.at | typeof rejectedMessages.receivedAt, cutoff: number, batchSize: number, maxBatches: number) {
  let deleted = 0;
  for (let i = 0; i < maxBatches; i++) {
    const old = await db.select({ id: table.id }).from(table).where(lt(time, cutoff)).limit(batchSize);
    if (old.length === 0) break;
    await db.delete(table).where(inArray(table.id, old.map((row) => row.id)));
    deleted += old.length;
    if (old.length < batchSize) break;
  }
  return deleted;
}

/** The Worker's cron chores (API.md §11): the audit log past AUDIT_RETENTION_DAYS, rejected queue messages past RETENTION_DAYS. */
export async function purgeCatalogue(db: Db, env: Pick<Env, "AUDIT_RETENTION_DAYS" | "RETENTION_DAYS">, now = Date.now(), batchSize = 500, maxBatches = 20) {
  const audit = await purge(db, auditLog, auditLog.at, now - (Number(env.AUDIT_RETENTION_DAYS) || 90) * DAY_MS, batchSize, maxBatches);
  const rejected = await purge(db, rejectedMessages, rejectedMessages.receivedAt, now - (Number(env.RETENTION_DAYS) || 30) * DAY_MS, batchSize, maxBatches);
  return { audit, rejected };
}
