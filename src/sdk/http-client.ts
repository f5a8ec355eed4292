/**
 * `iota.http` (API.md §9): outbound HTTP for scripts. Every URL, the first and each
 * redirect, passes the address guard before any connection; redirects are followed by
 * hand (at most 5); the response body is read as a stream and refused past 1 MiB.
 */
import { checkOutboundUrl } from "./address-guard";
import { invalid, isPlainObject, SdkError } from "./errors";

export const DEFAULT_HTTP_TIMEOUT_MS = 10_000;
export const MAX_REDIRECTS = 5;
export const MAX_RESPONSE_BYTES = 1024 * 1024;
export const MAX_REQUEST_HEADERS = 50;
export const MAX_HEADER_VALUE_CHARS = 8 * 1024;
/** Outbound requests one execution may make (each redirect hop counts). */
export const MAX_SUBREQUESTS_PER_EXECUTION = 50;

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Set by the platform for each request, never by a script. */
const FORBIDDEN_HEADERS = new Set(["host", "content-length", "connection", "keep-alive", "transfer-encoding", "upgrade", "te", "trailer", "proxy-authorization", "cf-connecting-ip", "x-forwarded-for"]);

export interface HttpResult {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The URL that answered, after redirects. */
  url: string;
  redirected: boolean;
}

export interface OutboundContext {
  /** Milliseconds left in the execution: a request never outlives it. */
  remainingMs: number;
  allowedHosts: readonly string[] | null;
  /** Called before every request and redirect hop; throws when a quota is used up. */
  count: () => void;
  fetch: typeof fetch;
}

interface RequestPlan {
  url: string;
  method: string;
  headers: Headers;
  body: string | null;
  timeoutMs: number;
}

/** `iota.http.fetch(url, {method, headers, body, timeoutMs})`; `get` and `post` are shorthands for it. */
export function planRequest(args: unknown[], methodOverride: string | null, context: OutboundContext): RequestPlan {
  const [url, options = {}] = args;
  if (typeof url !== "string") throw invalid("the URL must be a string");
  if (!isPlainObject(options)) throw invalid("the options must be an object");
  for (const key of Object.keys(options)) {
    if (!["method", "headers", "body", "timeoutMs"].includes(key)) throw invalid(`unknown option ${JSON.stringify(key)}: use method, headers, body, timeoutMs`);
  }
  const method = methodOverride ?? (options.method === undefined ? "GET" : String(options.method).toUpperCase());
  if (!METHODS.includes(method)) throw invalid(`method must be one of ${METHODS.join(", ")}`);

  const headers = new Headers();
  if (options.headers !== undefined) {
    if (!isPlainObject(options.headers)) throw invalid("headers must be an object of strings");
    const entries = Object.entries(options.headers);
    if (entries.length > MAX_REQUEST_HEADERS) throw invalid(`at most ${MAX_REQUEST_HEADERS} headers`);
    for (const [name, value] of entries) {
      if (!TOKEN.test(name)) throw invalid(`invalid header name ${JSON.stringify(name.slice(0, 100))}`);
      if (typeof value !== "string" || value.length > MAX_HEADER_VALUE_CHARS || /[\r\n\0]/.test(value)) throw invalid(`header ${name} must be a string of at most ${MAX_HEADER_VALUE_CHARS} characters without line breaks`);
      if (FORBIDDEN_HEADERS.has(name.toLowerCase())) throw invalid(`header ${name} is set by the platform`);
      headers.set(name, value);
    }
  }

  let body: string | null = null;
  if (options.body !== undefined && options.body !== null) {
    if (method === "GET" || method === "HEAD") throw invalid(`a ${method} request cannot have a body`);
    if (typeof options.body === "string") body = options.body;
    else {
      body = JSON.stringify(options.body);
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
    }
  }

  let timeoutMs = DEFAULT_HTTP_TIMEOUT_MS;
  if (options.timeoutMs !== undefined) {
    if (typeof options.timeoutMs !== "number" || !Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) throw invalid("timeoutMs must be a positive number");
    timeoutMs = options.timeoutMs;
  }
  return { url, method, headers, body, timeoutMs: Math.min(timeoutMs, context.remainingMs - handlingReserveMs(context.remainingMs)) };
}

/**
 * A request cut by the execution's deadline ends this much before it, so the script always
 * gets its TimeoutError in time to handle it (a fallback, a cached answer) instead of racing
 * the deadline; at most a fifth of what is left.
 */
function handlingReserveMs(remainingMs: number): number {
  return Math.min(50, remainingMs / 5);
}

export async function send(plan: RequestPlan, context: OutboundContext): Promise<HttpResult> {
  const deadline = Date.now() + plan.timeoutMs;
  let { url, method, body } = plan;
  for (let hop = 0; ; hop++) {
    const verdict = checkOutboundUrl(url, context.allowedHosts);
    if (!verdict.ok) throw new SdkError("NetworkPolicyError", verdict.reason);
    context.count();
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new SdkError("TimeoutError", `the request to ${verdict.url.host} timed out`);
    let response: Response;
    try {
      response = await context.fetch(verdict.url.href, { method, headers: plan.headers, body, redirect: "manual", signal: AbortSignal.timeout(remaining) });
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
      throw new SdkError(timedOut ? "TimeoutError" : "NetworkError", timedOut ? `the request to ${verdict.url.host} timed out` : `the request to ${verdict.url.host} failed`);
    }
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      if (hop >= MAX_REDIRECTS) throw new SdkError("NetworkError", `more than ${MAX_REDIRECTS} redirects`);
      url = new URL(location, verdict.url).href;
      // 301/302/303 turn a request into a GET without a body, as browsers do; 307/308 keep it.
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === "POST")) {
        method = "GET";
        body = null;
        plan.headers.delete("content-type");
      }
      continue;
    }
    return {
      status: response.status,
      headers: Object.fromEntries(response.headers),
      body: method === "HEAD" ? "" : await readCapped(response, deadline),
      url: verdict.url.href,
      redirected: hop > 0,
    };
  }
}

/** The body as text, refused as soon as it passes MAX_RESPONSE_BYTES (never buffered beyond). */
async function readCapped(response: Response, deadline: number): Promise<string> {
  if (!response.body) return "";
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > MAX_RESPONSE_BYTES) {
    await response.body.cancel();
    throw new SdkError("ResponseTooLargeError", `the response is larger than ${MAX_RESPONSE_BYTES} bytes`);
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let size = 0;
  let text = "";
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      await reader.cancel();
      throw new SdkError("TimeoutError", "reading the response timed out");
    }
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel();
      throw new SdkError("ResponseTooLargeError", `the response is larger than ${MAX_RESPONSE_BYTES} bytes`);
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}
