import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { ApiError, errorBody, type ErrorCode } from "../domain/errors";

/** The §3 error type lives in domain/errors.ts, below the services that raise it. */
export { ApiError, errorBody, ERROR_STATUS, type ErrorCode, type FieldProblem } from "../domain/errors";

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
