/**
 * URL and URLSearchParams (group `url`): host-backed. Parsing (IDNA, IPv6, percent-encoding,
 * relative resolution), setters, and application/x-www-form-urlencoded parsing and
 * serialization are the host's WHATWG implementation; the realm-side URL holds the host's
 * answer (its components) and URLSearchParams a list of pairs, so reading a component or a
 * parameter never crosses.
 */
import { type SyncWebFunction, stringArg, webTypeError } from "./channel";

/** Longest URL accepted (Chrome's limit); longer input is an invalid URL without crossing. */
export const MAX_URL_CHARS = 2 * 1024 * 1024;
/** Estimated host work per character of a URL or query, charged to the budget. */
const NS_PER_CHAR = 20;

const SETTABLE = new Set(["protocol", "username", "password", "host", "hostname", "port", "pathname", "search", "hash"]);

/** What the guest keeps of a parsed URL, in this order. */
function record(url: URL): string[] {
  return [url.href, url.origin, url.protocol, url.username, url.password, url.host, url.hostname, url.port, url.pathname, url.search, url.hash];
}

function pairs(value: unknown): [string, string][] {
  if (!Array.isArray(value)) throw webTypeError("the parameters must be a list");
  for (const pair of value) {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== "string" || typeof pair[1] !== "string") throw webTypeError("every parameter must be a pair of strings");
  }
  return value as [string, string][];
}

export const URL_SYNC: Record<string, SyncWebFunction> = {
  /** `[input, base?]` → the URL's components, or null when it does not parse. */
  "url.parse": (args, context) => {
    const input = stringArg(args, 0, "the URL");
    const base = args.length > 1 ? stringArg(args, 1, "the base URL") : undefined;
    context.charge((input.length + (base?.length ?? 0)) * NS_PER_CHAR);
    try {
      return record(base === undefined ? new URL(input) : new URL(input, base));
    } catch {
      return null;
    }
  },
  /** `[href, component, value]` → the components after setting one (a WHATWG setter never throws). */
  "url.set": (args, context) => {
    const href = stringArg(args, 0, "the URL");
    const component = stringArg(args, 1, "the component");
    const value = stringArg(args, 2, "the value");
    if (!SETTABLE.has(component)) throw webTypeError(`${component} cannot be set`);
    context.charge((href.length + value.length) * NS_PER_CHAR);
    const url = new URL(href);
    (url as unknown as Record<string, string>)[component] = value;
    return record(url);
  },
  "params.parse": (args, context) => {
    const query = stringArg(args, 0, "the query");
    context.charge(query.length * NS_PER_CHAR);
    return [...new URLSearchParams(query)];
  },
  "params.serialize": (args, context) => {
    const list = pairs(args[0]);
    let size = 0;
    for (const [name, value] of list) size += name.length + value.length;
    context.charge(size * NS_PER_CHAR);
    return new URLSearchParams(list).toString();
  },
};

export const URL_SOURCE = String.raw`(function (internals) {
"use strict";
const { sync, needArguments } = internals;
const MAX_URL_CHARS = ${MAX_URL_CHARS};
const HREF = 0, ORIGIN = 1, PROTOCOL = 2, USERNAME = 3, PASSWORD = 4, HOST = 5, HOSTNAME = 6, PORT = 7, PATHNAME = 8, SEARCH = 9, HASH = 10;
const toUSV = (value) => String(value).toWellFormed();

/** A URL argument as a USVString, or null when it is longer than any URL accepted (checked before copying it). */
function urlText(value) {
  const text = String(value);
  return text.length > MAX_URL_CHARS ? null : text.toWellFormed();
}
function parse(input, base) {
  const text = urlText(input);
  if (text === null) return null;
  if (base === undefined) return sync("url.parse", [text]);
  const baseText = urlText(base);
  return baseText === null ? null : sync("url.parse", [text, baseText]);
}
function invalid(input) {
  const text = String(input);
  return new TypeError("Invalid URL: " + (text.length > 200 ? text.slice(0, 200) + "…" : text));
}
function parseQuery(search) {
  return search.length <= 1 ? [] : sync("params.parse", [search.slice(1)]);
}

let linkParams, relist, setQuery, isParams;
class URL {
  #record;
  #query = null;
  constructor(url, base) {
    needArguments(arguments.length, 1, "URL");
    const parsed = parse(url, base);
    if (parsed === null) throw invalid(url);
    this.#record = parsed;
  }
  static canParse(url, base) {
    needArguments(arguments.length, 1, "URL.canParse");
    return parse(url, base) !== null;
  }
  static parse(url, base) {
    needArguments(arguments.length, 1, "URL.parse");
    try {
      return new URL(url, base);
    } catch (error) {
      return null;
    }
  }
  #set(component, value) {
    this.#record = sync("url.set", [this.#record[HREF], component, toUSV(value)]);
    if (this.#query !== null && component === "search") relist(this.#query, this.#record[SEARCH]);
  }
  get href() { return this.#record[HREF]; }
  set href(value) {
    const parsed = parse(value);
    if (parsed === null) throw invalid(value);
    this.#record = parsed;
    if (this.#query !== null) relist(this.#query, parsed[SEARCH]);
  }
  get origin() { return this.#record[ORIGIN]; }
  get protocol() { return this.#record[PROTOCOL]; }
  set protocol(value) { this.#set("protocol", value); }
  get username() { return this.#record[USERNAME]; }
  set username(value) { this.#set("username", value); }
  get password() { return this.#record[PASSWORD]; }
  set password(value) { this.#set("password", value); }
  get host() { return this.#record[HOST]; }
  set host(value) { this.#set("host", value); }
  get hostname() { return this.#record[HOSTNAME]; }
  set hostname(value) { this.#set("hostname", value); }
  get port() { return this.#record[PORT]; }
  set port(value) { this.#set("port", value); }
  get pathname() { return this.#record[PATHNAME]; }
  set pathname(value) { this.#set("pathname", value); }
  get search() { return this.#record[SEARCH]; }
  set search(value) { this.#set("search", value); }
  get hash() { return this.#record[HASH]; }
  set hash(value) { this.#set("hash", value); }
  get searchParams() {
    if (this.#query === null) this.#query = linkParams(this, this.#record[SEARCH]);
    return this.#query;
  }
  toString() { return this.#record[HREF]; }
  toJSON() { return this.#record[HREF]; }
  static {
    setQuery = (url, serialized) => {
      url.#record = sync("url.set", [url.#record[HREF], "search", serialized]);
    };
  }
}
Object.defineProperty(URL.prototype, Symbol.toStringTag, { value: "URL", configurable: true });

class URLSearchParams {
  #list = [];
  #url = null;
  constructor(init) {
    if (init === undefined || init === null) return;
    if (typeof init === "object" || typeof init === "function") {
      if (init[Symbol.iterator] !== undefined) {
        for (const pair of init) {
          const items = [];
          for (const item of pair) items.push(toUSV(item));
          if (items.length !== 2) throw new TypeError("URLSearchParams: each pair must have exactly two items");
          this.#list.push([items[0], items[1]]);
        }
      } else {
        for (const key of Reflect.ownKeys(init)) {
          if (typeof key !== "string") continue;
          const descriptor = Reflect.getOwnPropertyDescriptor(init, key);
          if (descriptor !== undefined && descriptor.enumerable) this.#list.push([toUSV(key), toUSV(init[key])]);
        }
      }
      return;
    }
    let text = toUSV(init);
    if (text.charCodeAt(0) === 63) text = text.slice(1);
    if (text.length > 0) this.#list = sync("params.parse", [text]);
  }
  #update() {
    if (this.#url !== null) setQuery(this.#url, this.#serialize());
  }
  #serialize() {
    return this.#list.length === 0 ? "" : sync("params.serialize", [this.#list]);
  }
  get size() { return this.#list.length; }
  append(name, value) {
    needArguments(arguments.length, 2, "URLSearchParams.append");
    this.#list.push([toUSV(name), toUSV(value)]);
    this.#update();
  }
  delete(name, value) {
    needArguments(arguments.length, 1, "URLSearchParams.delete");
    const key = toUSV(name), match = value === undefined ? undefined : toUSV(value);
    this.#list = this.#list.filter((pair) => pair[0] !== key || (match !== undefined && pair[1] !== match));
    this.#update();
  }
  get(name) {
    needArguments(arguments.length, 1, "URLSearchParams.get");
    const key = toUSV(name);
    for (let i = 0; i < this.#list.length; i++) if (this.#list[i][0] === key) return this.#list[i][1];
    return null;
  }
  getAll(name) {
    needArguments(arguments.length, 1, "URLSearchParams.getAll");
    const key = toUSV(name), values = [];
    for (let i = 0; i < this.#list.length; i++) if (this.#list[i][0] === key) values.push(this.#list[i][1]);
    return values;
  }
  has(name, value) {
    needArguments(arguments.length, 1, "URLSearchParams.has");
    const key = toUSV(name), match = value === undefined ? undefined : toUSV(value);
    for (let i = 0; i < this.#list.length; i++) {
      if (this.#list[i][0] === key && (match === undefined || this.#list[i][1] === match)) return true;
    }
    return false;
  }
  set(name, value) {
    needArguments(arguments.length, 2, "URLSearchParams.set");
    const key = toUSV(name), text = toUSV(value);
    const index = this.#list.findIndex((pair) => pair[0] === key);
    if (index < 0) this.#list.push([key, text]);
    else {
      this.#list[index] = [key, text];
      this.#list = this.#list.filter((pair, i) => i <= index || pair[0] !== key);
    }
    this.#update();
  }
  sort() {
    this.#list = this.#list.map((pair, i) => [pair, i]).sort((a, b) => (a[0][0] < b[0][0] ? -1 : a[0][0] > b[0][0] ? 1 : a[1] - b[1])).map((entry) => entry[0]);
    this.#update();
  }
  forEach(callback, thisArg) {
    needArguments(arguments.length, 1, "URLSearchParams.forEach");
    if (typeof callback !== "function") throw new TypeError("URLSearchParams.forEach: the callback must be a function");
    for (let i = 0; i < this.#list.length; i++) Reflect.apply(callback, thisArg, [this.#list[i][1], this.#list[i][0], this]);
  }
  *entries() { for (let i = 0; i < this.#list.length; i++) yield [this.#list[i][0], this.#list[i][1]]; }
  *keys() { for (let i = 0; i < this.#list.length; i++) yield this.#list[i][0]; }
  *values() { for (let i = 0; i < this.#list.length; i++) yield this.#list[i][1]; }
  toString() { return this.#serialize(); }
  static {
    linkParams = (url, search) => {
      const params = new URLSearchParams();
      params.#url = url;
      params.#list = parseQuery(search);
      return params;
    };
    relist = (params, search) => {
      params.#list = parseQuery(search);
    };
    isParams = (value) => value !== null && typeof value === "object" && #list in value;
  }
}
Object.defineProperty(URLSearchParams.prototype, Symbol.iterator, { value: URLSearchParams.prototype.entries, writable: true, configurable: true });
Object.defineProperty(URLSearchParams.prototype, Symbol.toStringTag, { value: "URLSearchParams", configurable: true });

/** For other groups: a URL string resolved and serialized, or null when it does not parse. */
function resolve(input, base) {
  const parsed = parse(input, base);
  return parsed === null ? null : parsed[HREF];
}
return { URL, URLSearchParams, resolve, isParams };
})`;
