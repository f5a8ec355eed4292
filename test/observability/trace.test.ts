import { describe, expect, it } from "vitest";
import { isTraceId, newSpanId, parseTraceparent, publisherTraceparent, startTrace, traceparentOf } from "../../src/observability/trace";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";

describe("W3C traceparent (pure)", () => {
  const valid: Array<[string, string, { traceId: string; parentSpanId: string; sampled: boolean }]> = [
    ["the spec's example", `00-${TRACE}-${SPAN}-01`, { traceId: TRACE, parentSpanId: SPAN, sampled: true }],
    ["not sampled", `00-${TRACE}-${SPAN}-00`, { traceId: TRACE, parentSpanId: SPAN, sampled: false }],
    ["other flag bits kept out of sampled", `00-${TRACE}-${SPAN}-02`, { traceId: TRACE, parentSpanId: SPAN, sampled: false }],
    ["surrounding spaces", `  00-${TRACE}-${SPAN}-01 `, { traceId: TRACE, parentSpanId: SPAN, sampled: true }],
    ["a later version with more fields, read as 00", `cc-${TRACE}-${SPAN}-01-what-comes-next`, { traceId: TRACE, parentSpanId: SPAN, sampled: true }],
  ];
  for (const [name, header, expected] of valid) it(`keeps ${name}`, () => expect(parseTraceparent(header)).toEqual(expected));

  const invalid: Array<[string, string | null | undefined]> = [
    ["absent", undefined],
    ["empty", ""],
    ["version ff", `ff-${TRACE}-${SPAN}-01`],
    ["version 00 with trailing fields", `00-${TRACE}-${SPAN}-01-extra`],
    ["an all-zero trace id", `00-${"0".repeat(32)}-${SPAN}-01`],
    ["an all-zero parent id", `00-${TRACE}-${"0".repeat(16)}-01`],
    ["upper-case hex", `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ["a short trace id", `00-${TRACE.slice(1)}-${SPAN}-01`],
    ["a long parent id", `00-${TRACE}-${SPAN}0-01`],
    ["no flags", `00-${TRACE}-${SPAN}`],
    ["not hex", `00-${TRACE.slice(0, 31)}g-${SPAN}-01`],
    ["garbage", "hello"],
  ];
  for (const [name, header] of invalid) it(`ignores ${name}`, () => expect(parseTraceparent(header)).toBeNull());

  it("starts sampled traces with random, non-zero ids, and writes the header calls carry", () => {
    const trace = startTrace();
    expect(isTraceId(trace.traceId)).toBe(true);
    expect(trace).toMatchObject({ parentSpanId: null, sampled: true });
    expect(startTrace().traceId).not.toBe(trace.traceId);
    const span = newSpanId();
    expect(span).toMatch(/^[0-9a-f]{16}$/);
    const header = traceparentOf(trace, span);
    expect(header).toBe(`00-${trace.traceId}-${span}-01`);
    expect(parseTraceparent(header)).toEqual({ traceId: trace.traceId, parentSpanId: span, sampled: true });
    expect(traceparentOf({ traceId: TRACE, parentSpanId: SPAN, sampled: false }, span)).toBe(`00-${TRACE}-${span}-00`);
  });

  it("an event published outside an execution keeps the publisher's context, or starts a trace", () => {
    expect(publisherTraceparent(`00-${TRACE}-${SPAN}-01`)).toBe(`00-${TRACE}-${SPAN}-01`);
    const started = parseTraceparent(publisherTraceparent("nonsense"));
    expect(started && isTraceId(started.traceId)).toBe(true);
    expect(started!.traceId).not.toBe(TRACE);
  });

  it("trace ids for queries: 32 lower-case hex digits, not all zero", () => {
    const table: Array<[string, boolean]> = [[TRACE, true], [TRACE.toUpperCase(), false], ["0".repeat(32), false], [TRACE.slice(1), false], ["", false]];
    for (const [value, ok] of table) expect(isTraceId(value), value).toBe(ok);
  });
});
