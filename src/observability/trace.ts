/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/), pure: reading an incoming
 * `traceparent`, starting a trace, and the header an execution sends on. An execution is
 * one span: its outgoing calls and the events it publishes name it as their parent.
 */

export interface TraceContext {
  /** 32 lower-case hex digits, not all zero. */
  traceId: string;
  /** The caller's span (16 hex digits), or null when this trace started here. */
  parentSpanId: string | null;
  /** The caller's sampled flag, carried on unchanged (traces we start are sampled). */
  sampled: boolean;
}

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const ZERO_TRACE = "0".repeat(32);
const ZERO_SPAN = "0".repeat(16);

export function isTraceId(value: string): boolean {
  return TRACE_ID.test(value) && value !== ZERO_TRACE;
}

/**
 * The context of a `traceparent` header, or null when it is absent or invalid (then a new
 * trace starts, as the spec asks). Version 00 must be exactly
 * `00-<trace-id>-<parent-id>-<flags>`; a later version may append fields after the flags
 * (read as 00, per the spec's forward compatibility); version ff is invalid.
 */
export function parseTraceparent(header: string | null | undefined): TraceContext | null {
  if (!header) return null;
  const value = header.trim();
  const match = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/.exec(value);
  if (!match) return null;
  const [, version, traceId, parentSpanId, flags, rest] = match as unknown as [string, string, string, string, string, string | undefined];
  if (version === "ff") return null;
  if (version === "00" && rest !== undefined) return null;
  if (traceId === ZERO_TRACE || parentSpanId === ZERO_SPAN) return null;
  return { traceId, parentSpanId, sampled: (parseInt(flags, 16) & 1) === 1 };
}

/** A new trace, started here (sampled: the platform records every execution). */
export function startTrace(): TraceContext {
  return { traceId: randomHex(16, ZERO_TRACE), parentSpanId: null, sampled: true };
}

export function newSpanId(): string {
  return randomHex(8, ZERO_SPAN);
}

/** The `traceparent` header for calls made inside span `spanId` of `trace`. */
export function traceparentOf(trace: TraceContext, spanId: string): string {
  return `00-${trace.traceId}-${spanId}-${trace.sampled ? "01" : "00"}`;
}

function randomHex(bytes: number, zero: string): string {
  for (;;) {
    const hex = Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
    if (hex !== zero) return hex;
  }
}

/**
 * The trace context an event is recorded with when it does not come from an execution: the
 * publisher's own (a valid `traceparent` on the request or message) or a new trace, so every
 * execution the event causes shares one trace.
 */
export function publisherTraceparent(header: string | null | undefined): string {
  const incoming = parseTraceparent(header);
  return incoming ? traceparentOf(incoming, incoming.parentSpanId ?? newSpanId()) : traceparentOf(startTrace(), newSpanId());
}
