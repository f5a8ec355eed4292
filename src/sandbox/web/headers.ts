/**
 * Headers (group `headers`), realm-side: a header list is a small data structure with
 * exactly specified rules (Fetch standard: names are tokens, compared without case; values
 * are byte strings without NUL/CR/LF, with leading and trailing whitespace removed; `get`
 * combines with ", "; iteration is sorted, lower-case, with each Set-Cookie on its own), and
 * reading a request's headers must not cross the boundary. Guards: "immutable" for the
 * headers of a fetched response or a redirect, as in browsers; no forbidden-name list (as
 * in Workers: `fetch` leaves out what the platform sets itself, see http-client.ts).
 */
export const HEADERS_SOURCE = String.raw`(function (internals) {
"use strict";
const { needArguments } = internals;
const TOKEN = /^[!#$%&'*+\-.^_\x60|~0-9A-Za-z]+$/;
const INVALID_VALUE = /[\0\r\n]|[^\0-\xff]/;
const EDGE_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;

function headerName(name) {
  const text = String(name);
  if (!TOKEN.test(text)) throw new TypeError("invalid header name: " + JSON.stringify(text.slice(0, 100)));
  return text.toLowerCase();
}
function headerValue(value) {
  const text = String(value).replace(EDGE_WHITESPACE, "");
  if (INVALID_VALUE.test(text)) throw new TypeError("invalid header value (NUL, CR, LF or a character above U+00FF)");
  return text;
}

let headersState;
class Headers {
  /** Lower-case name → values, in the order they were added; names in insertion order. */
  #map = new Map();
  #immutable = false;
  constructor(init) {
    if (init === undefined || init === null) return;
    if (typeof init !== "object" && typeof init !== "function") throw new TypeError("Headers: init must be an object, an array of pairs or Headers");
    if (#map in init) {
      for (const [name, values] of init.#map) this.#map.set(name, values.slice());
      return;
    }
    if (init[Symbol.iterator] !== undefined) {
      for (const pair of init) {
        const items = [];
        for (const item of pair) items.push(item);
        if (items.length !== 2) throw new TypeError("Headers: each header must be a [name, value] pair");
        this.append(items[0], items[1]);
      }
      return;
    }
    for (const key of Reflect.ownKeys(init)) {
      if (typeof key !== "string") continue;
      const descriptor = Reflect.getOwnPropertyDescriptor(init, key);
      if (descriptor !== undefined && descriptor.enumerable) this.append(key, init[key]);
    }
  }
  #writable() {
    if (this.#immutable) throw new TypeError("these headers are immutable");
  }
  append(name, value) {
    needArguments(arguments.length, 2, "Headers.append");
    const key = headerName(name), text = headerValue(value);
    this.#writable();
    const values = this.#map.get(key);
    if (values === undefined) this.#map.set(key, [text]);
    else values.push(text);
  }
  set(name, value) {
    needArguments(arguments.length, 2, "Headers.set");
    const key = headerName(name), text = headerValue(value);
    this.#writable();
    this.#map.set(key, [text]);
  }
  delete(name) {
    needArguments(arguments.length, 1, "Headers.delete");
    const key = headerName(name);
    this.#writable();
    this.#map.delete(key);
  }
  get(name) {
    needArguments(arguments.length, 1, "Headers.get");
    const values = this.#map.get(headerName(name));
    return values === undefined ? null : values.join(", ");
  }
  getSetCookie() {
    const values = this.#map.get("set-cookie");
    return values === undefined ? [] : values.slice();
  }
  has(name) {
    needArguments(arguments.length, 1, "Headers.has");
    return this.#map.has(headerName(name));
  }
  #sorted() {
    const names = [...this.#map.keys()].sort();
    const out = [];
    for (const name of names) {
      const values = this.#map.get(name);
      if (name === "set-cookie") for (const value of values) out.push([name, value]);
      else out.push([name, values.join(", ")]);
    }
    return out;
  }
  forEach(callback, thisArg) {
    needArguments(arguments.length, 1, "Headers.forEach");
    if (typeof callback !== "function") throw new TypeError("Headers.forEach: the callback must be a function");
    for (const [name, value] of this.#sorted()) Reflect.apply(callback, thisArg, [value, name, this]);
  }
  *entries() { yield* this.#sorted(); }
  *keys() { for (const pair of this.#sorted()) yield pair[0]; }
  *values() { for (const pair of this.#sorted()) yield pair[1]; }
  static {
    headersState = {
      isHeaders: (value) => value !== null && typeof value === "object" && #map in value,
      freeze(headers) { headers.#immutable = true; return headers; },
      /** A copy with the same guard (Request/Response clone). */
      copy(headers) {
        const copy = new Headers(headers);
        copy.#immutable = headers.#immutable;
        return copy;
      },
      /** Every header as [name, value], Set-Cookie one by one (what goes on the wire). */
      list(headers) { return headers.#sorted(); },
      /** A header set by the platform, bypassing the guard (content-type of a body). */
      setDefault(headers, name, value) { if (!headers.#map.has(name)) headers.#map.set(name, [value]); },
      /** Headers from a trusted list of pairs (the host's answer): no validation. */
      fromList(list) {
        const headers = new Headers();
        for (const [name, value] of list) {
          const key = String(name).toLowerCase(), values = headers.#map.get(key);
          if (values === undefined) headers.#map.set(key, [String(value)]);
          else values.push(String(value));
        }
        return headers;
      },
    };
  }
}
Object.defineProperty(Headers.prototype, Symbol.iterator, { value: Headers.prototype.entries, writable: true, configurable: true });
Object.defineProperty(Headers.prototype, Symbol.toStringTag, { value: "Headers", configurable: true });
return { Headers, headersState };
})`;
