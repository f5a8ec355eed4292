/**
 * What happens to one attempt of an event delivery (API.md §10), as pure functions of the
 * delivery's state in its cell. The cell, not the queue, counts attempts: a queue message
 * only asks for one, and `decideAttempt` says whether that attempt is the one due now. After
 * the attempt, `afterAttempt` says whether the delivery is done, retried (when), or dead.
 *
 * A delivery moves pending → running (attempt n claimed) → completed | retrying | dead_lettered,
 * and retrying → running (attempt n+1) …; a replay puts a dead letter back to pending at 0.
 */
import { afterFailure, MAX_RETRIES } from "./retry-policy";

export const MAX_ATTEMPTS = MAX_RETRIES + 1;

export type DeliveryStatus = "pending" | "running" | "retrying" | "completed" | "dead_lettered";

/** What the cell keeps about a delivery: its status and how many attempts have started. */
export interface DeliveryState {
  status: DeliveryStatus;
  attempts: number;
}

export type AttemptDecision =
  /** Claim and run this attempt. */
  | { action: "run"; attempt: number }
  /** An attempt that already started, or not the one due (an old copy, a message from before a replay). */
  | { action: "ack-stale" }
  /** The delivery is finished (or unknown): nothing to run. */
  | { action: "ack-done" }
  /** Out of attempts without a recorded end (state left by an older version): dead-letter it. */
  | { action: "dead-letter" };

/**
 * @param delivery the delivery as stored, or null when the cell has none
 * @param asked the attempt a queue message asks for; undefined for messages from before
 *   attempts were carried (they ask for the next one)
 */
export function decideAttempt(delivery: DeliveryState | null, asked: number | undefined): AttemptDecision {
  if (delivery === null || delivery.status === "completed" || delivery.status === "dead_lettered") return { action: "ack-done" };
  if (delivery.status === "running") return { action: "ack-stale" };
  const next = delivery.attempts + 1;
  if (asked !== undefined && asked !== next) return { action: "ack-stale" };
  if (next > MAX_ATTEMPTS) return { action: "dead-letter" };
  return { action: "run", attempt: next };
}

export type AttemptOutcome =
  | { kind: "completed" }
  /** The script failed or timed out: worth another attempt. */
  | { kind: "failed" }
  /** Admission refused it (rate, concurrency, memory): retried like a failure, not before Retry-After. */
  | { kind: "refused"; retryAfterSeconds: number }
  /** NonRetriableError, or the script is not there to run: no attempt can succeed. */
  | { kind: "final" };

export type OutcomeDecision = { action: "completed" } | { action: "retry-at"; attempt: number; at: number } | { action: "dead-letter" };

export interface RetryClock {
  now: number;
  baseSeconds: number;
  /** In [0, 1), for the retry policy's jitter; 0.5 is none. */
  random?: number;
}

/** After attempt `attempt` ended with `outcome`: done, the next attempt and when, or a dead letter. */
export function afterAttempt(attempt: number, outcome: AttemptOutcome, clock: RetryClock): OutcomeDecision {
  if (outcome.kind === "completed") return { action: "completed" };
  if (outcome.kind === "final") return { action: "dead-letter" };
  const retry = afterFailure(attempt, clock.baseSeconds, clock.random);
  if (retry.action === "dead-letter") return { action: "dead-letter" };
  const seconds = outcome.kind === "refused" ? Math.max(retry.delaySeconds, outcome.retryAfterSeconds) : retry.delaySeconds;
  return { action: "retry-at", attempt: attempt + 1, at: clock.now + seconds * 1000 };
}
