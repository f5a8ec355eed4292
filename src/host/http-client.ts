/**
 * `iota.http` (API.md §9): outbound HTTP for scripts. Every URL, the first and each
 * redirect, passes the address guard before any connection; redirects are followed by
 * hand (at most 5); the response body is read as a stream and refused past 1 MiB.
 *
 * The sandbox's `fetch` (sandbox/web/fetch.ts) is the same call with a third argument, the
 * binary transport `{binary: true, body?: {$b: id}, redirect?}`: the request body comes as
 * bytes through the execution's byte channel, headers as a list of pairs (headers the
 * platform sets itself are left out rather than refused, so a proxied request's headers
 * can be passed on), and the answer carries the body as bytes, the status text and every
 * header (each Set-Cookie on its own).
 */
import type { ByteChannel } from "../sandbox/host";
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

/** What `fetch` gets back (the binary transport). */
export interface BinaryHttpResult {
  status: number;
  statusText: string;
  /** Every header as [lower-case name, value]; each Set-Cookie on its own. */
  headers: [string, string][];
  /** The body's bytes by id in the execution's byte channel; null for HEAD and bodiless answers. */
  body: { $b: number } | null;
  url: string;
  redirected: boolean;
}

type RedirectMode = "follow" | "manual" | "error";

export interface OutboundContext {
  /** Milliseconds left in the execution: a request never outlives it. */
  remainingMs: number;
  allowedHosts: readonly string[] | null;
  /** Called before every request and redirect hop; throws when a quota is used up. */
  /** Counts one request against the quotas, or throws QuotaExceededError (at the edge it may ask the cell for more). */
  count: () => void | Promise<void>;
  fetch: typeof fetch;
}

interface RequestPlan {
  url: string;
  method: string;
  headers: Headers;
  body: string | Uint8Array<ArrayBuffer> | null;
  timeoutMs: number;
  /** Answer with bytes (fetch) instead of text (iota.http). */
  binary: ByteChannel | null;
  redirect: RedirectMode;
}

/**
 * `iota.http.fetch(url, {method, headers, body, timeoutMs}, transport?)`; `get` and `post`
 * are shorthands for it. `bytes` is the execution's byte channel (the binary transport needs it).
 */
export function planRequest(args: unknown[], methodOverride: string | null, context: OutboundContext, bytes?: ByteChannel): RequestPlan {
  const [url, options = {}, transport] = args;
  if (typeof url !== "string") throw invalid("the URL must be a string");
  if (!isPlainObject(options)) throw invalid("the options must be an object");
  const binary = isPlainObject(transport) && transport.binary === true;
  if (binary && !bytes) throw invalid("bytes cannot cross here");
  for (const key of Object.keys(options)) {
    if (!["method", "headers", "body", "timeoutMs"].includes(key)) throw invalid(`unknown option ${JSON.stringify(key)}: use method, headers, body, timeoutMs`);
  }
  const method = methodOverride ?? (options.method === undefined ? "GET" : String(options.method).toUpperCase());
  if (!METHODS.includes(method)) throw invalid(`method must be one of ${METHODS.join(", ")}`);

  const headers = new Headers();
  if (options.headers !== undefined) {
    // fetch sends a list of pairs (a name may repeat); iota.http an object.
    if (!(binary ? Array.isArray(options.headers) : isPlainObject(options.headers))) throw invalid("headers must be an object of strings");
    const entries: unknown[] = binary ? (options.headers as unknown[]) : Object.entries(options.headers as Record<string, unknown>);
    if (entries.length > MAX_REQUEST_HEADERS) throw invalid(`at most ${MAX_REQUEST_HEADERS} headers`);
    for (const entry of entries) {
      if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== "string") throw invalid("every header must be a [name, value] pair");
      const [name, value] = entry as [string, unknown];
      if (!TOKEN.test(name)) throw invalid(`invalid header name ${JSON.stringify(name.slice(0, 100))}`);
      if (typeof value !== "string" || value.length > MAX_HEADER_VALUE_CHARS || /[\r\n\0]/.test(value)) throw invalid(`header ${name} must be a string of at most ${MAX_HEADER_VALUE_CHARS} characters without line breaks`);
      if (FORBIDDEN_HEADERS.has(name.toLowerCase())) {
        if (binary) continue;
        throw invalid(`header ${name} is set by the platform`);
      }
      if (binary) headers.append(name, value);
      else headers.set(name, value);
    }
  }

  let body: string | Uint8Array<ArrayBuffer> | null = null;
  if (binary && isPlainObject(transport) && transport.body !== undefined && transport.body !== null) {
    if (method === "GET" || method === "HEAD") throw invalid(`a ${method} request cannot have a body`);
    const id = isPlainObject(transport.body) ? transport.body.$b : undefined;
    body = bytes!.take(id) as Uint8Array<ArrayBuffer>;
  } else if (options.body !== undefined && options.body !== null) {
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
  const redirect = binary && isPlainObject(transport) && (transport.redirect === "manual" || transport.redirect === "error") ? transport.redirect : "follow";
  return {
    url,
    method,
    headers,
    body,
    // Whole milliseconds: AbortSignal.timeout refuses fractions in Node.
    timeoutMs: Math.floor(Math.min(timeoutMs, context.remainingMs - handlingReserveMs(context.remainingMs))),
    binary: binary ? bytes! : null,
    redirect,
  };
}

/**
 * A request cut by the execution's deadline ends this much before it, so the script always
 * gets its TimeoutError in time to handle it (a fallback, a cached answer) instead of racing
 * the deadline; at most a fifth of what is left.
 */
function handlingReserveMs(remainingMs: number): number {
  return Math.min(50, remainingMs / 5);
}

export async function send(plan: RequestPlan, context: OutboundContext): Promise<HttpResult | BinaryHttpResult> {
  const deadline = Date.now() + plan.timeoutMs;
  let { url, method, body } = plan;
  for (let hop = 0; ; hop++) {
    const verdict = checkOutboundUrl(url, context.allowedHosts);
    if (!verdict.ok) throw new SdkError("NetworkPolicyError", verdict.reason);
    await context.count();
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new SdkError("TimeoutError", `the request to ${verdict.url.host} timed out`);
    let response: Response;
    try {
      response = await context.fetch(verdict.url.href, { method, headers: plan.headers, body, redirect: "manual", signal: AbortSignal.timeout(Math.max(1, Math.floor(remaining))) });
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
      throw new SdkError(timedOut ? "TimeoutError" : "NetworkError", timedOut ? `the request to ${verdict.url.host} timed out` : `the request to ${verdict.url.host} failed`);
    }
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location && plan.redirect !== "manual") {
      await response.body?.cancel();
      if (plan.redirect === "error") throw new SdkError("NetworkError", `the request to ${verdict.url.host} was redirected (redirect: "error")`);
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
    if (plan.binary) {
      const headers: [string, string][] = [];
      for (const [name, value] of response.headers) if (name !== "set-cookie") headers.push([name, value]);
      for (const cookie of response.headers.getSetCookie()) headers.push(["set-cookie", cookie]);
      const bytes = method === "HEAD" ? null : await readCappedBytes(response, deadline);
      return {
        status: response.status,
        statusText: response.statusText,
        headers,
        body: bytes === null ? null : { $b: plan.binary.put(bytes) },
        url: verdict.url.href,
        redirected: hop > 0,
      };
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
  const bytes = await readCappedBytes(response, deadline);
  return bytes === null ? "" : new TextDecoder().decode(bytes);
}

/** The body's bytes (null without a body), refused as soon as they pass MAX_RESPONSE_BYTES. */
async function readCappedBytes(response: Response, deadline: number): Promise<Uint8Array | null> {
  if (!response.body) return null;
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > MAX_RESPONSE_BYTES) {
    await response.body.cancel();
    throw new SdkError("ResponseTooLargeError", `the response is larger than ${MAX_RESPONSE_BYTES} bytes`);
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
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
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}
