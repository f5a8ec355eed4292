import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

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
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;

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

  get status(): ContentfulStatusCode {
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

export function errorBody(code: ErrorCode, message: string, details?: unknown) {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

export function errorResponse(c: Context, error: ApiError) {
  return c.json(errorBody(error.code, error.message, error.details), error.status, error.headers);
}

/** Hono's `onError`: every failure leaves as the §3 envelope; unknown ones as a bare 500. */
export function handleError(error: Error, c: Context) {
  if (error instanceof ApiError) return errorResponse(c, error);
  if (error instanceof HTTPException) return errorResponse(c, fromHttpException(error));
  console.error("unhandled error", c.req.method, c.req.path, error);
  return c.json(errorBody("internal", "internal error"), 500);
}

function fromHttpException(error: HTTPException): ApiError {
  const byStatus: Partial<Record<number, ErrorCode>> = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    413: "payload_too_large",
    415: "unsupported_media_type",
  };
  return new ApiError(byStatus[error.status] ?? "internal", error.message || "request refused");
}
