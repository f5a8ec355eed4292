import { describe, expect, it } from "vitest";
import { afterAttempt, type AttemptDecision, type AttemptOutcome, decideAttempt, type DeliveryState, MAX_ATTEMPTS, type OutcomeDecision } from "../../src/events/attempt-policy";

describe("decideAttempt: what a queue message asking for an attempt gets (API.md §10)", () => {
  const table: Array<[string, DeliveryState | null, number | undefined, AttemptDecision]> = [
    ["no such delivery", null, 1, { action: "ack-done" }],
    ["a new delivery, attempt 1 asked", { status: "pending", attempts: 0 }, 1, { action: "run", attempt: 1 }],
    ["a new delivery, an older message without attempt", { status: "pending", attempts: 0 }, undefined, { action: "run", attempt: 1 }],
    ["a new delivery, attempt 2 asked (a message from before a replay)", { status: "pending", attempts: 0 }, 2, { action: "ack-stale" }],
    ["attempt 1 running, a copy of its message", { status: "running", attempts: 1 }, 1, { action: "ack-stale" }],
    ["attempt 1 running, an older message without attempt", { status: "running", attempts: 1 }, undefined, { action: "ack-stale" }],
    ["attempt 1 failed, attempt 2 asked", { status: "retrying", attempts: 1 }, 2, { action: "run", attempt: 2 }],
    ["attempt 1 failed, a late copy of attempt 1", { status: "retrying", attempts: 1 }, 1, { action: "ack-stale" }],
    ["attempt 1 failed, attempt 3 asked", { status: "retrying", attempts: 1 }, 3, { action: "ack-stale" }],
    ["attempt 5 failed, attempt 6 asked", { status: "retrying", attempts: 5 }, 6, { action: "run", attempt: 6 }],
    ["attempt 5 failed, an older message without attempt", { status: "retrying", attempts: 5 }, undefined, { action: "run", attempt: 6 }],
    ["six attempts started and no end recorded (older state)", { status: "retrying", attempts: 6 }, undefined, { action: "dead-letter" }],
    ["six attempts started, attempt 7 asked", { status: "retrying", attempts: 6 }, 7, { action: "dead-letter" }],
    ["completed, a copy of its attempt", { status: "completed", attempts: 1 }, 1, { action: "ack-done" }],
    ["completed, a later attempt asked", { status: "completed", attempts: 2 }, 3, { action: "ack-done" }],
    ["dead-lettered, attempt 6 again", { status: "dead_lettered", attempts: 6 }, 6, { action: "ack-done" }],
    ["dead-lettered, attempt 1 of the old round", { status: "dead_lettered", attempts: 6 }, 1, { action: "ack-done" }],
    ["replayed (reset to 0), attempt 1 asked", { status: "pending", attempts: 0 }, 1, { action: "run", attempt: 1 }],
  ];
  for (const [name, delivery, asked, expected] of table) {
    it(`${name} → ${expected.action}`, () => expect(decideAttempt(delivery, asked)).toEqual(expected));
  }
});

describe("afterAttempt: what an attempt's outcome makes of the delivery", () => {
  const now = 1_000_000;
  const clock = { now, baseSeconds: 2, random: 0.5 };
  const table: Array<[string, number, AttemptOutcome, OutcomeDecision]> = [
    ["attempt 1 completed", 1, { kind: "completed" }, { action: "completed" }],
    ["attempt 6 completed", 6, { kind: "completed" }, { action: "completed" }],
    ["attempt 1 failed → attempt 2 in 2 s", 1, { kind: "failed" }, { action: "retry-at", attempt: 2, at: now + 2_000 }],
    ["attempt 2 failed → attempt 3 in 4 s", 2, { kind: "failed" }, { action: "retry-at", attempt: 3, at: now + 4_000 }],
    ["attempt 3 failed → attempt 4 in 8 s", 3, { kind: "failed" }, { action: "retry-at", attempt: 4, at: now + 8_000 }],
    ["attempt 4 failed → attempt 5 in 16 s", 4, { kind: "failed" }, { action: "retry-at", attempt: 5, at: now + 16_000 }],
    ["attempt 5 failed → attempt 6 in 32 s", 5, { kind: "failed" }, { action: "retry-at", attempt: 6, at: now + 32_000 }],
    ["attempt 6 failed → dead letter", 6, { kind: "failed" }, { action: "dead-letter" }],
    ["NonRetriableError on attempt 1 → dead letter", 1, { kind: "final" }, { action: "dead-letter" }],
    ["refused on attempt 1, Retry-After 30 s → attempt 2 in 30 s", 1, { kind: "refused", retryAfterSeconds: 30 }, { action: "retry-at", attempt: 2, at: now + 30_000 }],
    ["refused on attempt 4, Retry-After 1 s → attempt 5 in 16 s", 4, { kind: "refused", retryAfterSeconds: 1 }, { action: "retry-at", attempt: 5, at: now + 16_000 }],
    ["refused on attempt 6 → dead letter", 6, { kind: "refused", retryAfterSeconds: 1 }, { action: "dead-letter" }],
  ];
  for (const [name, attempt, outcome, expected] of table) {
    it(name, () => expect(afterAttempt(attempt, outcome, clock)).toEqual(expected));
  }

  it("with RETRY_BASE_SECONDS 0 retries at once", () => {
    expect(afterAttempt(3, { kind: "failed" }, { now, baseSeconds: 0 })).toEqual({ action: "retry-at", attempt: 4, at: now });
  });

  it("walks a delivery that always fails through exactly attempts 1..6", () => {
    let state: DeliveryState = { status: "pending", attempts: 0 };
    const ran: number[] = [];
    for (;;) {
      const decision = decideAttempt(state, state.attempts + 1);
      if (decision.action !== "run") break;
      ran.push(decision.attempt);
      const after = afterAttempt(decision.attempt, { kind: "failed" }, clock);
      state = { status: after.action === "retry-at" ? "retrying" : "dead_lettered", attempts: decision.attempt };
    }
    expect(ran).toEqual([1, 2, 3, 4, 5, 6]);
    expect(ran).toHaveLength(MAX_ATTEMPTS);
    expect(state.status).toBe("dead_lettered");
  });
});
