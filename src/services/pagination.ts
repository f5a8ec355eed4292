import { z } from "zod";
import { ApiError } from "../domain/errors";
import { base64url } from "../lib/crypto";

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * Cursor pages over a unique, immutable sort key (an id): the next page starts strictly
 * after the last key seen, so rows written meanwhile never shift or repeat a page.
 * `rows` holds up to `limit + 1` rows; the extra one only says that a next page exists.
 */
export function pageOf<T>(rows: T[], limit: number, keyOf: (row: T) => string): Page<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(keyOf(last)) : null };
}

export function encodeCursor(key: string): string {
  return base64url(new TextEncoder().encode(key));
}

/** The key inside a cursor; a cursor that was not made by `encodeCursor` is a 400. */
export function decodeCursor(cursor: string, isKey: (key: string) => boolean): string {
  let key: string;
  try {
    key = atob(cursor.replace(/-/g, "+").replace(/_/g, "/"));
  } catch {
    throw invalidCursor();
  }
  if (!isKey(key)) throw invalidCursor();
  return key;
}

function invalidCursor() {
  return ApiError.invalid("invalid cursor", [{ path: "cursor", message: "not a cursor returned by this list" }]);
}

/** `?limit=` as an integer in [1, max]; a value out of range is a 400, never clamped silently. */
export function limitParam(max: number, fallback: number) {
  return z.coerce
    .number({ error: "must be a number" })
    .int("must be an integer")
    .min(1, "must be at least 1")
    .max(max, `must be at most ${max}`)
    .default(fallback);
}
