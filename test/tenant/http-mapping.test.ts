import { describe, expect, it } from "vitest";
import { buildEvent, buildReply, parseQuery, redactEvent, responseReply, serverTimingMetrics, splitTenantPath, withPlatformHeaders } from "../../src/tenant/http-mapping";

const invocation = (over: Partial<Parameters<typeof buildEvent>[0]> = {}) => ({
  method: "POST",
  path: "/orders/1",
  search: "",
  headers: [] as Array<[string, string]>,
  body: null as string | Uint8Array | null,
  ...over,
});

describe("tenant slug and script path from the URL path (decisions: tenant endpoints)", () => {
  const table: Array<[string, ReturnType<typeof splitTenantPath>]> = [
    ["/t/acme/hello", { slug: "acme", path: "/hello" }],
    ["/t/acme", { slug: "acme", path: "/" }],
    ["/t/acme/", { slug: "acme", path: "/" }],
    ["/t/acme/a/b/", { slug: "acme", path: "/a/b/" }],
    // Escapes of unreserved characters are the characters themselves (RFC 3986 §6.2.2.2),
    // in the slug and in the path alike: the path is cut after the slug as decoded.
    ["/t/%61cme/hello", { slug: "acme", path: "/hello" }],
    ["/t/%61%63%6D%65/hello", { slug: "acme", path: "/hello" }],
    ["/t/%72tb-x/x", { slug: "rtb-x", path: "/x" }],
    ["/t/ac%6de/h%65llo", { slug: "acme", path: "/hello" }],
    ["/t/acme%2D1/x", { slug: "acme-1", path: "/x" }],
    // Escapes of anything else stay escapes (upper-case hex): they never split the path.
    ["/t/acme%2Fevil/x", { slug: "acme%2Fevil", path: "/x" }],
    ["/t/acme/a%2fb%20c", { slug: "acme", path: "/a%2Fb%20c" }],
    ["/t/acme/%7e%5F", { slug: "acme", path: "/~_" }],
    ["/t/%2e/x", { slug: ".", path: "/x" }],
    ["/t/", { slug: "", path: "/" }],
    ["/tenant/acme/x", null],
    ["/x/t/acme", null],
  ];
  for (const [pathname, expected] of table) {
    it(`${pathname} → ${JSON.stringify(expected)}`, () => expect(splitTenantPath(pathname)).toEqual(expected));
  }
});

describe("request → event (API.md §7)", () => {
  it("maps query strings, repeated keys to arrays", () => {
    expect(parseQuery("a=1&b=2&a=3&c=&d=x%20y")).toEqual({ a: ["1", "3"], b: "2", c: "", d: "x y" });
  });

  it("parses a JSON body, keeps any other body as text, and refuses invalid JSON", () => {
    const json = buildEvent(invocation({ headers: [["Content-Type", "application/json; charset=utf-8"]], body: '{"a":1}' }), { id: "1" });
    expect(json).toEqual({ event: { method: "POST", path: "/orders/1", params: { id: "1" }, query: {}, headers: { "content-type": "application/json; charset=utf-8" }, body: { a: 1 }, rawBody: '{"a":1}' } });
    const text = buildEvent(invocation({ headers: [["content-type", "text/plain"]], body: "hello" }), {});
    expect("event" in text && text.event.body).toBe("hello");
    expect(buildEvent(invocation({ headers: [["content-type", "application/json"]], body: "{nope" }), {})).toEqual({ error: expect.stringContaining("not valid JSON") });
    const none = buildEvent(invocation({ method: "GET" }), {});
    expect("event" in none && none.event.body).toBeNull();
    expect("event" in none && none.event.rawBody).toBe("");
  });

  it("keeps the raw body: bytes decoded as UTF-8 for the function form (invalid UTF-8 refused), unchecked for a handler object", () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d]);
    const withBom = buildEvent(invocation({ headers: [["content-type", "application/json"]], body: bytes }), {});
    expect("event" in withBom && [withBom.event.body, withBom.event.rawBody]).toEqual([{}, "\ufeff{}"]);
    const invalid = new Uint8Array([0x22, 0xff, 0x22]);
    expect(buildEvent(invocation({ headers: [["content-type", "application/json"]], body: invalid }), {})).toEqual({ error: "request body is not valid UTF-8" });
    const unchecked = buildEvent(invocation({ headers: [["content-type", "application/json"]], body: invalid }), {}, { checkBody: false });
    expect("event" in unchecked && unchecked.event.rawBody).toBe('"\ufffd"');
    expect(redactEvent("event" in unchecked ? unchecked.event : (null as never))).not.toHaveProperty("rawBody");
  });

  it("maps a fetch handler's Response: bytes as they are, every Set-Cookie, no hop-by-hop headers, no body for a null-body status", () => {
    const bytes = new Uint8Array([0, 255, 1]);
    const headers: Array<[string, string]> = [["set-cookie", "a=1"], ["set-cookie", "b=2"], ["transfer-encoding", "chunked"], ["content-length", "3"]];
    expect(responseReply({ status: 200, headers, body: bytes })).toEqual({ status: 200, headers: [["set-cookie", "a=1"], ["set-cookie", "b=2"]], body: bytes });
    expect(responseReply({ status: 304, headers: [], body: "x" }).body).toBeNull();
    expect(responseReply({ status: 302, headers: [["location", "/next"]], body: null })).toEqual({ status: 302, headers: [["location", "/next"]], body: null });
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
    ["a 205 drops its body", { status: 205, body: "ignored" }, { status: 205, headers: [], body: null }],
    ["a 205 drops an object body, with no content type added", { status: 205, body: { a: 1 } }, { status: 205, headers: [], body: null }],
    ["a 304 drops its body, keeping its headers", { status: 304, headers: { ETag: '"1"' }, body: "x" }, { status: 304, headers: [["etag", '"1"']], body: null }],
    ["the lowest status", { status: 200, body: "" }, { status: 200, headers: [["content-type", "text/plain; charset=utf-8"]], body: "" }],
    ["the highest status", { status: 599, body: "x" }, { status: 599, headers: [["content-type", "text/plain; charset=utf-8"]], body: "x" }],
  ];
  for (const [what, value, reply] of table) {
    it(what, () => expect(buildReply(value)).toEqual({ reply }));
  }

  const invalid: Array<[string, unknown]> = [
    ["a status out of range", { status: 99 }],
    ["an informational status (100)", { status: 100, body: "x" }],
    ["101 Switching Protocols", { status: 101 }],
    ["199", { status: 199 }],
    ["600", { status: 600, body: "x" }],
    ["1000", { status: 1000 }],
    ["a negative status", { status: -200 }],
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

describe("the platform's response headers win over a script's (decisions: tenant endpoints)", () => {
  const platform = { executionId: "exe_REAL", sandboxMs: 3 };
  const reply = (headers: Array<[string, string]>) => ({ status: 200, headers, body: "x" });
  const table: Array<[string, Array<[string, string]>, Array<[string, string]>]> = [
    ["no script headers", [], [["x-iota-execution-id", "exe_REAL"], ["server-timing", "placement;desc=\"cell\", sandbox;dur=3"]]],
    ["other headers stay, in order", [["content-type", "text/plain"], ["x-a", "1"]], [["content-type", "text/plain"], ["x-a", "1"], ["x-iota-execution-id", "exe_REAL"], ["server-timing", "placement;desc=\"cell\", sandbox;dur=3"]]],
    ["a script's execution id is dropped", [["x-iota-execution-id", "exe_FAKE"]], [["x-iota-execution-id", "exe_REAL"], ["server-timing", "placement;desc=\"cell\", sandbox;dur=3"]]],
    ["in any case", [["X-Iota-Execution-Id", "exe_FAKE"]], [["x-iota-execution-id", "exe_REAL"], ["server-timing", "placement;desc=\"cell\", sandbox;dur=3"]]],
    ["a script's own metrics follow the platform's", [["server-timing", "db;dur=5, cache;desc=hit"]], [["x-iota-execution-id", "exe_REAL"], ["server-timing", "placement;desc=\"cell\", sandbox;dur=3, db;dur=5, cache;desc=hit"]]],
    ["several server-timing headers join", [["server-timing", "a;dur=1"], ["server-timing", "b;dur=2"]], [["x-iota-execution-id", "exe_REAL"], ["server-timing", "placement;desc=\"cell\", sandbox;dur=3, a;dur=1, b;dur=2"]]],
    ["a script's sandbox or placement metric is dropped", [["server-timing", "sandbox;dur=0, Placement;desc=edge, db;dur=1"]], [["x-iota-execution-id", "exe_REAL"], ["server-timing", "placement;desc=\"cell\", sandbox;dur=3, db;dur=1"]]],
    ["a quoted comma stays inside its metric", [["server-timing", 'sandbox;desc="a, b", x;desc="c, \\"d\\""']], [["x-iota-execution-id", "exe_REAL"], ["server-timing", 'placement;desc="cell", sandbox;dur=3, x;desc="c, \\"d\\""']]],
    ["empty metrics are left out", [["server-timing", " , ,"]], [["x-iota-execution-id", "exe_REAL"], ["server-timing", "placement;desc=\"cell\", sandbox;dur=3"]]],
  ];
  for (const [what, headers, expected] of table) {
    it(what, () => expect(withPlatformHeaders(reply(headers), platform)).toEqual({ status: 200, headers: expected, body: "x" }));
  }

  it("splits Server-Timing at commas outside quoted strings", () => {
    expect(serverTimingMetrics('a;dur=1,b;desc="x,y",  c ')).toEqual(["a;dur=1", 'b;desc="x,y"', "c"]);
  });
});
