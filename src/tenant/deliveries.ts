/**
 * Event deliveries inside a tenant's cell (API.md §10): fan-out, one run per attempt,
 * retries the cell schedules itself, dead letters, replays, and the sweep that re-sends
 * what a crash or a lost queue message left behind. The runner calls it and lends it its
 * executor; the decisions themselves are the pure ones of events/attempt-policy.ts.
 *
 * The guarantee: an accepted event is recorded before it is acknowledged, fanned out once,
 * and each delivery's attempt n is claimed in the cell's SQLite before it runs, so it runs
 * at most once; until a delivery is completed or dead-lettered, the alarm's sweep re-sends
 * its due attempt, so it runs at least once.
 */
import { afterAttempt, type AttemptOutcome, decideAttempt, type OutcomeDecision } from "../events/attempt-policy";
import { type DeliveryMessage, type EventMessage, MAX_EVENT_PAYLOAD_BYTES, payloadBytes, queueMessage } from "../events/messages";
import { retryBase } from "../events/retry-policy";
import { subscribesAny } from "../events/subscriptions";
import { newId } from "../lib/ids";
import type { JsonValue } from "../lib/json";
import type { PublishedEvent } from "../host/host-api";
import { parseTraceparent, publisherTraceparent, type TraceContext } from "../observability/trace";
import type { Catalogue, RunnableScript, Subscription } from "./catalogue";
import type { Delivery, EventStore, StoredEvent } from "./event-store";
import { Lanes } from "./lanes";
import type { Outbox } from "./outbox";
import { quotaMessage } from "./quota-ledger";
import type { ExecutionStatus } from "./records";

/**
 * A pending or retrying delivery whose attempt was due this long ago and has not started is
 * sent again by the sweep: its message was lost, or the cell crashed before sending it.
 * Long enough for a busy queue to hand over what it holds; a copy sent too early only
 * costs an acknowledgement (the attempt is claimed once).
 */
export const SWEEP_GRACE_MS = 30_000;
/** What one sweep or fan-out handles at most; the next alarm goes on. */
const SWEEP_BATCH = 500;
/** How an event's idempotency key is kept (24 h). */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

type ErrorInfo = { name: string; message: string };
const GAVE_UP: ErrorInfo = { name: "DeliveryFailed", message: "the delivery failed every attempt" };

/** How an attempt's execution ended, as the delivery needs it. */
export interface AttemptEnd {
  executionId: string;
  status: ExecutionStatus;
  error: ErrorInfo | null;
}

/** One attempt, as the runner's executor runs it. */
export interface AttemptRun {
  event: { id: string; type: string; payload: JsonValue; publishedAt: string; source: string };
  attempt: number;
  eventDepth: number;
  /** The trace the event was published in: its executions join it. */
  trace: TraceContext | null;
  /** Called inside the transaction that records the execution's end, so the delivery's state lands with it. */
  finished: (end: AttemptEnd, now: number) => void;
}

/** The tenant, as deliveries need it: for messages, subscriptions, scripts, and running them. */
export interface TenantCell {
  slug: string;
  catalogue: Catalogue;
  /** How many queued deliveries run at once (within the tenant's `concurrency`). */
  lanes: number;
  run: (runnable: RunnableScript, attempt: AttemptRun) => Promise<{ refused: { reason: "rate" | "concurrency" | "memory"; retryAfterSeconds: number } } | object>;
}

export interface DeliveryServices {
  events: EventStore;
  outbox: Outbox;
  transaction: <T>(fn: () => T) => T;
  /** Read at each use: RETRY_BASE_SECONDS. */
  env: () => { RETRY_BASE_SECONDS?: string };
  /** Makes sure the cell's alarm fires by `at`. */
  wakeBy: (at: number) => Promise<void>;
  /** Starts sending the outbox without waiting for it. */
  sendSoon: () => void;
  clock?: () => number;
  random?: () => number;
}

export class Deliveries {
  private readonly lanes = new Lanes();
  private readonly events: EventStore;
  private readonly now: () => number;

  constructor(private readonly services: DeliveryServices) {
    this.events = services.events;
    this.now = services.clock ?? Date.now;
  }

  // ---- events in ----

  /**
   * Records an accepted event and, in the same transaction, fans it out. An idempotency key
   * seen within 24 h records nothing and answers the first event's id. Without the tenant's
   * subscriptions at hand (the catalogue could not be read), the event is recorded alone and
   * the sweep fans it out.
   */
  async accept(tenant: TenantCell, event: StoredEvent, idempotencyKey: string | undefined): Promise<{ eventId: string; replayed: boolean }> {
    const subscriptions = await this.subscriptionsOf(tenant.catalogue);
    const now = this.now();
    // Key checked and recorded in one transaction, after the last await: two publishes with one key record one event.
    const outcome = this.services.transaction((): { first: string } | { created: number } => {
      const first = idempotencyKey === undefined ? null : this.events.eventForKey(idempotencyKey, now);
      if (first !== null) return { first };
      this.events.insertEvent(event);
      if (idempotencyKey !== undefined) this.events.rememberKey(idempotencyKey, event.id, now + IDEMPOTENCY_TTL_MS);
      return { created: subscriptions ? this.fanOutNow(tenant.slug, subscriptions, [event], now) : 0 };
    });
    if ("first" in outcome) return { eventId: outcome.first, replayed: true };
    await this.afterFanOut(outcome.created, subscriptions !== null, now);
    return { eventId: event.id, replayed: false };
  }

  /**
   * Records, and fans out, the events a completed execution published; call inside the
   * transaction that records the execution, with the subscriptions read before it (null:
   * left to the sweep). An idempotency key already seen sends nothing. Answers how many
   * deliveries it created; then call `afterFanOut`.
   */
  recordPublished(slug: string, subscriptions: readonly Subscription[] | null, published: readonly PublishedEvent[], source: string, now: number): number {
    const events: StoredEvent[] = [];
    for (const event of published) {
      if (event.idempotencyKey !== undefined && this.events.eventForKey(event.idempotencyKey, now)) continue;
      const stored = { id: event.id, type: event.type, payload: event.payload, publishedAt: now, source, depth: event.depth, traceparent: event.traceparent ?? null };
      this.events.insertEvent(stored);
      if (event.idempotencyKey !== undefined) this.events.rememberKey(event.idempotencyKey, event.id, now + IDEMPOTENCY_TTL_MS);
      events.push(stored);
    }
    return subscriptions ? this.fanOutNow(slug, subscriptions, events, now) : 0;
  }

  /** An `event` message from the queue (a service, or an older version of the cell): recorded once, then fanned out. */
  async receive(tenant: TenantCell, message: EventMessage) {
    const now = this.now();
    let id = message.id;
    if (message.idempotencyKey !== undefined) {
      const first = this.events.eventForKey(message.idempotencyKey, now);
      if (first && first !== id) return;
      id ??= first ?? undefined;
    }
    const eventId = id ?? newId("evt", now);
    if (payloadBytes(message.payload) > MAX_EVENT_PAYLOAD_BYTES) {
      this.undeliverable(eventId, message.type, message.payload as JsonValue, 1, { name: "PayloadTooLarge", message: `the event's payload is over ${MAX_EVENT_PAYLOAD_BYTES} bytes` });
      return;
    }
    // A copy of an event already recorded (and fanned out) changes nothing.
    if (this.events.getEvent(eventId)) return this.fanOut(tenant, [eventId]);
    const event = {
      id: eventId,
      type: message.type,
      payload: message.payload as JsonValue,
      publishedAt: message.publishedAt ?? now,
      source: message.source ?? "queue",
      depth: message.depth ?? 0,
      traceparent: publisherTraceparent(message.traceparent),
    };
    await this.accept(tenant, event, message.idempotencyKey);
  }

  /** Fans out events recorded but not fanned out yet (`ids`, or the oldest): the sweep's and replay's way. Safe to repeat. */
  async fanOut(tenant: TenantCell, ids?: readonly string[]) {
    const subscriptions = await tenant.catalogue.subscriptions();
    const now = this.now();
    const created = this.services.transaction(() => this.fanOutNow(tenant.slug, subscriptions, this.events.unfannedEvents(SWEEP_BATCH, ids), now));
    await this.afterFanOut(created, true, now);
  }

  /** After a fan-out: the alarm armed for the sweep (and sooner when the fan-out is still to do), the outbox on its way. */
  async afterFanOut(created: number, fannedOut: boolean, now: number) {
    if (!fannedOut) await this.services.wakeBy(now + 1_000);
    if (created === 0) return;
    await this.services.wakeBy(now + SWEEP_GRACE_MS);
    this.services.sendSoon();
  }

  /** The tenant's subscriptions, or null when the catalogue cannot be read now (the sweep fans out later). */
  async subscriptionsOf(catalogue: Catalogue): Promise<Subscription[] | null> {
    try {
      return await catalogue.subscriptions();
    } catch (error) {
      console.error("the tenant's subscriptions could not be read; the alarm's sweep fans out", error);
      return null;
    }
  }

  /**
   * One delivery per subscribed active script for each event, with a message for its
   * first attempt, and the events marked fanned out; inside a transaction. Answers how
   * many deliveries it created (none for an event fanned out before).
   */
  private fanOutNow(slug: string, subscriptions: readonly Subscription[], events: readonly StoredEvent[], now: number): number {
    let created = 0;
    for (const event of events) {
      const messages = subscriptions
        .filter((s) => subscribesAny(s.eventTypes, event.type) && this.events.insertDelivery(event.id, s.scriptId, now))
        .map((s) => deliveryMessage(slug, event.id, s.scriptId, 1));
      this.services.outbox.add(messages, now);
      this.events.markFannedOut(event.id, now);
      created += messages.length;
    }
    return created;
  }

  // ---- attempts ----

  /**
   * A `delivery` message: runs the attempt it asks for if that is the one due, claimed in
   * storage first; anything else is acknowledged without running. The outcome (completed,
   * the next attempt at a time, or a dead letter) is recorded with the execution.
   */
  async deliver(tenant: TenantCell, message: DeliveryMessage) {
    const { eventId, scriptId } = message;
    if (!this.due(eventId, scriptId, message.attempt)) return;
    const runnable = await tenant.catalogue.script(scriptId);
    const release = await this.lanes.acquire(tenant.lanes);
    try {
      // Decided again after waiting: a copy of this message may have taken the attempt meanwhile.
      const delivery = this.events.getDelivery(eventId, scriptId);
      const decision = decideAttempt(delivery, message.attempt);
      const event = this.events.getEvent(eventId);
      if (decision.action !== "run" || !delivery || !event) {
        if (decision.action === "dead-letter") this.services.transaction(() => this.exhausted(eventId, scriptId));
        return;
      }
      const attempt = decision.attempt;
      if (!this.events.claimAttempt(eventId, scriptId, attempt, this.now())) return;
      if (!runnable || runnable.script.status !== "active") {
        const why = runnable ? `the script is ${runnable.script.status}` : "the script no longer exists";
        await this.conclude(tenant, event, scriptId, attempt, { kind: "final" }, { name: "ScriptUnavailable", message: why }, null);
        return;
      }
      const outcome = await this.runClaimed(tenant, runnable, event, attempt);
      if ("refused" in outcome) {
        const { reason, retryAfterSeconds } = outcome.refused;
        await this.conclude(tenant, event, scriptId, attempt, { kind: "refused", retryAfterSeconds }, { name: "QuotaExceededError", message: quotaMessage(reason) }, null);
      }
    } finally {
      release();
    }
  }

  /** Whether a message asking for `asked` may be worth running (checked again once it has a lane). */
  private due(eventId: string, scriptId: string, asked: number | undefined): boolean {
    const decision = decideAttempt(this.events.getDelivery(eventId, scriptId), asked);
    if (decision.action === "dead-letter") this.services.transaction(() => this.exhausted(eventId, scriptId));
    return decision.action === "run";
  }

  /**
   * Runs a claimed attempt; its outcome is recorded in the transaction that ends the
   * execution. If the platform fails before that (not the script), the attempt counts as
   * failed and the error goes on to the queue consumer (whose copy of the message is then stale).
   */
  private async runClaimed(tenant: TenantCell, runnable: RunnableScript, event: StoredEvent, attempt: number) {
    const scriptId = runnable.script.id;
    const recorded: { decision: OutcomeDecision | null } = { decision: null };
    const payload = { id: event.id, type: event.type, payload: event.payload, publishedAt: new Date(event.publishedAt).toISOString(), source: event.source };
    let outcome: Awaited<ReturnType<TenantCell["run"]>>;
    try {
      outcome = await tenant.run(runnable, {
        event: payload,
        attempt,
        eventDepth: event.depth,
        trace: parseTraceparent(event.traceparent),
        finished: (end, now) => {
          const kind: AttemptOutcome = end.status === "completed" ? { kind: "completed" } : end.error?.name === "NonRetriableError" ? { kind: "final" } : { kind: "failed" };
          const error = end.error ? { name: end.error.name, message: end.error.message } : { name: "Error", message: end.status };
          recorded.decision = this.apply(tenant.slug, event, scriptId, attempt, kind, error, end.executionId, now);
        },
      });
    } catch (error) {
      if (recorded.decision === null) {
        await this.conclude(tenant, event, scriptId, attempt, { kind: "failed" }, { name: "PlatformError", message: error instanceof Error ? error.message : String(error) }, null);
      }
      throw error;
    }
    if (recorded.decision) await this.afterDecision(recorded.decision);
    return outcome;
  }

  /** Records an attempt's outcome that no execution record carries (not run, refused). */
  private async conclude(tenant: TenantCell, event: StoredEvent, scriptId: string, attempt: number, outcome: AttemptOutcome, error: ErrorInfo, executionId: string | null) {
    const now = this.now();
    const decided = this.services.transaction(() => this.apply(tenant.slug, event, scriptId, attempt, outcome, error, executionId, now));
    await this.afterDecision(decided);
  }

  /** The delivery's state after attempt `attempt`, per the policy; inside a transaction. */
  private apply(slug: string, event: StoredEvent, scriptId: string, attempt: number, outcome: AttemptOutcome, error: ErrorInfo, executionId: string | null, now: number): OutcomeDecision {
    const decision = afterAttempt(attempt, outcome, { now, baseSeconds: retryBase(this.services.env()), random: this.services.random?.() });
    if (executionId) this.events.setReplayExecution(event.id, scriptId, executionId);
    if (decision.action === "completed") {
      this.events.completeDelivery(event.id, scriptId, executionId!, now);
    } else if (decision.action === "retry-at") {
      this.events.scheduleRetry(event.id, scriptId, { at: decision.at, error, executionId }, now);
      this.services.outbox.add([deliveryMessage(slug, event.id, scriptId, decision.attempt)], now, decision.at);
    } else {
      this.deadLetter(event, this.events.getDelivery(event.id, scriptId)!, attempt, error, now, executionId);
    }
    return decision;
  }

  private async afterDecision(decision: OutcomeDecision) {
    if (decision.action !== "retry-at") return;
    await this.services.wakeBy(decision.at + SWEEP_GRACE_MS);
    this.services.sendSoon();
  }

  /** A delivery with no attempt left and no recorded end (state of an older version); inside a transaction or alone. */
  private exhausted(eventId: string, scriptId: string) {
    const event = this.events.getEvent(eventId);
    const delivery = this.events.getDelivery(eventId, scriptId);
    if (!event || !delivery) return;
    this.deadLetter(event, delivery, delivery.attempts, delivery.lastError ?? GAVE_UP, this.now());
  }

  private deadLetter(event: StoredEvent, delivery: Delivery, attempts: number, error: ErrorInfo, now: number, executionId: string | null = null) {
    this.events.recordDeadLetter({ id: newId("dlq", now), scriptId: delivery.scriptId, eventId: event.id, eventType: event.type, payload: event.payload, attempts, error, firstFailedAt: delivery.firstFailedAt ?? now, now });
    this.events.markDeadLettered(event.id, delivery.scriptId, { attempts, error, executionId }, now);
  }

  private undeliverable(eventId: string, type: string | null, payload: JsonValue, attempts: number, error: ErrorInfo) {
    const now = this.now();
    this.events.recordDeadLetter({ id: newId("dlq", now), scriptId: null, eventId, eventType: type, payload, attempts, error, firstFailedAt: now, now });
  }

  // ---- what the queue could not take or gave up on ----

  /**
   * An event or delivery message of this tenant that the queue will not carry (refused by
   * the outbox, `reason` given) or gave up on (its dead-letter queue, `reason` null). The
   * delivery it asked for is dead-lettered, if that attempt was still the one due, with the
   * reason or else its last error; an event becomes a dead letter of no script. Run
   * messages are the runner's (queued-runs.ts). Call inside a transaction.
   */
  abandon(body: unknown, reason: ErrorInfo | null, attempts = 1) {
    const parsed = queueMessage.safeParse(body);
    if (!parsed.success) {
      const type = isObject(body) && typeof body.type === "string" ? body.type.slice(0, 200) : null;
      this.undeliverable(newId("evt"), type, toJson(body), attempts, reason ?? { name: "InvalidMessage", message: "not a valid queue message" });
      return;
    }
    const message = parsed.data;
    if (message.kind === "event") {
      this.undeliverable(message.id ?? newId("evt"), message.type, message.payload as JsonValue, attempts, reason ?? { name: "FanOutFailed", message: "the event could not be fanned out" });
    } else if (message.kind === "delivery") {
      const event = this.events.getEvent(message.eventId);
      const delivery = this.events.getDelivery(message.eventId, message.scriptId);
      const decision = decideAttempt(delivery, message.attempt);
      if (!event || !delivery || (decision.action !== "run" && decision.action !== "dead-letter")) return;
      this.deadLetter(event, delivery, delivery.attempts, reason ?? delivery.lastError ?? GAVE_UP, this.now());
    }
  }

  // ---- replays ----

  /**
   * Sends dead letters again (each id once): a delivery starts over at attempt 1, an event
   * that never fanned out is fanned out. A dead letter whose delivery is not dead-lettered
   * any more (its replay is still going, or completed) starts nothing. Answers how many started.
   */
  async replay(tenant: TenantCell, ids: readonly string[]): Promise<number> {
    const now = this.now();
    const events: string[] = [];
    let replayed = 0;
    this.services.transaction(() => {
      for (const id of new Set(ids)) {
        const letter = this.events.getDeadLetter(id);
        if (!letter) continue;
        if (letter.scriptId !== null) {
          const delivery = this.events.getDelivery(letter.eventId, letter.scriptId);
          if (delivery?.status !== "dead_lettered") continue;
          this.events.resetDelivery(letter.eventId, letter.scriptId, now);
          this.services.outbox.add([deliveryMessage(tenant.slug, letter.eventId, letter.scriptId, 1)], now);
        } else {
          // Replayable as the event it was, once: an event already recorded has been replayed.
          if (letter.eventType === null || this.events.getEvent(letter.eventId) || payloadBytes(letter.payload) > MAX_EVENT_PAYLOAD_BYTES) continue;
          this.events.insertEvent({ id: letter.eventId, type: letter.eventType, payload: letter.payload, publishedAt: now, source: "replay", depth: 0, traceparent: publisherTraceparent(null) });
          events.push(letter.eventId);
        }
        this.events.markReplayed(id, now);
        replayed += 1;
      }
    });
    if (events.length > 0) await this.fanOut(tenant, events);
    if (replayed > 0) {
      await this.services.wakeBy(now + SWEEP_GRACE_MS);
      this.services.sendSoon();
    }
    return replayed;
  }

  // ---- recovery ----

  /**
   * At start-up: attempts a previous life of the cell left running ended with it. Each
   * counts as a failed attempt: retried (the sweep sends it) or dead-lettered.
   */
  recoverInterrupted() {
    const now = this.now();
    const error = { name: "SandboxError", message: "the runner restarted while this attempt was running" };
    this.services.transaction(() => {
      for (const delivery of this.events.runningDeliveries()) {
        const event = this.events.getEvent(delivery.eventId);
        if (!event) continue;
        const decision = afterAttempt(delivery.attempts, { kind: "failed" }, { now, baseSeconds: retryBase(this.services.env()), random: this.services.random?.() });
        if (decision.action === "retry-at") this.events.scheduleRetry(event.id, delivery.scriptId, { at: decision.at, error, executionId: null }, now);
        else this.deadLetter(event, delivery, delivery.attempts, error, now);
      }
    });
  }

  /**
   * The alarm's sweep: fans out events that never were, and sends again the due attempt of
   * every pending or retrying delivery overdue by SWEEP_GRACE_MS (its message lost, or
   * never sent). A bounded batch each time; `nextSweepAt` says when to come back.
   */
  async sweep(tenant: TenantCell) {
    await this.fanOut(tenant);
    const now = this.now();
    const overdue = this.events.overdueDeliveries(now - SWEEP_GRACE_MS, SWEEP_BATCH);
    if (overdue.length === 0) return;
    this.services.transaction(() => {
      for (const delivery of overdue) {
        const decision = decideAttempt(delivery, undefined);
        if (decision.action === "run") {
          this.services.outbox.add([deliveryMessage(tenant.slug, delivery.eventId, delivery.scriptId, decision.attempt)], now);
          this.events.markResent(delivery.eventId, delivery.scriptId, now);
        } else if (decision.action === "dead-letter") {
          this.exhausted(delivery.eventId, delivery.scriptId);
        }
      }
    });
    await this.services.wakeBy(now + SWEEP_GRACE_MS);
  }

  /** When the sweep next has something to look at, or null when nothing is outstanding. */
  nextSweepAt(): number | null {
    if (this.events.hasUnfannedEvents()) return this.now() + 1_000;
    const due = this.events.earliestNextAttempt();
    return due === null ? null : due + SWEEP_GRACE_MS;
  }
}

export function deliveryMessage(tenant: string, eventId: string, scriptId: string, attempt: number): DeliveryMessage {
  return { kind: "delivery", tenant, eventId, scriptId, attempt };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function toJson(value: unknown): JsonValue {
  return (typeof value === "string" ? value : (JSON.parse(JSON.stringify(value ?? null)) as JsonValue));
}
