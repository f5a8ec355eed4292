/**
 * The core group: the internals every other group gets (never reachable by scripts), built
 * from what the bootstrap hands over (`coreBase` in bootstrap.ts). Loaded with the first
 * group a script uses, so an idle realm does not hold it.
 *
 * - `sync(name, args)`: a synchronous host-backed computation (JSON in, JSON out).
 * - `compute(name, args)`: an asynchronous one (WebCrypto, form parsing), not an SDK call.
 * - `sdkCall(name, args)`: an SDK call answering its raw `{ok}`/`{error}` reply (fetch).
 * - `put(bufferSource)` → `{$b: id}`: bytes copied out to the host; `take({$b})` → a new
 *   ArrayBuffer of bytes the host answered with.
 * - `now()`: milliseconds since the execution began (Date.now(), the host's clock, with no crossing).
 * - errors the host answered with become the guest's own (`webError`): DOMException,
 *   TypeError/RangeError/SyntaxError, or iota's classes.
 */
export const CORE_SOURCE = String.raw`(function (base) {
"use strict";
const host = base.host;
const hostSync = host.sync, hostCompute = host.compute, hostCall = host.call, hostPut = host.put, hostTake = host.take;
const maxHeldBytes = host.maxHeldBytes;
const { parse: JSONparse, stringify: JSONstringify } = base.json;
const apply = Reflect.apply, hasOwn = Object.hasOwn, getDescriptor = Object.getOwnPropertyDescriptor;
const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype);
const abByteLength = getDescriptor(ArrayBuffer.prototype, "byteLength").get, abSlice = ArrayBuffer.prototype.slice;
const taBuffer = getDescriptor(TypedArrayPrototype, "buffer").get;
const taByteOffset = getDescriptor(TypedArrayPrototype, "byteOffset").get;
const taByteLength = getDescriptor(TypedArrayPrototype, "byteLength").get;
const taTag = getDescriptor(TypedArrayPrototype, Symbol.toStringTag).get;
const dvBuffer = getDescriptor(DataView.prototype, "buffer").get;
const dvByteOffset = getDescriptor(DataView.prototype, "byteOffset").get;
const dvByteLength = getDescriptor(DataView.prototype, "byteLength").get;
const STANDARD_ERRORS = { TypeError, RangeError, SyntaxError, Error };

function outsideRun() {
  return new TypeError("the web platform is only available while a script runs");
}
function webError(record) {
  const message = String(record.message);
  if (record.dom) return new (base.require("dom").DOMException)(message, String(record.name));
  if (hasOwn(STANDARD_ERRORS, record.name)) return new STANDARD_ERRORS[record.name](message);
  return base.hostError(record);
}
function reply(text) {
  if (typeof text !== "string") throw outsideRun();
  // "~" + text: a text result sent as is (see realm.ts, hostSync); otherwise JSON.
  if (text.charCodeAt(0) === 126) return text.slice(1);
  const parsed = JSONparse(text);
  if (hasOwn(parsed, "error")) throw webError(parsed.error);
  return parsed.ok;
}
function sync(name, args) {
  return reply(hostSync(name, JSONstringify(args)));
}
/**
 * Like sync, with a text argument appended to args. Large text crosses much faster as a
 * plain string than inside JSON; a plain string crosses as NUL-terminated UTF-8, so that
 * way is for well-formed text without NUL, and anything else goes inside the JSON.
 */
function syncText(name, args, text) {
  const wellFormed = text.toWellFormed();
  if (wellFormed.length < 256 || wellFormed.indexOf("\0") >= 0) return reply(hostSync(name, JSONstringify([...args, wellFormed])));
  return reply(hostSync(name, JSONstringify(args), wellFormed));
}
async function compute(name, args) {
  return reply(await hostCompute(name, JSONstringify(args)));
}
async function sdkCall(name, args) {
  const text = await hostCall(name, JSONstringify(args));
  if (typeof text !== "string") throw outsideRun();
  return JSONparse(text);
}
function isArrayBuffer(value) {
  if (value === null || typeof value !== "object") return false;
  try {
    apply(abByteLength, value, []);
    return true;
  } catch (error) {
    return false;
  }
}
/** The name of a typed array's kind ("Uint8Array"…), or undefined for anything else. */
function typedArrayKind(value) {
  return apply(taTag, value, []);
}
/** A Uint8Array over the bytes of a BufferSource (no copy), or null for anything else. */
function viewOf(value) {
  if (isArrayBuffer(value)) return new Uint8Array(value);
  if (!ArrayBuffer.isView(value)) return null;
  if (typedArrayKind(value) !== undefined) {
    return new Uint8Array(apply(taBuffer, value, []), apply(taByteOffset, value, []), apply(taByteLength, value, []));
  }
  return new Uint8Array(apply(dvBuffer, value, []), apply(dvByteOffset, value, []), apply(dvByteLength, value, []));
}
/** A fresh ArrayBuffer holding a copy of a BufferSource's bytes (TypeError for anything else). */
function copyOf(value, what) {
  const view = viewOf(value);
  if (view === null) throw new TypeError((what || "the value") + " must be an ArrayBuffer or an ArrayBuffer view");
  const offset = apply(taByteOffset, view, []);
  return apply(abSlice, apply(taBuffer, view, []), [offset, offset + apply(taByteLength, view, [])]);
}
/** Hands bytes (a BufferSource) to the host, copied out now; answers {$b: id}. */
function put(value, what) {
  const view = viewOf(value);
  if (view === null) throw new TypeError((what || "the value") + " must be an ArrayBuffer or an ArrayBuffer view");
  const length = apply(taByteLength, view, []);
  if (length > maxHeldBytes) throw new base.QuotaExceededError("more than " + maxHeldBytes + " bytes for the host in one execution");
  const whole = apply(taBuffer, view, []);
  const offset = apply(taByteOffset, view, []);
  const buffer = offset === 0 && length === apply(abByteLength, whole, []) ? whole : apply(abSlice, whole, [offset, offset + length]);
  const id = hostPut(buffer);
  if (typeof id === "number") return { $b: id };
  if (typeof id === "string") throw webError(JSONparse(id));
  throw outsideRun();
}
function take(ref) {
  const buffer = hostTake(ref !== null && typeof ref === "object" ? ref.$b : -1);
  if (buffer === undefined) throw new TypeError("those bytes are not available");
  return buffer;
}
const errorLog = base.logger("error");
/** QuickJS's own limits (out of memory, stack overflow): they end the execution, never only a log line. */
function isLimitError(error) {
  return error === null || (error instanceof InternalError && (error.message === "out of memory" || error.message === "stack overflow"));
}
/**
 * Reports an error nothing can catch any more (a timer's, a listener's) in the execution's
 * logs; an engine limit error is thrown on instead, so the execution ends as it would have.
 */
function report(where, error) {
  if (isLimitError(error)) throw error;
  errorLog("Uncaught error in " + where + ": " + base.formatValue(error));
}
/** Throws a TypeError unless at least needed arguments were passed (WebIDL). */
function needArguments(count, needed, what) {
  if (count < needed) throw new TypeError(what + ": " + needed + " argument" + (needed === 1 ? "" : "s") + " required, but only " + count + " present");
}
return {
  sync, syncText, compute, sdkCall, put, take, viewOf, copyOf, isArrayBuffer, typedArrayKind, report, webError, needArguments,
  /** Milliseconds since the execution began (Date.now(): no crossing). */
  now: base.now,
  charge: base.charge,
  hostError: base.hostError,
  onRun: base.onRun,
  /** The indentation console.group adds (web/console.ts). */
  consoleIndent: base.consoleIndent,
  setTimers: base.setTimers,
  bodyBytes: base.bodyBytes,
  require: base.require,
  /** A group's exports if it is loaded (instances of its classes can exist only then), else undefined. */
  loaded: base.loaded,
  json: base.json,
  errors: { IotaError: base.IotaError, QuotaExceededError: base.QuotaExceededError, NetworkPolicyError: base.NetworkPolicyError },
};
})`;
