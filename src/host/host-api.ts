/**
 * The host side of the `iota` SDK for one execution: what each `iota.*` call does, with
 * its quotas. The sandbox bridge hands every function its arguments as parsed JSON and
 * carries back its value (or its error's name and message) as JSON.
 */
import type { Limits } from "../domain/limits";
import { EVENT_TYPE } from "../domain/triggers";
import { MAX_EVENT_PAYLOAD_BYTES, payloadBytes } from "../events/messages";
import { newId } from "../lib/ids";
import type { JsonValue } from "../lib/json";
import type { HostApi } from "../sandbox/host";
import { MIN_SECRET_LENGTH, SECRET_NAME } from "../services/secrets";
import type { Collections } from "./collections";

/** The `iota.db` operations, local (the cell's SQLite) or remote (one cell call each, from the edge). */
export type CollectionsPort = { [K in "query" | "get" | "insert" | "update" | "delete" | "count"]: (args: unknown[]) => ReturnType<Collections[K]> | Promise<ReturnType<Collections[K]>> };
import { invalid, isPlainObject, quota, stringArg } from "./errors";
import { MAX_SUBREQUESTS_PER_EXECUTION, planRequest, send } from "./http-client";

/** Events one execution may publish. */
export const MAX_PUBLISHED_PER_EXECUTION = 100;

export interface ExecutionScope {
  limits: Limits;
  allowedHosts: readonly string[] | null;
  /** Depth of the event that triggered the execution; null when no event did. */
  eventDepth: number | null;
}

export interface HostServices {
  collections: CollectionsPort;
  secret: (name: string) => Promise<string | null>;
  /** The names of the tenant's secrets (a handler object's `env`). */
  secretNames: () => Promise<string[]>;
  /**
   * Takes one outbound request of the tenant's `outboundRequestsPerMinute` (`limit`): false
   * when none is left. The cell's minute window; at the edge, a lease's allowance, topped
   * up from the cell when it runs out.
   */
  outbound: { take(limit: number): boolean | Promise<boolean> };
  fetch: typeof fetch;
}

/** An event `iota.events.publish` buffered until the execution completes. */
export interface PublishedEvent {
  id: string;
  type: string;
  payload: JsonValue;
  idempotencyKey?: string;
  depth: number;
  /** The publishing execution's trace context (set by the executor), carried to the executions the event causes. */
  traceparent?: string;
}

export interface ExecutionHost {
  api: HostApi;
  /** Secret values this execution read: redacted from what is recorded about it. */
  secretValues: Set<string>;
  /** Sent only if the execution completes. */
  outbox: PublishedEvent[];
}

export function executionHost(scope: ExecutionScope, services: HostServices): ExecutionHost {
  const secretValues = new Set<string>();
  const outbox: PublishedEvent[] = [];
  let subrequests = 0;
  const outboundContext = (remainingMs: number) => ({
    remainingMs,
    allowedHosts: scope.allowedHosts,
    fetch: services.fetch,
    count: async () => {
      if (subrequests >= MAX_SUBREQUESTS_PER_EXECUTION) throw quota(`more than ${MAX_SUBREQUESTS_PER_EXECUTION} outbound requests in one execution`);
      // Counted before the wait, so requests started together cannot pass the cap together.
      subrequests += 1;
      if (!(await services.outbound.take(scope.limits.outboundRequestsPerMinute))) {
        subrequests -= 1;
        throw quota(`the tenant's outboundRequestsPerMinute (${scope.limits.outboundRequestsPerMinute}) is used up`);
      }
    },
  });
  const { collections } = services;

  const api: HostApi = {
    functions: {
      "db.query": (args) => collections.query(args),
      "db.get": (args) => collections.get(args),
      "db.insert": (args) => collections.insert(args),
      "db.update": (args) => collections.update(args),
      "db.delete": (args) => collections.delete(args),
      "db.count": (args) => collections.count(args),
      // Also the sandbox's fetch (a third argument: the binary transport, bytes by id).
      "http.fetch": (args, info) => send(planRequest(args, null, outboundContext(info.remainingMs), info.bytes), outboundContext(info.remainingMs)),
      "http.get": (args, info) => {
        rejectOptions(args[1], ["method", "body"], "http.get");
        return send(planRequest(args, "GET", outboundContext(info.remainingMs)), outboundContext(info.remainingMs));
      },
      "http.post": (args, info) => {
        rejectOptions(args[1], ["method"], "http.post");
        return send(planRequest(args, "POST", outboundContext(info.remainingMs)), outboundContext(info.remainingMs));
      },
      "secrets.get": async (args) => {
        const value = await services.secret(stringArg(args, 0, "the secret name", SECRET_NAME));
        if (value !== null) secretValues.add(value);
        return value;
      },
      "events.publish": (args) => {
        const type = stringArg(args, 0, "the event type", EVENT_TYPE);
        if (type.length > 200) throw invalid("the event type must be at most 200 characters");
        const payload = (args[1] ?? null) as JsonValue;
        const options = args[2] ?? {};
        if (!isPlainObject(options) || Object.keys(options).some((k) => k !== "idempotencyKey")) throw invalid("the options may only hold idempotencyKey");
        const key = options.idempotencyKey;
        if (key !== undefined && (typeof key !== "string" || key.length < 1 || key.length > 200)) throw invalid("idempotencyKey must be a string of 1 to 200 characters");
        const depth = scope.eventDepth === null ? 0 : scope.eventDepth + 1;
        if (depth > scope.limits.eventDepth) throw quota(`events published by scripts may chain at most ${scope.limits.eventDepth} deep`);
        if (outbox.length >= MAX_PUBLISHED_PER_EXECUTION) throw quota(`at most ${MAX_PUBLISHED_PER_EXECUTION} events per execution`);
        if (payloadBytes(payload) > MAX_EVENT_PAYLOAD_BYTES) throw quota(`an event's payload may take at most ${MAX_EVENT_PAYLOAD_BYTES} bytes as JSON`);
        const event: PublishedEvent = { id: newId("evt"), type, payload, depth, ...(key === undefined ? {} : { idempotencyKey: key }) };
        outbox.push(event);
        return { eventId: event.id };
      },
    },
  };
  return { api, secretValues, outbox };
}

function rejectOptions(options: unknown, names: string[], fn: string) {
  if (!isPlainObject(options)) return;
  for (const name of names) if (name in options) throw invalid(`${fn} does not take ${name}`);
}

/** How many times over a secret is looked for JSON-escaped (a string in a JSON string in …). */
const MAX_JSON_ESCAPES = 4;

/**
 * Replaces every secret value read during an execution by `[secret]`: as it is, JSON-escaped
 * up to MAX_JSON_ESCAPES times (`JSON.stringify(JSON.stringify(s))` and the like, logged or
 * returned) and percent-encoded (in a logged URL or form body). Values shorter than
 * MIN_SECRET_LENGTH are left: redacting them would blank unrelated text. Longer forms go
 * first, so one form never breaks another's match.
 */
export function redactSecrets(text: string, secretValues: Set<string>): string {
  const forms = new Set<string>();
  for (const value of secretValues) {
    if ([...value].length < MIN_SECRET_LENGTH) continue;
    for (const form of secretForms(value)) forms.add(form);
  }
  let out = text;
  for (const form of [...forms].sort((a, b) => b.length - a.length)) out = out.split(form).join("[secret]");
  return out;
}

/** The spellings of a secret a script produces without trying to hide it. */
export function secretForms(value: string): string[] {
  const forms = [value];
  let escaped = value;
  for (let depth = 1; depth <= MAX_JSON_ESCAPES; depth++) forms.push((escaped = JSON.stringify(escaped).slice(1, -1)));
  try {
    forms.push(encodeURIComponent(value), new URLSearchParams([["", value]]).toString().slice(1));
  } catch {
    // A lone surrogate has no percent-encoding.
  }
  return [...new Set(forms)];
}
