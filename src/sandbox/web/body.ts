/**
 * Bodies and Response (group `body`), realm-side and thin: a body is text or bytes held in
 * the realm, read once (`bodyUsed`) as text, JSON, bytes, a Blob or form data. Conversions
 * cross to the host: UTF-8 (encoding group), multipart and urlencoded parsing (the host's
 * own `Response#formData`, form.ts).
 *
 * Not streams: a body is whole. `body` answers a minimal ReadableStream (one chunk, then
 * done; `getReader().read()`, async iteration, `cancel`) so that `new Response(res.body,
 * res)` and reader loops work; there is no `ReadableStream` global to construct one.
 *
 * A body a script builds (a Request or Response constructor) is capped at the execution's
 * `outputBytes` (RangeError past it); a fetched response's body is capped by `fetch` itself
 * (1 MiB, http-client.ts).
 */
export const BODY_SOURCE = String.raw`(function (internals) {
"use strict";
const { needArguments, viewOf, copyOf, isArrayBuffer } = internals;
const { Headers, headersState } = internals.require("headers");
const utf8 = () => internals.require("encoding").utf8;
const NULL_BODY_STATUS = [101, 103, 204, 205, 304];
const REDIRECT_STATUS = [301, 302, 303, 307, 308];
const REASON_PHRASE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** A body: {text} or {bytes: ArrayBuffer, never handed out itself}, and whether it was read. */
class BodyState {
  constructor(source, headers) {
    this.source = source;
    this.headers = headers;
    this.used = false;
    this.stream = null;
  }
}
function tooLarge(size) {
  return new RangeError("a body of " + size + " bytes is larger than this script's limit of " + internals.bodyBytes() + " bytes (outputBytes)");
}
/** A body's source and default content type from a BodyInit (Fetch "extract a body"). */
function extract(init) {
  if (typeof init === "string") return { source: { text: init }, type: "text/plain;charset=UTF-8" };
  if (isArrayBuffer(init) || ArrayBuffer.isView(init)) return { source: { bytes: copyOf(init) }, type: null };
  const blob = internals.loaded("blob");
  if (blob !== undefined) {
    if (blob.isBlob(init)) return { source: { bytes: blob.bytesOf(init) }, type: init.type === "" ? null : init.type };
    if (blob.isFormData(init)) {
      const encoded = blob.encodeForm(init);
      return { source: { bytes: encoded.bytes }, type: encoded.type };
    }
  }
  const url = internals.loaded("url");
  if (url !== undefined && url.isParams(init)) return { source: { text: init.toString() }, type: "application/x-www-form-urlencoded;charset=UTF-8" };
  if (isStream(init)) return { source: streamSource(init), type: null };
  return { source: { text: String(init) }, type: "text/plain;charset=UTF-8" };
}
/** Keeps a built body within the script's cap; a long text is encoded once here (that is also its size). */
function capped(source) {
  if (source === null) return null;
  const cap = internals.bodyBytes();
  if (source.text !== undefined) {
    const length = source.text.length;
    if (length > cap) throw tooLarge(length);
    if (length * 3 <= cap) return source;
    const bytes = utf8().encode(source.text);
    if (bytes.byteLength > cap) throw tooLarge(bytes.byteLength);
    return { bytes };
  }
  if (source.bytes.byteLength > cap) throw tooLarge(source.bytes.byteLength);
  return source;
}
function newBody(init, headers, nullBodyStatus) {
  if (init === undefined || init === null) return new BodyState(null, headers);
  if (nullBodyStatus) throw new TypeError("a response with a null body status cannot have a body");
  const { source, type } = extract(init);
  if (type !== null) headersState.setDefault(headers, "content-type", type);
  return new BodyState(capped(source), headers);
}
function consume(state) {
  if (state.used) throw new TypeError("the body has already been read");
  state.used = true;
  return state.source;
}
function sourceText(source) {
  if (source === null) return "";
  return source.text !== undefined ? source.text : utf8().decode(source.bytes);
}
function sourceBuffer(source) {
  if (source === null) return new ArrayBuffer(0);
  return source.text !== undefined ? utf8().encode(source.text) : source.bytes.slice(0);
}
const reading = {
  text: async (state) => sourceText(consume(state)),
  json: async (state) => JSON.parse(sourceText(consume(state))),
  arrayBuffer: async (state) => sourceBuffer(consume(state)),
  bytes: async (state) => new Uint8Array(sourceBuffer(consume(state))),
  blob: async (state) => {
    const buffer = sourceBuffer(consume(state));
    const type = state.headers.get("content-type");
    return new (internals.require("blob").Blob)([buffer], { type: type === null ? "" : type });
  },
  formData: async (state) => {
    const type = state.headers.get("content-type");
    const source = consume(state);
    return internals.require("blob").parseForm(source === null ? new ArrayBuffer(0) : sourceBuffer(source), type === null ? "" : type);
  },
};

// ---- a minimal ReadableStream over a whole body ----
let isStream, streamSource;
class ReadableStream {
  #state;
  #locked = false;
  constructor(key, state) {
    if (key !== BodyState) throw new TypeError("Illegal constructor: bodies are not streams in iota scripts");
    this.#state = state;
  }
  get locked() { return this.#locked; }
  getReader(options) {
    if (options !== undefined && options !== null && options.mode !== undefined) throw new TypeError("only the default reader is available");
    if (this.#locked) throw new TypeError("the stream is locked to a reader");
    this.#locked = true;
    return new ReadableStreamDefaultReader(this, this.#state);
  }
  async cancel() {
    if (this.#locked) throw new TypeError("the stream is locked to a reader");
    if (!this.#state.used) consume(this.#state);
  }
  async *values() {
    const reader = this.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      yield value;
    }
  }
  static {
    isStream = (value) => value !== null && typeof value === "object" && #state in value;
    streamSource = (stream) => {
      if (stream.#locked || stream.#state.used) throw new TypeError("the stream has already been read");
      stream.#locked = true;
      return consume(stream.#state);
    };
  }
}
Object.defineProperty(ReadableStream.prototype, Symbol.asyncIterator, { value: ReadableStream.prototype.values, writable: true, configurable: true });
class ReadableStreamDefaultReader {
  #state;
  #released = false;
  constructor(stream, state) {
    if (!isStream(stream)) throw new TypeError("Illegal constructor");
    this.#state = state;
  }
  async read() {
    if (this.#released) throw new TypeError("the reader was released");
    if (this.#state.used) return { value: undefined, done: true };
    const buffer = sourceBuffer(consume(this.#state));
    return buffer.byteLength === 0 ? { value: undefined, done: true } : { value: new Uint8Array(buffer), done: false };
  }
  releaseLock() { this.#released = true; }
  async cancel() { if (!this.#state.used) consume(this.#state); }
  get closed() { return Promise.resolve(undefined); }
}
function bodyStream(state) {
  if (state.source === null) return null;
  if (state.stream === null) state.stream = new ReadableStream(BodyState, state);
  return state.stream;
}

function checkStatus(status) {
  const n = Number(status);
  if (!Number.isInteger(n) || n < 200 || n > 599) throw new RangeError("the status must be an integer from 200 to 599, not " + String(status));
  return n;
}

let responseState;
class Response {
  #status = 200;
  #statusText = "";
  #headers;
  #body;
  #type = "default";
  #url = "";
  #redirected = false;
  constructor(body, init) {
    let status = 200, statusText = "", headers;
    if (init !== undefined && init !== null) {
      if (typeof init !== "object" && typeof init !== "function") throw new TypeError("Response: init must be an object");
      if (init.status !== undefined) status = checkStatus(init.status);
      if (init.statusText !== undefined) {
        statusText = String(init.statusText);
        if (!REASON_PHRASE.test(statusText)) throw new TypeError("invalid statusText");
      }
      if (init.headers !== undefined) headers = new Headers(init.headers);
    }
    this.#status = status;
    this.#statusText = statusText;
    this.#headers = headers === undefined ? new Headers() : headers;
    this.#body = newBody(body, this.#headers, NULL_BODY_STATUS.includes(status));
  }
  static error() {
    const response = new Response(null);
    response.#type = "error";
    response.#status = 0;
    headersState.freeze(response.#headers);
    return response;
  }
  static redirect(url, status) {
    needArguments(arguments.length, 1, "Response.redirect");
    const location = internals.require("url").resolve(url);
    if (location === null) throw new TypeError("Response.redirect: invalid URL " + JSON.stringify(String(url).slice(0, 200)));
    const code = status === undefined ? 302 : Number(status);
    if (!REDIRECT_STATUS.includes(code)) throw new RangeError("Response.redirect: the status must be 301, 302, 303, 307 or 308");
    const response = new Response(null, { status: code, headers: { location } });
    headersState.freeze(response.#headers);
    return response;
  }
  static json(data, init) {
    const text = JSON.stringify(data);
    if (text === undefined) throw new TypeError("Response.json: the value cannot be serialized as JSON");
    const response = new Response(null, init);
    if (NULL_BODY_STATUS.includes(response.#status)) throw new TypeError("a response with a null body status cannot have a body");
    headersState.setDefault(response.#headers, "content-type", "application/json");
    response.#body = new BodyState(capped({ text }), response.#headers);
    return response;
  }
  get type() { return this.#type; }
  get url() { return this.#url; }
  get redirected() { return this.#redirected; }
  get status() { return this.#status; }
  get ok() { return this.#status >= 200 && this.#status <= 299; }
  get statusText() { return this.#statusText; }
  get headers() { return this.#headers; }
  get body() { return bodyStream(this.#body); }
  get bodyUsed() { return this.#body.used; }
  clone() {
    if (this.#body.used) throw new TypeError("Response.clone: the body has already been read");
    const copy = new Response(null);
    copy.#status = this.#status;
    copy.#statusText = this.#statusText;
    copy.#type = this.#type;
    copy.#url = this.#url;
    copy.#redirected = this.#redirected;
    copy.#headers = headersState.copy(this.#headers);
    copy.#body = new BodyState(this.#body.source, copy.#headers);
    return copy;
  }
  text() { return reading.text(this.#body); }
  json() { return reading.json(this.#body); }
  arrayBuffer() { return reading.arrayBuffer(this.#body); }
  bytes() { return reading.bytes(this.#body); }
  blob() { return reading.blob(this.#body); }
  formData() { return reading.formData(this.#body); }
  static {
    responseState = {
      isResponse: (value) => value !== null && typeof value === "object" && #status in value,
      /** A response from the host's answer (fetch): trusted values, immutable headers, no cap. */
      fromHost(status, statusText, headerList, bytes, url, redirected) {
        const response = new Response(null);
        response.#status = status;
        response.#statusText = statusText;
        response.#headers = headersState.freeze(headersState.fromList(headerList));
        response.#body = new BodyState(bytes === null ? null : { bytes }, response.#headers);
        response.#url = url;
        response.#redirected = redirected;
        return response;
      },
      /** What the platform sends for a response a script returns: status, headers, body (text or bytes). */
      toHost(response) {
        return { status: response.#status, statusText: response.#statusText, headers: headersState.list(response.#headers), body: response.#body.used ? undefined : response.#body.source };
      },
    };
  }
}
Object.defineProperty(Response.prototype, Symbol.toStringTag, { value: "Response", configurable: true });

const bodyState = { BodyState, newBody, consume, sourceBuffer, bodyStream, reading, isStream };
return { Response, responseState, bodyState };
})`;
