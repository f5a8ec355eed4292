/**
 * The quota ledger's per-minute windows, kept in the cell's SQLite so that evicting or
 * restarting the cell does not reset `executionsPerMinute` (API.md §8). One row per window
 * and second-of-the-minute: at most 60 rows a window, overwritten in place, one small
 * upsert per counted event.
 */
import type { BucketStore } from "./quota-ledger";

export const RATE_BUCKETS_MIGRATION = [
  "CREATE TABLE rate_buckets (name TEXT NOT NULL, slot INTEGER NOT NULL, second INTEGER NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (name, slot))",
];

export function rateBuckets(sql: SqlStorage, name: string): BucketStore {
  return {
    load: () => sql.exec<{ second: number; count: number }>("SELECT second, count FROM rate_buckets WHERE name = ?", name).toArray(),
    save: (slot, second, count) => {
      sql.exec("INSERT INTO rate_buckets (name, slot, second, count) VALUES (?, ?, ?, ?) ON CONFLICT (name, slot) DO UPDATE SET second = excluded.second, count = excluded.count", name, slot, second, count);
    },
  };
}
