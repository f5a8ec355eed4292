/**
 * The HTTP trigger's two mappings (API.md §7), pure: a request to `/t/:tenant/*` becomes
 * the script's `event`, and the script's return value becomes the response.
 */

/** What the Worker hands the runner for one tenant-endpoint request (structured-clonable). */
export interface HttpInvocation {
  method: string;
  /** The part after `/t/:tenant`, starting with `/`, without the query string. */
  path: string;
  /** The raw query string, without `?`. */
  search: string;
  headers: Array<[string, string]>;
  /** The body as received, raw bytes (already capped at 1 MiB by the Worker; text where already decoded); null when there is none. */
  body: Uint8Array | string | null;
  /** The URL as received. */
  url?: string;
  /** `/t/<slug>`, or "" on the tenant's own host (`ctx.basePath`, API.md §13). */
  basePath?: string;
}

export interface HttpEvent {
  method: string;
  path: string;
  params: Record<string, string>;
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  body: unknown;
  /** The body as received, UTF-8 decoded ("" when there is none; API.md §13). */
  rawBody: string;
}

/** What the runner hands back to the Worker: a response, as plain data. */
export interface HttpReply {
  status: number;
  headers: Array<[string, string]>;
  body: string | Uint8Array | null;
}

/**
 * The RFC 3986 normal form of a URL path (§6.2.2.1–2): escapes of unreserved characters
 * (`%61` → `a`, `%2D` → `-`) are decoded, every other escape is kept with upper-case hex.
 * Equivalent spellings of a path thus become one, as Cloudflare's URL normalisation (on by
 * default for incoming URLs) does before a deployed Worker sees the request.
 */
export function normalizePath(pathname: string): string {
  return pathname.replace(/%([0-9A-Fa-f]{2})/g, (escape, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return /^[A-Za-z0-9\-._~]$/.test(char) ? char : escape.toUpperCase();
  });
}

/**
 * `/t/<slug>/<rest>` → the tenant slug and the script's path (`/<rest>`, `/` when empty),
 * both cut from one normalised path, so they can never disagree about where the slug ends.
 * Null when the path is not under `/t/`. The slug is not checked here (an invalid one is an
 * unknown tenant).
 */
export function splitTenantPath(pathname: string): { slug: string; path: string } | null {
  const match = /^\/t\/([^/]*)(\/.*)?$/.exec(normalizePath(pathname));
  if (!match) return null;
  return { slug: match[1]!, path: match[2] ?? "/" };
}

/** `query` maps names to strings, or arrays of strings for repeated keys. */
export function parseQuery(search: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(search)) {
    const seen = query[name];
    if (seen === undefined) query[name] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else query[name] = [seen, value];
  }
  return query;
}

export function isJsonType(contentType: string | undefined): boolean {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  return type === "application/json" || (type.startsWith("application/") && type.endsWith("+json"));
}

/**
 * The event for a request: a JSON body is parsed (an invalid one is an error, answered 400
 * before the script runs), any other body is text; `rawBody` is the text as received.
 * `checkBody: false` (a handler object, which reads the raw body itself) skips the checks:
 * no JSON parse, and bytes that are not UTF-8 are decoded with replacement characters.
 */
export function buildEvent(invocation: HttpInvocation, params: Record<string, string>, options: { checkBody?: boolean } = {}): { event: HttpEvent } | { error: string } {
  const checkBody = options.checkBody ?? true;
  const headers: Record<string, string> = {};
  for (const [name, value] of invocation.headers) {
    const key = name.toLowerCase();
    headers[key] = key in headers ? `${headers[key]}, ${value}` : value;
  }
  const text = bodyText(invocation.body, checkBody);
  if (text === undefined) return { error: "request body is not valid UTF-8" };
  // `body` as it always was (a leading BOM dropped); `rawBody` keeps every byte's character.
  const bodyTextWithoutBom = text !== null && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let body: unknown = bodyTextWithoutBom;
  if (checkBody && bodyTextWithoutBom !== null && bodyTextWithoutBom !== "" && isJsonType(headers["content-type"])) {
    try {
      body = JSON.parse(bodyTextWithoutBom);
    } catch (error) {
      return { error: `the request body is not valid JSON: ${(error as Error).message}` };
    }
  } else if (bodyTextWithoutBom === "") {
    body = null;
  }
  return {
    event: { method: invocation.method, path: invocation.path, params, query: parseQuery(invocation.search), headers, body, rawBody: text ?? "" },
  };
}

/** The body as text; undefined when `strict` and the bytes are not UTF-8. */
function bodyText(body: HttpInvocation["body"], strict: boolean): string | null | undefined {
  if (body === null || typeof body === "string") return body;
  try {
    return new TextDecoder("utf-8", { fatal: strict, ignoreBOM: true }).decode(body);
  } catch {
    return undefined;
  }
}

/** A handler object's body as its execution record keeps it: the text when it is UTF-8, else its size (never lossy text). */
export function recordedBody(body: HttpInvocation["body"]): string | null {
  if (body === null || typeof body === "string") return body;
  if (body.byteLength === 0) return null;
  const text = bodyText(body, true);
  return text === undefined ? `[binary body: ${body.byteLength} bytes]` : text;
}

/** The raw body as bytes (a fetch handler's `request`). */
export function bodyBytes(body: HttpInvocation["body"]): Uint8Array | null {
  return typeof body === "string" ? new TextEncoder().encode(body) : body;
}

/** Headers that describe one connection, not the response: never passed on from a script. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "trailers",
  "transfer-encoding",
  "upgrade",
  "content-length",
]);

/**
 * Statuses whose responses have no body (Fetch's "null body status"; 101 and 103 are
 * outside what a script may answer): a script's body for them is dropped.
 */
export function isNullBodyStatus(status: number): boolean {
  return status === 101 || status === 103 || status === 204 || status === 205 || status === 304;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * The response for a script's return value: with `body` or `status` it is
 * `{status = 200, headers, body}` (an object body as JSON, a string as text); `undefined`
 * is a 204; any other value is JSON. A status without a body (204, 205, 304) drops the
 * script's body. A malformed response (a status outside 200–599, a bad header) is an error,
 * answered 500 `script_error`.
 */
export function buildReply(value: unknown): { reply: HttpReply } | { error: string } {
  if (value === undefined) return { reply: { status: 204, headers: [], body: null } };
  if (!isResponseShaped(value)) return { reply: json(200, [], value) };

  const status = value.status ?? 200;
  if (typeof status !== "number" || !Number.isInteger(status) || status < 200 || status > 599) {
    return { error: `the script returned an invalid status ${JSON.stringify(status)}: use an integer from 200 to 599` };
  }
  const headers: Array<[string, string]> = [];
  if (value.headers !== undefined && value.headers !== null) {
    if (typeof value.headers !== "object" || Array.isArray(value.headers)) return { error: "the script's headers must be an object" };
    for (const [name, raw] of Object.entries(value.headers)) {
      if (!TOKEN.test(name)) return { error: `the script returned an invalid header name ${JSON.stringify(name)}` };
      if (HOP_BY_HOP.has(name.toLowerCase())) continue;
      for (const item of Array.isArray(raw) ? raw : [raw]) {
        if (item === null || item === undefined) continue;
        const text = typeof item === "string" ? item : typeof item === "object" ? JSON.stringify(item) : String(item);
        if (!FIELD_VALUE.test(text)) return { error: `the script returned an invalid value for header ${name}` };
        headers.push([name.toLowerCase(), text]);
      }
    }
  }
  const body = value.body;
  if (isNullBodyStatus(status) || body === undefined || body === null) return { reply: { status, headers, body: null } };
  if (typeof body === "string") return { reply: { status, headers: withDefaultType(headers, "text/plain; charset=utf-8"), body } };
  return { reply: json(status, headers, body) };
}

function isResponseShaped(value: unknown): value is { status?: unknown; headers?: unknown; body?: unknown } {
  return value !== null && typeof value === "object" && !Array.isArray(value) && ("body" in value || "status" in value);
}

function json(status: number, headers: Array<[string, string]>, body: unknown): HttpReply {
  return { status, headers: withDefaultType(headers, "application/json; charset=utf-8"), body: JSON.stringify(body) };
}

function withDefaultType(headers: Array<[string, string]>, type: string): Array<[string, string]> {
  return headers.some(([name]) => name === "content-type") ? headers : [...headers, ["content-type", type]];
}

/**
 * The response for a fetch handler's Response (API.md §13): its status (a Response is
 * 200–599, or a redirect's 3xx), its headers as the script set them (several Set-Cookie
 * included) except hop-by-hop ones, and its body as text or bytes, exactly; a status without
 * a body drops it.
 */
export function responseReply(response: { status: number; headers: Array<[string, string]>; body: string | Uint8Array | null }): HttpReply {
  const headers = response.headers.filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase()));
  return { status: response.status, headers, body: isNullBodyStatus(response.status) ? null : response.body };
}

/** Response headers only the platform sets: a script's values for them are dropped. */
const PLATFORM_HEADERS = new Set(["x-iota-execution-id"]);
/** `Server-Timing` metrics only the platform reports (`placement` is API.md §14's). */
const PLATFORM_TIMINGS = new Set(["sandbox", "placement"]);

/**
 * A script response with the platform's headers on it: `x-iota-execution-id` is the
 * platform's alone (a script's is dropped), and `server-timing` starts with the platform's
 * `sandbox;dur=<ms>`, followed by the script's own metrics except any that reuse a platform
 * metric name. Pure: header names in `reply` are lower case, as buildReply makes them.
 */
export function withPlatformHeaders(reply: HttpReply, platform: { executionId: string; sandboxMs: number; placement?: "edge" | "cell" }): HttpReply {
  const headers: Array<[string, string]> = [];
  const timings = [`placement;desc="${platform.placement ?? "cell"}"`, `sandbox;dur=${platform.sandboxMs}`];
  for (const [name, value] of reply.headers) {
    const key = name.toLowerCase();
    if (PLATFORM_HEADERS.has(key)) continue;
    if (key === "server-timing") timings.push(...serverTimingMetrics(value).filter((metric) => !PLATFORM_TIMINGS.has(metricName(metric))));
    else headers.push([name, value]);
  }
  return { ...reply, headers: [...headers, ["x-iota-execution-id", platform.executionId], ["server-timing", timings.join(", ")]] };
}

/** The metrics of one `Server-Timing` value: split at commas outside quoted strings, trimmed, empty ones left out. */
export function serverTimingMetrics(value: string): string[] {
  const metrics: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const char = value[i]!;
    if (quoted && char === "\\" && i + 1 < value.length) {
      current += char + value[++i];
      continue;
    }
    if (char === '"') quoted = !quoted;
    if (char === "," && !quoted) {
      metrics.push(current);
      current = "";
    } else {
      current += char;
    }
  }
  metrics.push(current);
  return metrics.map((metric) => metric.trim()).filter((metric) => metric !== "");
}

function metricName(metric: string): string {
  return metric.split(";")[0]!.trim().toLowerCase();
}

/** Request headers kept out of stored execution inputs (the script itself sees them). */
const SECRET_HEADERS = new Set(["authorization", "cookie", "proxy-authorization", "x-api-key"]);

/** The event as it is recorded: credentials in headers are replaced by a marker; the body is kept once (as `body`, not again as `rawBody`). */
export function redactEvent(event: HttpEvent): Omit<HttpEvent, "rawBody"> {
  const headers = Object.fromEntries(Object.entries(event.headers).map(([k, v]) => [k, SECRET_HEADERS.has(k) ? "[redacted]" : v]));
  const { rawBody: _rawBody, ...recorded } = event;
  return { ...recorded, headers };
}
