import type { Context } from "hono";
import type { z } from "zod";
import { ApiError, validate } from "../domain/errors";

export { validate, zodProblems } from "../domain/errors";

/** Request bodies are JSON of at most 1 MiB (API.md §3). */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Deeper JSON is refused: nothing legitimate nests this far, and deep values crash recursion later. */
export const MAX_JSON_DEPTH = 64;

/**
 * Reads, parses and validates a JSON body. An empty body is `undefined` (so a POST without a
 * body needs no content type), and the schema decides whether that is allowed.
 * Errors: 413 past 1 MiB (checked while streaming, not after), 415 for another content
 * type, 400 for malformed JSON or a value the schema refuses, with the failing fields.
 */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const text = await readCappedText(c.req.raw, MAX_BODY_BYTES);
  let value: unknown = undefined;
  if (text !== "") {
    if (!isJsonContentType(c.req.header("content-type"))) {
      throw new ApiError("unsupported_media_type", "request body must be JSON (Content-Type: application/json)");
    }
    value = parseJson(text);
  }
  return validate(schema, value);
}

export function isJsonContentType(header: string | undefined): boolean {
  if (!header) return false;
  const type = header.split(";")[0]!.trim().toLowerCase();
  return type === "application/json" || (type.startsWith("application/") && type.endsWith("+json"));
}

export function parseJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw ApiError.invalid("malformed JSON body", [{ path: "", message: (error as Error).message }]);
  }
  if (jsonDepth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw ApiError.invalid(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`, [{ path: "", message: "too deeply nested" }]);
  }
  return value;
}

/** Depth of a parsed JSON value, counted without recursion and without going past `stopAt + 1`. */
export function jsonDepth(value: unknown, stopAt: number): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== "object") continue;
    deepest = Math.max(deepest, depth);
    if (deepest > stopAt) return deepest;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** The body as text, refusing (413) as soon as more than `limit` bytes arrive. */
export async function readCappedText(request: Request, limit: number): Promise<string> {
  const bytes = await readCappedBytes(request, limit);
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw ApiError.invalid("request body is not valid UTF-8");
  }
}

/** The body's bytes as received, refusing (413) as soon as more than `limit` bytes arrive. */
export async function readCappedBytes(request: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > limit) throw tooLarge(limit);
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

function tooLarge(limit: number) {
  return new ApiError("payload_too_large", `request body is larger than ${limit} bytes`);
}
