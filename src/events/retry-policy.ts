/**
 * What happens to a delivery that did not complete (API.md §10), as a pure function of its
 * attempt: retry after base · 2^(attempt-1) seconds (2, 4, 8, 16, 32 with the default base),
 * with a little jitter so retries of one burst do not arrive together; the queue moves it to
 * the dead-letter queue after `max_retries` (5), i.e. after the 6th attempt.
 */
export const MAX_RETRIES = 5;
/** Jitter: up to ±10% of the delay, never below the base delay's first second. */
const JITTER = 0.1;

export type RetryDecision = { action: "retry"; delaySeconds: number } | { action: "dead-letter" };

/**
 * @param attempt the attempt that just failed, 1-based (a queue message's `attempts`)
 * @param random a number in [0, 1); 0.5 means no jitter
 */
export function afterFailure(attempt: number, baseSeconds: number, random: number = Math.random()): RetryDecision {
  if (attempt > MAX_RETRIES) return { action: "dead-letter" };
  const delay = baseSeconds * 2 ** (attempt - 1);
  const jittered = delay * (1 + (random * 2 - 1) * JITTER);
  return { action: "retry", delaySeconds: Math.max(0, Math.round(jittered)) };
}

/** `RETRY_BASE_SECONDS` as a number (default 2; 0 retries at once, for tests). */
export function retryBase(env: { RETRY_BASE_SECONDS?: string }): number {
  const value = Number(env.RETRY_BASE_SECONDS ?? "2");
  return Number.isFinite(value) && value >= 0 ? value : 2;
}
