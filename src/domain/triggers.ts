import { Cron } from "croner";
import { z } from "zod";

/** How a script is started (API.md §6), or `module`: imported by other scripts, never run alone (§13); fixed when the script is created. */
export const SCRIPT_TYPES = ["http", "event", "scheduled", "manual", "module"] as const;
export type ScriptType = (typeof SCRIPT_TYPES)[number];

export const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

const LITERAL_SEGMENT = /^[A-Za-z0-9._~-]+$/;
const PARAM_SEGMENT = /^:[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * A route pattern such as `/orders/:id` or `/files/*`: literal segments, `:name` parameters,
 * and a final `*` that matches the rest of the path. Returns a problem, or null when valid.
 */
export function pathPatternProblem(path: string): string | null {
  if (!path.startsWith("/")) return "must start with /";
  if (path.length > 256) return "must be at most 256 characters";
  const segments = splitPath(path);
  const names = new Set<string>();
  for (const [index, segment] of segments.entries()) {
    if (segment === "*") {
      if (index !== segments.length - 1) return "* may only be the last segment";
    } else if (PARAM_SEGMENT.test(segment)) {
      if (names.has(segment)) return `parameter ${segment} appears twice`;
      names.add(segment);
    } else if (!LITERAL_SEGMENT.test(segment)) {
      return `segment "${segment}" may hold only letters, digits and . _ ~ - (or be :name or *)`;
    }
  }
  return null;
}

/** Path segments without empty ones, so `/a/b/` and `/a//b` are `/a/b`. */
export function splitPath(path: string): string[] {
  return path.split("/").filter((segment) => segment !== "");
}

export function normalizePath(path: string): string {
  return "/" + splitPath(path).join("/");
}

/** Two patterns that match the same requests have the same key (`/orders/:id` = `/orders/:n`). */
export function routeKey(path: string): string {
  return "/" + splitPath(path).map((s) => (s.startsWith(":") ? ":" : s)).join("/");
}

const httpTrigger = z.strictObject({
  path: z
    .string()
    .superRefine((path, ctx) => {
      const problem = pathPatternProblem(path);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .transform(normalizePath),
  methods: z
    .array(z.enum(HTTP_METHODS, { error: `must be one of ${HTTP_METHODS.join(", ")}` }))
    .min(1)
    .transform((methods) => HTTP_METHODS.filter((m) => methods.includes(m)))
    .default([...HTTP_METHODS]),
});

/** An event type (`order.created`) or a subscription pattern (`order.*`, `*`). */
export const EVENT_TYPE = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/;
const EVENT_PATTERN = /^(\*|[a-z0-9_-]+(\.[a-z0-9_-]+)*(\.\*)?)$/;

const eventTrigger = z.strictObject({
  eventTypes: z
    .array(
      z
        .string()
        .max(200)
        .regex(EVENT_PATTERN, "must be an event type like order.created, a prefix like order.*, or *"),
    )
    .min(1)
    .max(20)
    .transform((types) => [...new Set(types)]),
});

const scheduledTrigger = z.strictObject({
  cron: z.string().superRefine((cron, ctx) => {
    const problem = cronProblem(cron);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  }),
  timezone: z
    .string()
    .default("UTC")
    .superRefine((zone, ctx) => {
      if (!isTimeZone(zone)) ctx.addIssue({ code: "custom", message: "must be an IANA time zone such as UTC or Europe/Paris" });
    }),
  allowOverlap: z.boolean().default(false),
});

const manualTrigger = z.strictObject({});

export const TRIGGER_SCHEMAS = {
  http: httpTrigger,
  event: eventTrigger,
  scheduled: scheduledTrigger,
  manual: manualTrigger,
  /** A module has no trigger. */
  module: manualTrigger,
} as const;

export type HttpTrigger = z.infer<typeof httpTrigger>;
export type EventTrigger = z.infer<typeof eventTrigger>;
export type ScheduledTrigger = z.infer<typeof scheduledTrigger>;
export type Trigger = HttpTrigger | EventTrigger | ScheduledTrigger | Record<string, never>;

/** Standard 5-field cron (minute hour day-of-month month day-of-week). */
export function cronProblem(cron: string): string | null {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5) return "must have 5 fields: minute hour day-of-month month day-of-week";
  try {
    new Cron(cron, { paused: true, timezone: "UTC" });
    return null;
  } catch (error) {
    return error instanceof Error ? error.message.replace(/^CronPattern: /, "") : "invalid cron expression";
  }
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
