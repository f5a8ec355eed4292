import { desc, lt } from "drizzle-orm";
import type { Db } from "../db/client";
import { rejectedMessages } from "../db/schema";

/** Queue messages that named no known tenant, newest first (`GET /api/rejected-messages`). */
export async function listRejectedMessages(db: Db, page: { limit: number; before?: number }) {
  const rows = await db
    .select()
    .from(rejectedMessages)
    .where(page.before ? lt(rejectedMessages.id, page.before) : undefined)
    .orderBy(desc(rejectedMessages.id))
    .limit(page.limit);
  return rows.map((row) => ({ ...row, receivedAt: new Date(row.receivedAt).toISOString() }));
}
