import { describe, expect, it } from "vitest";
import { buildEvent, buildReply, parseQuery, redactEvent } from "../../src/tenant/http-mapping";

const invocation = (over: Partial<Parameters<typeof buildEvent>[0]> = {}) => ({
  method: "POST",
  path: "/orders/1",
  search: "",
  headers: [] as Array<[string, string]>,
  body: null as string | null,
  ...over,
});

describe("request → event (API.md §7)", () => {
  it("maps query strings, repeated keys to arrays", () => {
    expect(parseQuery("a=1&b=2&a=3&c=&d=x%20y")).toEqual({ a: ["1", "3"], b: "2", c: "", d: "x y" });
  });

  it("parses a JSON body, keeps any other body as text, and refuses invalid JSON", () => {
    const json = buildEvent(invocation({ headers: [["Content-Type", "application/json; charset=utf-8"]], body: '{"a":1}' }), { id: "1" });
    expect(json).toEqual({ event: { method: "POST", path: "/orders/1", params: { id: "1" }, query: {}, headers: { "content-type": "application/json; charset=utf-8" }, body: { a: 1 } } });
    const text = buildEvent(invocation({ headers: [["content-type", "text/plain"]], body: "hello" }), {});
    expect("event" in text && text.event.body).toBe("hello");
    expect(buildEvent(invocation({ headers: [["content-type", "application/json"]], body: "{nope" }), {})).toEqual({ error: expect.stringContaining("not valid JSON") });
    const none = buildEvent(invocation({ method: "GET" }), {});
    expect("event" in none && none.event.body).toBeNull();
  });

  it("redacts credentials from the recorded event only", () => {
    const built = buildEvent(invocation({ headers: [["Authorization", "Bearer s3cret"], ["x-ok", "1"]] }), {});
    if (!("event" in built)) throw new Error();
    expect(built.event.headers.authorization).toBe("Bearer s3cret");
    expect(redactEvent(built.event).headers).toEqual({ authorization: "[redacted]", "x-ok": "1" });
  });
});

describe("return value → response (API.md §7)", () => {
  const table: Array<[string, unknown, unknown]> = [
    ["undefined is a 204", undefined, { status: 204, headers: [], body: null }],
    ["a plain object is JSON 200", { a: 1 }, { status: 200, headers: [["content-type", "application/json; charset=utf-8"]], body: '{"a":1}' }],
    ["an array is JSON 200", [1], { status: 200, headers: [["content-type", "application/json; charset=utf-8"]], body: "[1]" }],
    ["a string is JSON 200", "hi", { status: 200, headers: [["content-type", "application/json; charset=utf-8"]], body: '"hi"' }],
    ["null is JSON 200", null, { status: 200, headers: [["content-type", "application/json; charset=utf-8"]], body: "null" }],
    ["status alone", { status: 404 }, { status: 404, headers: [], body: null }],
    ["a string body is text", { body: "ok" }, { status: 200, headers: [["content-type", "text/plain; charset=utf-8"]], body: "ok" }],
    ["an object body is JSON", { status: 201, body: { id: 1 } }, { status: 201, headers: [["content-type", "application/json; charset=utf-8"]], body: '{"id":1}' }],
    [
      "headers pass, hop-by-hop ones are dropped, arrays repeat",
      { body: "x", headers: { "Content-Type": "text/html", Connection: "close", "Transfer-Encoding": "chunked", "Set-Cookie": ["a=1", "b=2"], "X-N": 5 } },
      { status: 200, headers: [["content-type", "text/html"], ["set-cookie", "a=1"], ["set-cookie", "b=2"], ["x-n", "5"]], body: "x" },
    ],
    ["a 204 drops its body", { status: 204, body: "ignored" }, { status: 204, headers: [], body: null }],
  ];
  for (const [what, value, reply] of table) {
    it(what, () => expect(buildReply(value)).toEqual({ reply }));
  }

  const invalid: Array<[string, unknown]> = [
    ["a status out of range", { status: 99 }],
    ["a fractional status", { status: 200.5, body: "" }],
    ["a string status", { status: "200" }],
    ["headers that are not an object", { body: "", headers: ["x"] }],
    ["an invalid header name", { body: "", headers: { "bad name": "x" } }],
    ["a header value with a newline", { body: "", headers: { "x-a": "1\r\nx-b: 2" } }],
  ];
  for (const [what, value] of invalid) {
    it(`refuses ${what}`, () => expect(buildReply(value)).toEqual({ error: expect.any(String) }));
  }
});
