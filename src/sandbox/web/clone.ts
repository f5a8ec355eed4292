/**
 * `structuredClone` (group `clone`), realm-side: the host cannot hold guest objects, so the
 * HTML structured clone algorithm runs in the realm, under the interrupt and the memory
 * limit like any script code, and without recursion (a deep value cannot overflow a stack).
 *
 * Cloned: primitives (not symbols), Boolean/Number/String objects, Date, RegExp,
 * ArrayBuffer, typed arrays and DataView, Map, Set, Error (standard names; message, stack),
 * arrays and plain objects (own enumerable string keys, getters read once), Blob and File;
 * cycles and shared references kept. `transfer` detaches the listed ArrayBuffers. Functions,
 * symbols, WeakMap/WeakSet/Promise and the platform's other objects (Headers, Request…)
 * throw a DataCloneError DOMException.
 */
export const CLONE_SOURCE = String.raw`(function (internals) {
"use strict";
const { needArguments, isArrayBuffer, typedArrayKind } = internals;
const apply = Reflect.apply, getDescriptor = Object.getOwnPropertyDescriptor, defineProperty = Object.defineProperty;
const objectToString = Object.prototype.toString;
const dateTime = Date.prototype.getTime;
const regexpSource = getDescriptor(RegExp.prototype, "source").get, regexpFlags = getDescriptor(RegExp.prototype, "flags").get;
const booleanValue = Boolean.prototype.valueOf, numberValue = Number.prototype.valueOf, stringValue = String.prototype.valueOf;
const mapHas = Map.prototype.has, mapEntries = Map.prototype.entries, setHas = Set.prototype.has, setValues = Set.prototype.values;
const weakMapHas = WeakMap.prototype.has, weakSetHas = WeakSet.prototype.has;
const abSlice = ArrayBuffer.prototype.slice, abTransfer = ArrayBuffer.prototype.transfer;
const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype);
const taBuffer = getDescriptor(TypedArrayPrototype, "buffer").get, taOffset = getDescriptor(TypedArrayPrototype, "byteOffset").get;
const taLength = getDescriptor(TypedArrayPrototype, "length").get;
const dvBuffer = getDescriptor(DataView.prototype, "buffer").get, dvOffset = getDescriptor(DataView.prototype, "byteOffset").get;
const dvLength = getDescriptor(DataView.prototype, "byteLength").get;
const ERROR_NAMES = ["Error", "EvalError", "RangeError", "ReferenceError", "SyntaxError", "TypeError", "URIError"];
const ERRORS = { Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError };
const TYPED_ARRAYS = { Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float16Array, Float32Array, Float64Array };
/** The platform's objects a script cannot clone (their state is not data). */
const UNCLONEABLE_TAGS = ["Headers", "Request", "Response", "URL", "URLSearchParams", "AbortSignal", "AbortController", "Event",
  "EventTarget", "FormData", "CryptoKey", "ReadableStream", "TextEncoder", "TextDecoder", "Crypto", "SubtleCrypto", "Promise"];

function dataCloneError(message) {
  return new (internals.require("dom").DOMException)(message, "DataCloneError");
}
function is(test, value) {
  try {
    apply(test, value, []);
    return true;
  } catch (error) {
    return false;
  }
}
function isDataView(value) {
  return ArrayBuffer.isView(value) && typedArrayKind(value) === undefined;
}

function structuredClone(value, options) {
  needArguments(arguments.length, 1, "structuredClone");
  const memory = new Map();
  const transferred = [];
  if (options !== undefined && options !== null) {
    if (typeof options !== "object" && typeof options !== "function") throw new TypeError("structuredClone: options must be an object");
    if (options.transfer !== undefined) {
      for (const buffer of options.transfer) {
        if (!isArrayBuffer(buffer)) throw dataCloneError("only ArrayBuffers can be transferred");
        if (transferred.includes(buffer)) throw dataCloneError("an ArrayBuffer is listed twice in transfer");
        transferred.push(buffer);
      }
    }
  }
  /** Work left: [source, target, kind] of objects whose contents are still to copy. */
  const work = [];
  const blob = internals.loaded("blob");

  function cloneValue(input) {
    if (typeof input === "symbol") throw dataCloneError("a Symbol cannot be cloned");
    if (typeof input === "function") throw dataCloneError("a function cannot be cloned");
    if (input === null || typeof input !== "object") return input;
    const seen = memory.get(input);
    if (seen !== undefined) return seen;
    const copy = shell(input);
    memory.set(input, copy);
    return copy;
  }

  /** The clone of an object: whole for leaf kinds, empty (and queued) for containers. */
  function shell(input) {
    // Plain objects and arrays first: recognizing the other kinds throws (expensive) for them.
    const proto = Object.getPrototypeOf(input);
    if (proto === Object.prototype || proto === null || Array.isArray(input)) {
      const copy = Array.isArray(input) ? new Array(input.length) : {};
      work.push([input, copy, "object"]);
      return copy;
    }
    if (isArrayBuffer(input)) return apply(abSlice, input, []);
    const kind = typedArrayKind(input);
    if (kind !== undefined) {
      const buffer = cloneValue(apply(taBuffer, input, []));
      return new TYPED_ARRAYS[kind](buffer, apply(taOffset, input, []), apply(taLength, input, []));
    }
    if (isDataView(input)) return new DataView(cloneValue(apply(dvBuffer, input, [])), apply(dvOffset, input, []), apply(dvLength, input, []));
    if (is(dateTime, input)) return new Date(apply(dateTime, input, []));
    if (is(regexpSource, input) && input !== RegExp.prototype) return new RegExp(apply(regexpSource, input, []), apply(regexpFlags, input, []));
    if (is(booleanValue, input)) return Object(apply(booleanValue, input, []));
    if (is(numberValue, input)) return Object(apply(numberValue, input, []));
    if (is(stringValue, input)) return Object(apply(stringValue, input, []));
    if (is(mapHas, input)) {
      const copy = new Map();
      work.push([input, copy, "map"]);
      return copy;
    }
    if (is(setHas, input)) {
      const copy = new Set();
      work.push([input, copy, "set"]);
      return copy;
    }
    if (is(weakMapHas, input) || is(weakSetHas, input)) throw dataCloneError("a WeakMap or WeakSet cannot be cloned");
    if (blob !== undefined && blob.isBlob(input)) {
      return input instanceof blob.File ? new blob.File([input], input.name, { type: input.type, lastModified: input.lastModified }) : input.slice(0, input.size, input.type);
    }
    const tag = apply(objectToString, input, []);
    if (tag === "[object Error]") {
      const name = input.name;
      const copy = new ERRORS[ERROR_NAMES.includes(name) ? name : "Error"]();
      const message = getDescriptor(input, "message");
      if (message !== undefined && "value" in message) defineProperty(copy, "message", { value: String(message.value), writable: true, configurable: true });
      const stack = getDescriptor(input, "stack");
      if (stack !== undefined && "value" in stack) defineProperty(copy, "stack", { value: String(stack.value), writable: true, configurable: true });
      return copy;
    }
    if (tag === "[object DOMException]") {
      const { DOMException } = internals.require("dom");
      return new DOMException(input.message, input.name);
    }
    if (UNCLONEABLE_TAGS.includes(tag.slice(8, -1))) throw dataCloneError("a " + tag.slice(8, -1) + " cannot be cloned");
    const copy = {};
    work.push([input, copy, "object"]);
    return copy;
  }

  function fill(source, target, kind) {
    if (kind === "map") {
      const entries = [];
      for (const entry of apply(mapEntries, source, [])) entries.push(entry);
      for (let i = 0; i < entries.length; i++) target.set(cloneValue(entries[i][0]), cloneValue(entries[i][1]));
    } else if (kind === "set") {
      const values = [];
      for (const item of apply(setValues, source, [])) values.push(item);
      for (let i = 0; i < values.length; i++) target.add(cloneValue(values[i]));
    } else {
      const keys = Object.keys(source);
      for (let i = 0; i < keys.length; i++) {
        defineProperty(target, keys[i], { value: cloneValue(source[keys[i]]), writable: true, enumerable: true, configurable: true });
      }
    }
  }

  const result = cloneValue(value);
  while (work.length > 0) {
    const [source, target, kind] = work.pop();
    fill(source, target, kind);
  }
  // The clones hold copies; the transferred originals are detached, as after a move.
  for (let i = 0; i < transferred.length; i++) apply(abTransfer, transferred[i], []);
  return result;
}
return { structuredClone };
})`;
