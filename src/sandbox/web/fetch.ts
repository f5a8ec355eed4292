/**
 * Request and fetch (group `fetch`). `fetch` is `iota.http.fetch` underneath (API.md §9,
 * §13): the same SDK call, so the same address guard, redirects by hand, 1 MiB response
 * cap, `sdkCallsPerExecution` and `outboundRequestsPerMinute`; bodies cross as bytes both
 * ways (http-client.ts, "binary" transport). Its errors:
 * - a refused address → iota's `NetworkPolicyError` (not a TypeError: the same error as
 *   `iota.http`, and a script can tell policy from network failure);
 * - the network failing, too many redirects, a bad method or header → `TypeError`, as in
 *   the standard;
 * - the deadline cutting the request → a `TimeoutError` DOMException; the request's signal
 *   aborting → its reason (an `AbortError` DOMException by default);
 * - quotas → iota's `QuotaExceededError`; a response over 1 MiB → `ResponseTooLargeError`.
 * No timeout of its own beyond the execution's deadline (use `AbortSignal.timeout`).
 */
export const FETCH_SOURCE = String.raw`(function (internals) {
"use strict";
const { needArguments } = internals;
const { Headers, headersState } = internals.require("headers");
const { responseState, bodyState } = internals.require("body");
const TOKEN = /^[!#$%&'*+\-.^_\x60|~0-9A-Za-z]+$/;
const NORMALIZED = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];
const FORBIDDEN_METHODS = ["CONNECT", "TRACE", "TRACK"];
const REDIRECTS = ["follow", "manual", "error"];
/** No timeout of fetch's own: the host caps it at the execution's deadline. */
const NO_TIMEOUT_MS = 2147483647;

function events() {
  return internals.require("events").signals;
}
function method(value) {
  const text = String(value);
  if (!TOKEN.test(text)) throw new TypeError("invalid method: " + JSON.stringify(text.slice(0, 100)));
  const upper = text.toUpperCase();
  if (FORBIDDEN_METHODS.includes(upper)) throw new TypeError("the method " + upper + " is not allowed");
  return NORMALIZED.includes(upper) ? upper : text;
}

let isRequest, requestParts, requestFromHost;
/** Set only while requestFromHost constructs (synchronously): the trusted parts of the new Request. */
let trustedParts = null;
class Request {
  #url;
  #method = "GET";
  #headers;
  #body;
  #redirect = "follow";
  /** The signal passed in (the request follows it), or null; signal makes one on first read. */
  #source = null;
  #signal = null;
  constructor(input, init) {
    if (trustedParts !== null) {
      // requestFromHost: the platform's own values, taken as they are (no URL parsing, no checks).
      const parts = trustedParts;
      trustedParts = null;
      this.#url = parts.url;
      this.#method = parts.method;
      this.#headers = parts.headers;
      this.#body = new bodyState.BodyState(parts.bytes === null ? null : { bytes: parts.bytes }, parts.headers);
      return;
    }
    needArguments(arguments.length, 1, "Request");
    const options = init === undefined || init === null ? {} : init;
    if (typeof options !== "object" && typeof options !== "function") throw new TypeError("Request: init must be an object");
    let base = null;
    if (isRequest(input)) {
      base = input;
      this.#url = input.#url;
      this.#method = input.#method;
      this.#redirect = input.#redirect;
      this.#source = input.#source;
    } else {
      const url = internals.require("url").resolve(input);
      if (url === null) throw new TypeError("Invalid URL: " + String(input).slice(0, 200));
      this.#url = url;
    }
    if (options.method !== undefined) this.#method = method(options.method);
    if (options.redirect !== undefined) {
      const redirect = String(options.redirect);
      if (!REDIRECTS.includes(redirect)) throw new TypeError("redirect must be follow, manual or error");
      this.#redirect = redirect;
    }
    if (options.signal !== undefined) {
      if (options.signal !== null && !events().isSignal(options.signal)) throw new TypeError("signal must be an AbortSignal");
      this.#source = options.signal;
    }
    this.#headers = options.headers !== undefined ? new Headers(options.headers) : base !== null ? new Headers(base.#headers) : new Headers();
    const hasBody = options.body !== undefined && options.body !== null;
    if (hasBody && (this.#method === "GET" || this.#method === "HEAD")) throw new TypeError("a " + this.#method + " request cannot have a body");
    if (hasBody) {
      this.#body = bodyState.newBody(options.body, this.#headers, false);
    } else if (base !== null && base.#body.source !== null && options.body === undefined) {
      // The body moves to the new request; the old one can no longer be read.
      this.#body = new bodyState.BodyState(bodyState.consume(base.#body), this.#headers);
    } else {
      this.#body = new bodyState.BodyState(null, this.#headers);
    }
  }
  get method() { return this.#method; }
  get url() { return this.#url; }
  get headers() { return this.#headers; }
  get redirect() { return this.#redirect; }
  get signal() {
    if (this.#signal === null) {
      const { newSignal, signalAbort, addAbortAlgorithm } = events();
      const signal = newSignal();
      const source = this.#source;
      if (source !== null) {
        if (source.aborted) signalAbort(signal, source.reason);
        else addAbortAlgorithm(source, () => signalAbort(signal, source.reason));
      }
      this.#signal = signal;
    }
    return this.#signal;
  }
  get body() { return bodyState.bodyStream(this.#body); }
  get bodyUsed() { return this.#body.used; }
  get cache() { return "default"; }
  get credentials() { return "same-origin"; }
  get destination() { return ""; }
  get integrity() { return ""; }
  get keepalive() { return false; }
  get mode() { return "cors"; }
  get referrer() { return "about:client"; }
  get referrerPolicy() { return ""; }
  clone() {
    if (this.#body.used) throw new TypeError("Request.clone: the body has already been read");
    const copy = new Request(this.#url, { method: this.#method, redirect: this.#redirect });
    copy.#headers = headersState.copy(this.#headers);
    copy.#body = new bodyState.BodyState(this.#body.source, copy.#headers);
    copy.#source = this.#source;
    return copy;
  }
  text() { return bodyState.reading.text(this.#body); }
  json() { return bodyState.reading.json(this.#body); }
  arrayBuffer() { return bodyState.reading.arrayBuffer(this.#body); }
  bytes() { return bodyState.reading.bytes(this.#body); }
  blob() { return bodyState.reading.blob(this.#body); }
  formData() { return bodyState.reading.formData(this.#body); }
  static {
    isRequest = (value) => value !== null && typeof value === "object" && #url in value;
    requestParts = (request) => ({
      url: request.#url,
      method: request.#method,
      headers: headersState.list(request.#headers),
      source: request.#body.source === null ? null : bodyState.consume(request.#body),
      redirect: request.#redirect,
      signal: request.#source,
    });
    /**
     * The request a fetch handler receives (API.md §13): trusted values from the platform,
     * immutable headers, the raw body as received (capped by the Worker, not by outputBytes).
     */
    requestFromHost = (url, method, headerList, bytes) => {
      trustedParts = { url: String(url), method: String(method), headers: headersState.freeze(headersState.fromList(headerList)), bytes };
      return new Request(url);
    };
  }
}
Object.defineProperty(Request.prototype, Symbol.toStringTag, { value: "Request", configurable: true });

function fetchError(error) {
  const message = String(error.message);
  switch (error.name) {
    case "ValidationError":
      return new TypeError(message);
    case "NetworkError":
      return new TypeError("fetch failed: " + message);
    case "TimeoutError":
      return new (internals.require("dom").DOMException)(message, "TimeoutError");
    default:
      return internals.hostError(error);
  }
}
function whenAborted(signal, call) {
  if (signal === null) return call;
  return new Promise((resolve, reject) => {
    events().addAbortAlgorithm(signal, () => reject(signal.reason));
    call.then(resolve, reject);
  });
}

async function fetch(input, init) {
  needArguments(arguments.length, 1, "fetch");
  const request = isRequest(input) && init === undefined ? input : new Request(input, init);
  const parts = requestParts(request);
  if (parts.signal !== null && parts.signal.aborted) throw parts.signal.reason;
  const body = parts.source === null ? null : internals.put(bodyState.sourceBuffer(parts.source));
  const call = internals.sdkCall("http.fetch", [parts.url, { method: parts.method, headers: parts.headers, timeoutMs: NO_TIMEOUT_MS }, { binary: true, body, redirect: parts.redirect }]);
  const reply = await whenAborted(parts.signal, call);
  if (Object.hasOwn(reply, "error")) throw fetchError(reply.error);
  const answer = reply.ok;
  const bytes = answer.body === null ? null : internals.take(answer.body);
  return responseState.fromHost(answer.status, answer.statusText, answer.headers, bytes, answer.url, answer.redirected);
}
return { Request, fetch, isRequest, requestFromHost };
})`;
