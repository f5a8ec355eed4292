/**
 * An error an SDK call throws inside the script, under its `name` (`QuotaExceededError`,
 * `NetworkPolicyError`, `ValidationError`…). The sandbox bridge carries name and message
 * across; nothing else crosses.
 */
export class SdkError extends Error {
  constructor(
    override readonly name: "QuotaExceededError" | "NetworkPolicyError" | "ValidationError" | "ConflictError" | "NetworkError" | "TimeoutError" | "ResponseTooLargeError",
    message: string,
  ) {
    super(message);
  }
}

export const invalid = (message: string) => new SdkError("ValidationError", message);
export const quota = (message: string) => new SdkError("QuotaExceededError", message);

/** The argument at `index`, which must be a string matching `pattern`. */
export function stringArg(args: unknown[], index: number, what: string, pattern: RegExp): string {
  const value = args[index];
  if (typeof value !== "string" || !pattern.test(value)) throw invalid(`${what} must be a string matching ${pattern}`);
  return value;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
