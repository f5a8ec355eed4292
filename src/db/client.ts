import { drizzle, type DrizzleD1Database } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Db = DrizzleD1Database<typeof schema>;

export function openDb(d1: D1Database): Db {
  return drizzle(d1, { schema });
}

/**
 * The table behind a UNIQUE or PRIMARY KEY violation (`script_versions`), or null for any
 * other error. D1 reports it in the message of the error or of one of its causes.
 */
export function uniqueViolation(error: unknown): string | null {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const match = /UNIQUE constraint failed: (\w+)\./.exec(e.message);
    if (match) return match[1]!;
  }
  return null;
}
