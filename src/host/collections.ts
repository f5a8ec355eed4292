/**
 * `iota.db` (API.md §9): JSON documents in collections, stored in the tenant's own Durable
 * Object SQLite storage (one table, indexed by collection). JSON fields are queried with
 * SQLite's JSON functions; every value and every path is a bound parameter, never part of
 * the SQL text. Field and collection names are validated, so a hostile name is an error in
 * the script, never SQL.
 */
import { newId } from "../lib/ids";
import { utf8Bytes } from "../lib/json";
import { invalid, isPlainObject, quota, SdkError, stringArg } from "./errors";

export const COLLECTION_NAME = /^[a-zA-Z][a-zA-Z0-9_]{0,63}$/;
/** A field, or a dotted path into nested objects: `status`, `address.city`. */
const FIELD = /^[A-Za-z_$][A-Za-z0-9_$]{0,63}(\.[A-Za-z_$][A-Za-z0-9_$]{0,63}){0,9}$/;
const DOC_ID = /^[^\u0000-\u001f]{1,200}$/;
export const DEFAULT_QUERY_LIMIT = 100;
export const MAX_QUERY_LIMIT = 1000;
const MAX_IN_VALUES = 100;
const MAX_OFFSET = 1_000_000;
const OPERATORS = ["$gt", "$gte", "$lt", "$lte", "$ne", "$in", "$like"] as const;

export const COLLECTIONS_MIGRATION = [
  `CREATE TABLE documents (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    collection TEXT NOT NULL,
    id TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (collection, id)
  )`,
  "CREATE INDEX documents_collection ON documents (collection, seq)",
];

type Doc = Record<string, unknown>;
type Primitive = string | number | boolean | null;
interface Fragment {
  sql: string;
  params: SqlStorageValue[];
}

export class Collections {
  /** Bytes the documents take, counted once and then kept up to date by every write. */
  private bytes: number | null = null;

  constructor(
    private readonly sql: SqlStorage,
    /** The tenant's storage quota (`dbBytes`). */
    private readonly quotaBytes: () => number,
  ) {}

  /** Bytes the documents take (their JSON text, UTF-8). */
  usedBytes(): number {
    if (this.bytes === null) {
      const row = this.sql.exec<{ bytes: number | null }>("SELECT sum(length(CAST(data AS BLOB))) AS bytes FROM documents").toArray()[0];
      this.bytes = row?.bytes ?? 0;
    }
    return this.bytes;
  }

  query(args: unknown[]): Doc[] {
    const collection = collectionArg(args);
    const options = optionsArg(args[1], ["where", "orderBy", "limit", "offset"]);
    const where = whereClause(options.where);
    const limit = limitArg(options.limit);
    const offset = offsetArg(options.offset);
    const order = orderClause(options.orderBy);
    const rows = this.sql
      .exec<{ data: string }>(
        `SELECT data FROM documents WHERE collection = ?${where.sql} ORDER BY ${order.sql}seq LIMIT ? OFFSET ?`,
        collection,
        ...where.params,
        ...order.params,
        limit,
        offset,
      )
      .toArray();
    return rows.map((row) => JSON.parse(row.data) as Doc);
  }

  count(args: unknown[]): number {
    const collection = collectionArg(args);
    const where = whereClause(optionsArg(args[1], ["where"]).where);
    const row = this.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM documents WHERE collection = ?${where.sql}`, collection, ...where.params).one();
    return row.n;
  }

  get(args: unknown[]): Doc | null {
    const collection = collectionArg(args);
    const id = docKey(args[1]);
    const row = this.sql.exec<{ data: string }>("SELECT data FROM documents WHERE collection = ? AND id = ?", collection, id).toArray()[0];
    return row ? (JSON.parse(row.data) as Doc) : null;
  }

  insert(args: unknown[]): Doc {
    const collection = collectionArg(args);
    const input = args[1];
    if (!isPlainObject(input)) throw invalid("the document must be an object");
    // A given id (string or integer) is kept as given; the key it is stored under is its text.
    const doc = { ...input, id: input.id === undefined ? newId("doc") : input.id };
    const key = docKey(doc.id);
    const data = JSON.stringify(doc);
    const size = utf8Bytes(data);
    this.reserve(size);
    const now = Date.now();
    try {
      this.sql.exec("INSERT INTO documents (collection, id, data, created_at, updated_at) VALUES (?, ?, ?, ?, ?)", collection, key, data, now, now);
    } catch (error) {
      if (/UNIQUE constraint failed/.test(String(error))) throw new SdkError("ConflictError", `${collection} already has a document with id ${doc.id}`);
      throw error;
    }
    this.bytes = this.usedBytes() + size;
    return doc;
  }

  /** JSON merge patch (RFC 7386): a null deletes a field, objects merge; `id` never changes. */
  update(args: unknown[]): Doc | null {
    const collection = collectionArg(args);
    const id = docKey(args[1]);
    const patch = args[2];
    if (!isPlainObject(patch)) throw invalid("the patch must be an object");
    const current = this.get([collection, id]);
    if (!current) return null;
    const merged = { ...(mergePatch(current, patch) as Doc), id: current.id };
    const data = JSON.stringify(merged);
    const delta = utf8Bytes(data) - utf8Bytes(JSON.stringify(current));
    this.reserve(delta);
    this.sql.exec("UPDATE documents SET data = ?, updated_at = ? WHERE collection = ? AND id = ?", data, Date.now(), collection, id);
    this.bytes = this.usedBytes() + delta;
    return merged;
  }

  delete(args: unknown[]): boolean {
    const collection = collectionArg(args);
    const id = docKey(args[1]);
    const row = this.sql.exec<{ size: number }>("DELETE FROM documents WHERE collection = ? AND id = ? RETURNING length(CAST(data AS BLOB)) AS size", collection, id).toArray()[0];
    if (row) this.bytes = this.usedBytes() - row.size;
    return row !== undefined;
  }

  /** Refuses a write that would take the tenant past its `dbBytes` quota. */
  private reserve(extraBytes: number) {
    if (extraBytes <= 0) return;
    const limit = this.quotaBytes();
    if (this.usedBytes() + extraBytes > limit) throw quota(`iota.db storage is limited to ${limit} bytes for this tenant`);
  }
}

/** A document id: a string of 1 to 200 characters or an integer; stored by its text. */
function docKey(value: unknown): string {
  if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  if (typeof value === "string" && DOC_ID.test(value)) return value;
  throw invalid("a document id must be a string of 1 to 200 characters or an integer");
}

function collectionArg(args: unknown[]): string {
  return stringArg(args, 0, "the collection name", COLLECTION_NAME);
}

function optionsArg(value: unknown, allowed: string[]): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) throw invalid("the options must be an object");
  for (const key of Object.keys(value)) if (!allowed.includes(key)) throw invalid(`unknown option ${JSON.stringify(key)}: use ${allowed.join(", ")}`);
  return value;
}

function limitArg(value: unknown): number {
  if (value === undefined) return DEFAULT_QUERY_LIMIT;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) throw invalid("limit must be a non-negative integer");
  if (value > MAX_QUERY_LIMIT) throw invalid(`limit must be at most ${MAX_QUERY_LIMIT}`);
  return value;
}

function offsetArg(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > MAX_OFFSET) throw invalid(`offset must be an integer from 0 to ${MAX_OFFSET}`);
  return value;
}

/** `$."a"."b"` for `a.b`: quoted keys, from names the FIELD pattern already vetted. */
function jsonPath(field: string): string {
  if (!FIELD.test(field)) throw invalid(`invalid field name ${JSON.stringify(field.slice(0, 100))}: use letters, digits, _ and $, dotted for nested fields`);
  return "$" + field.split(".").map((key) => `."${key}"`).join("");
}

function isPrimitive(value: unknown): value is Primitive {
  return value === null || typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value));
}

/** A comparison that only matches values of the same JSON type (a string "5" never equals 5). */
function compare(path: string, operator: "=" | ">" | ">=" | "<" | "<=", value: Primitive): Fragment {
  if (value === null) {
    if (operator !== "=") throw invalid("null can only be compared for equality");
    return { sql: "(json_type(data, ?) IS NULL OR json_type(data, ?) = 'null')", params: [path, path] };
  }
  if (typeof value === "boolean") {
    if (operator !== "=") throw invalid("booleans can only be compared for equality");
    return { sql: "json_type(data, ?) = ?", params: [path, value ? "true" : "false"] };
  }
  const types = typeof value === "string" ? "('text')" : "('integer', 'real')";
  return { sql: `(json_type(data, ?) IN ${types} AND json_extract(data, ?) ${operator} ?)`, params: [path, path, value] };
}

function whereClause(where: unknown): Fragment {
  if (where === undefined || where === null) return { sql: "", params: [] };
  if (!isPlainObject(where)) throw invalid("where must be an object");
  const parts: Fragment[] = [];
  for (const [field, condition] of Object.entries(where)) {
    const path = jsonPath(field);
    if (isPrimitive(condition)) {
      parts.push(compare(path, "=", condition));
      continue;
    }
    if (!isPlainObject(condition)) throw invalid(`the condition on ${field} must be a value or an object of operators`);
    for (const [operator, value] of Object.entries(condition)) parts.push(operatorClause(field, path, operator, value));
  }
  return {
    sql: parts.map((p) => ` AND ${p.sql}`).join(""),
    params: parts.flatMap((p) => p.params),
  };
}

function operatorClause(field: string, path: string, operator: string, value: unknown): Fragment {
  if (!(OPERATORS as readonly string[]).includes(operator)) throw invalid(`unknown operator ${JSON.stringify(operator)} on ${field}: use ${OPERATORS.join(", ")}`);
  if (operator === "$in") {
    if (!Array.isArray(value) || value.length === 0 || value.length > MAX_IN_VALUES || !value.every(isPrimitive)) {
      throw invalid(`$in on ${field} takes an array of 1 to ${MAX_IN_VALUES} strings, numbers, booleans or nulls`);
    }
    const alternatives = value.map((v) => compare(path, "=", v));
    return { sql: `(${alternatives.map((a) => a.sql).join(" OR ")})`, params: alternatives.flatMap((a) => a.params) };
  }
  if (!isPrimitive(value)) throw invalid(`${operator} on ${field} takes a string, number, boolean or null`);
  if (operator === "$like") {
    if (typeof value !== "string") throw invalid(`$like on ${field} takes a string pattern`);
    return { sql: "(json_type(data, ?) = 'text' AND json_extract(data, ?) LIKE ?)", params: [path, path, value] };
  }
  if (operator === "$ne") {
    const equal = compare(path, "=", value);
    return { sql: `NOT ${equal.sql}`, params: equal.params };
  }
  const sqlOperator = { $gt: ">", $gte: ">=", $lt: "<", $lte: "<=" }[operator as "$gt"]! as ">";
  return compare(path, sqlOperator, value);
}

/** `"field"`, `"-field"` (descending) or an array of those; always ends with insertion order. */
function orderClause(orderBy: unknown): Fragment {
  if (orderBy === undefined || orderBy === null) return { sql: "", params: [] };
  const fields = Array.isArray(orderBy) ? orderBy : [orderBy];
  if (fields.length > 10 || !fields.every((f) => typeof f === "string")) throw invalid('orderBy must be "field", "-field" or an array of up to 10 of those');
  return {
    sql: fields.map((f: string) => `json_extract(data, ?) ${f.startsWith("-") ? "DESC" : "ASC"}, `).join(""),
    params: fields.map((f: string) => jsonPath(f.startsWith("-") ? f.slice(1) : f)),
  };
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    // Defined, not assigned: a key named __proto__ stays an ordinary field.
    else Object.defineProperty(result, key, { value: mergePatch(Object.hasOwn(result, key) ? result[key] : undefined, value), enumerable: true, writable: true, configurable: true });
  }
  return result;
}
