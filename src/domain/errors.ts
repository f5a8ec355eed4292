/**
 * The one error type of API.md §3, below every layer that raises it: services, the cell and
 * the HTTP routes throw `ApiError`; only src/http turns it into a response (http/errors.ts).
 */
import type { z } from "zod";

/** The error codes of API.md §3 and the HTTP status each one answers with. */
export const ERROR_STATUS = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  version_mismatch: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  quota_exceeded: 429,
  script_error: 500,
  script_timeout: 504,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export type ErrorStatus = (typeof ERROR_STATUS)[ErrorCode];

export interface FieldProblem {
  path: string;
  message: string;
}

/** The one error type: anything that answers with the §3 envelope throws this. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }

  get status(): ErrorStatus {
    return ERROR_STATUS[this.code];
  }

  static invalid(message: string, details?: FieldProblem[] | unknown) {
    return new ApiError("invalid_request", message, details);
  }
  static notFound(what: string) {
    return new ApiError("not_found", `${what} not found`);
  }
  static conflict(message: string, details?: unknown) {
    return new ApiError("conflict", message, details);
  }
  static forbidden(message: string) {
    return new ApiError("forbidden", message);
  }
}

/** The §3 envelope. */
export function errorBody(code: ErrorCode, message: string, details?: unknown) {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/** Checks a value against a schema: the value as the schema outputs it, or a 400 naming the failing fields. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, pathPrefix = ""): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw ApiError.invalid("request validation failed", zodProblems(result.error, pathPrefix));
}

/** zod issues as `[{path, message}]` with dotted paths (`trigger.path`, `items.2.name`). */
export function zodProblems(error: z.ZodError, pathPrefix = ""): FieldProblem[] {
  return error.issues.map((issue) => {
    const path = [pathPrefix, ...issue.path.map(String)].filter((p) => p !== "").join(".");
    return { path, message: issue.message };
  });
}
