/**
 * `crypto` and `CryptoKey` (group `crypto`): host-backed. Randomness comes from the host's
 * CSPRNG; `crypto.subtle` is the host's WebCrypto, called with the script's arguments
 * (dictionaries copied member by member, bytes by id) as an asynchronous host-backed
 * computation (not an SDK call). A CryptoKey never leaves the host: it stays in the
 * execution's channel and the script holds a CryptoKey wrapper naming it by id, so keys
 * are dropped when the execution ends.
 *
 * Bounds: `getRandomValues` over 65 536 bytes throws the `QuotaExceededError` DOMException
 * (as browsers); bytes handed to the host count toward the execution's 32 MiB; each
 * operation's host work is charged to the budget before it starts (per byte, per PBKDF2
 * iteration, RSA private operations); generating RSA keys (seconds of host CPU) is refused
 * with NotSupportedError: import them instead.
 */
import {
  type AsyncWebFunction,
  bytesRef,
  domError,
  type SyncWebFunction,
  takeBytesArg,
  type WebContext,
  webTypeError,
} from "./channel";

export const MAX_RANDOM_BYTES = 65536;
/** What a key kept on the host counts toward the execution's held bytes. */
const KEY_BYTES = 1024;
const OPERATIONS = new Set(["digest", "importKey", "exportKey", "generateKey", "sign", "verify", "encrypt", "decrypt", "deriveBits", "deriveKey", "wrapKey", "unwrapKey"]);
/** Estimated host work, charged to the budget before an operation starts. */
const NS_PER_OPERATION = 50_000;
const NS_PER_BYTE = 8;
const NS_PER_PBKDF2_ITERATION = 1_500;
const NS_PER_RSA_PRIVATE_OPERATION = 3_000_000;

function isKey(value: unknown): value is CryptoKey {
  return typeof CryptoKey === "function" && value instanceof CryptoKey;
}

/** A JSON argument with bytes ({$b}) and keys ({$k}) as the host's own values; counts the bytes. */
function revive(value: unknown, context: WebContext, depth: number, counted: { bytes: number }): unknown {
  if (value === null || typeof value !== "object") return value;
  if (depth > 8) throw webTypeError("the argument is nested too deeply");
  if (Array.isArray(value)) return value.map((item) => revive(item, context, depth + 1, counted));
  const record = value as Record<string, unknown>;
  if (Object.hasOwn(record, "$b")) {
    const bytes = context.channel.take(record.$b);
    counted.bytes += bytes.byteLength;
    return bytes;
  }
  if (Object.hasOwn(record, "$k")) return context.channel.object(record.$k, isKey, "CryptoKey");
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(record)) out[key] = revive(item, context, depth + 1, counted);
  return out;
}

/** A host result as JSON: bytes by id, keys kept on the host and described. */
function describeResult(value: unknown, context: WebContext): unknown {
  if (value === null || typeof value !== "object") return value;
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
    const view = value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    return bytesRef(context, view.slice());
  }
  if (isKey(value)) {
    const id = context.channel.keep(value, KEY_BYTES);
    return { $k: { id, type: value.type, extractable: value.extractable, algorithm: describeResult(value.algorithm, context), usages: [...value.usages] } };
  }
  if (Array.isArray(value)) return value.map((item) => describeResult(item, context));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = describeResult(item, context);
  return out;
}

function algorithmName(algorithm: unknown): string {
  if (typeof algorithm === "string") return algorithm.toUpperCase();
  if (algorithm !== null && typeof algorithm === "object" && typeof (algorithm as { name?: unknown }).name === "string") return (algorithm as { name: string }).name.toUpperCase();
  return "";
}

/** The host work an operation may take, estimated before it runs. */
function estimatedCost(operation: string, args: unknown[], bytes: number): number {
  let ns = NS_PER_OPERATION + bytes * NS_PER_BYTE;
  const algorithm = args[0];
  const name = algorithmName(algorithm);
  if ((operation === "deriveBits" || operation === "deriveKey") && name === "PBKDF2") {
    const iterations = Number((algorithm as { iterations?: unknown }).iterations);
    const length = operation === "deriveBits" ? Number(args[2]) : 256;
    const blocks = Math.max(1, Math.ceil((Number.isFinite(length) ? length : 256) / 256));
    ns += (Number.isFinite(iterations) && iterations > 0 ? iterations : 0) * blocks * NS_PER_PBKDF2_ITERATION;
  }
  if ((operation === "sign" || operation === "decrypt") && name.startsWith("RSA")) ns += NS_PER_RSA_PRIVATE_OPERATION;
  return ns;
}

export const CRYPTO_SYNC: Record<string, SyncWebFunction> = {
  "crypto.random": (args, context) => {
    const length = args[0];
    if (typeof length !== "number" || !Number.isInteger(length) || length < 0 || length > MAX_RANDOM_BYTES) {
      throw domError("QuotaExceededError", `getRandomValues can fill at most ${MAX_RANDOM_BYTES} bytes`);
    }
    return bytesRef(context, crypto.getRandomValues(new Uint8Array(length)));
  },
  "crypto.uuid": () => crypto.randomUUID(),
  /** Workers' `crypto.subtle.timingSafeEqual`: every byte is compared, whatever differs first. */
  "crypto.timingSafeEqual": (args, context) => {
    const a = takeBytesArg(context, args[0], "the first buffer");
    const b = takeBytesArg(context, args[1], "the second buffer");
    if (a.byteLength !== b.byteLength) throw webTypeError("timingSafeEqual: the buffers must have the same byte length");
    context.charge(a.byteLength * NS_PER_BYTE);
    let difference = 0;
    for (let i = 0; i < a.byteLength; i++) difference |= a[i]! ^ b[i]!;
    return difference === 0;
  },
};

export const CRYPTO_ASYNC: Record<string, AsyncWebFunction> = {
  /** `[operation, ...arguments]` → the result of `crypto.subtle[operation](...arguments)`. */
  subtle: async (args, context) => {
    const [operation, ...rest] = args;
    if (typeof operation !== "string" || !OPERATIONS.has(operation)) throw webTypeError("no such operation");
    const counted = { bytes: 0 };
    const values = rest.map((value) => revive(value, context, 0, counted));
    if (operation === "generateKey" && algorithmName(values[0]).startsWith("RSA")) {
      throw domError("NotSupportedError", "generating RSA keys is not available in iota scripts (it takes seconds of CPU): import a key instead");
    }
    context.charge(estimatedCost(operation, values, counted.bytes));
    const subtle = crypto.subtle as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    return describeResult(await subtle[operation]!(...values), context);
  },
};

export const CRYPTO_SOURCE = String.raw`(function (internals) {
"use strict";
const { sync, compute, put, take, viewOf, needArguments } = internals;
const MAX_RANDOM_BYTES = ${MAX_RANDOM_BYTES};
const INTEGER_ARRAYS = ["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array"];
/** Dictionary members of WebCrypto's algorithms and of JWK: read from the script's objects one by one, as WebIDL does. */
const MEMBERS = ["name", "hash", "length", "namedCurve", "iv", "additionalData", "tagLength", "counter", "label", "salt", "info",
  "iterations", "public", "saltLength", "modulusLength", "publicExponent", "context",
  "kty", "use", "key_ops", "alg", "ext", "crv", "x", "y", "d", "n", "e", "p", "q", "dp", "dq", "qi", "oth", "r", "t", "k"];
const dom = (message, name) => new (internals.require("dom").DOMException)(message, name);

const token = {};
let isKey, keyId;
class CryptoKey {
  #id;
  #type;
  #extractable;
  #algorithm;
  #usages;
  constructor(key, record) {
    if (key !== token) throw new TypeError("Illegal constructor: keys come from crypto.subtle");
    this.#id = record.id;
    this.#type = record.type;
    this.#extractable = record.extractable;
    const algorithm = unmarshal(record.algorithm);
    if (algorithm !== null && typeof algorithm === "object" && internals.isArrayBuffer(algorithm.publicExponent)) algorithm.publicExponent = new Uint8Array(algorithm.publicExponent);
    this.#algorithm = algorithm;
    this.#usages = record.usages;
  }
  get type() { return this.#type; }
  get extractable() { return this.#extractable; }
  get algorithm() { return this.#algorithm; }
  get usages() { return this.#usages; }
  static {
    isKey = (value) => value !== null && typeof value === "object" && #id in value;
    keyId = (key) => key.#id;
  }
}
Object.defineProperty(CryptoKey.prototype, Symbol.toStringTag, { value: "CryptoKey", configurable: true });

function marshal(value, depth) {
  if (typeof value === "symbol" || typeof value === "bigint") throw new TypeError("crypto.subtle: unexpected " + typeof value);
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return value === undefined ? null : value;
  if (depth > 6) throw new TypeError("crypto.subtle: the argument is nested too deeply");
  if (isKey(value)) return { $k: keyId(value) };
  if (viewOf(value) !== null) return put(value);
  if (typeof value === "function") throw new TypeError("crypto.subtle: unexpected function");
  if (Array.isArray(value)) {
    const out = [];
    for (const item of value) out.push(marshal(item, depth + 1));
    return out;
  }
  const out = {};
  for (let i = 0; i < MEMBERS.length; i++) {
    const item = value[MEMBERS[i]];
    if (item !== undefined) out[MEMBERS[i]] = marshal(item, depth + 1);
  }
  return out;
}
function unmarshal(value) {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(unmarshal);
  if (Object.hasOwn(value, "$b")) return take(value);
  if (Object.hasOwn(value, "$k")) return new CryptoKey(token, value.$k);
  const out = {};
  for (const key of Object.keys(value)) out[key] = unmarshal(value[key]);
  return out;
}
function operation(name, needed) {
  return {
    async [name](...args) {
      needArguments(args.length, needed, "SubtleCrypto." + name);
      const marshalled = [name];
      for (let i = 0; i < args.length; i++) marshalled.push(marshal(args[i], 0));
      return unmarshal(await compute("subtle", marshalled));
    },
  }[name];
}

class SubtleCrypto {
  constructor(key) {
    if (key !== token) throw new TypeError("Illegal constructor");
  }
}
for (const [name, needed] of [["digest", 2], ["importKey", 5], ["exportKey", 2], ["generateKey", 3], ["sign", 3], ["verify", 4],
  ["encrypt", 3], ["decrypt", 3], ["deriveBits", 2], ["deriveKey", 5], ["wrapKey", 4], ["unwrapKey", 7]]) {
  Object.defineProperty(SubtleCrypto.prototype, name, { value: operation(name, needed), writable: true, enumerable: true, configurable: true });
}
Object.defineProperty(SubtleCrypto.prototype, "timingSafeEqual", {
  value: function timingSafeEqual(a, b) {
    needArguments(arguments.length, 2, "SubtleCrypto.timingSafeEqual");
    return sync("crypto.timingSafeEqual", [put(a, "the first buffer"), put(b, "the second buffer")]);
  },
  writable: true,
  enumerable: true,
  configurable: true,
});
Object.defineProperty(SubtleCrypto.prototype, Symbol.toStringTag, { value: "SubtleCrypto", configurable: true });

const subtle = new SubtleCrypto(token);
class Crypto {
  constructor(key) {
    if (key !== token) throw new TypeError("Illegal constructor");
  }
  get subtle() { return subtle; }
  getRandomValues(array) {
    needArguments(arguments.length, 1, "crypto.getRandomValues");
    const kind = internals.typedArrayKind(array);
    if (!INTEGER_ARRAYS.includes(kind)) throw dom("getRandomValues needs an integer typed array", "TypeMismatchError");
    const view = viewOf(array);
    if (view.length > MAX_RANDOM_BYTES) throw dom("getRandomValues can fill at most " + MAX_RANDOM_BYTES + " bytes, not " + view.length, "QuotaExceededError");
    if (view.length > 0) view.set(new Uint8Array(take(sync("crypto.random", [view.length]))));
    return array;
  }
  randomUUID() {
    return sync("crypto.uuid", []);
  }
}
Object.defineProperty(Crypto.prototype, Symbol.toStringTag, { value: "Crypto", configurable: true });
const crypto = new Crypto(token);
// subtle is reached through a getter: exported here too, so the group's hardening freezes it.
return { crypto, CryptoKey, subtle };
})`;
