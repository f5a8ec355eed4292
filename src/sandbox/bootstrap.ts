/**
 * The guest half of the sandbox: JavaScript that runs inside each QuickJS realm once,
 * before any script code, and turns a stock QuickJS context into the iota realm:
 *
 * 1. takes away what scripts may not have: `eval`, every Function constructor (reachable
 *    through `constructor` of any function kind), BigInt (its arithmetic runs long native
 *    loops that never check the interrupt), WeakRef/FinalizationRegistry (callbacks that
 *    would outlive an execution), SharedArrayBuffer/Atomics;
 * 2. bounds built-ins whose native loops never check the interrupt: before a large call
 *    they ask the host (`charge`) whether the execution's budget allows it;
 * 3. builds the `iota` and `console` objects from the host's functions; values cross as
 *    JSON strings only, so the host never touches a guest object and vice versa; and the
 *    web platform's globals (URL, fetch, crypto, timers… API.md §13), as accessors on the
 *    global object that load their group on first use (`requireGroup`, see web/index.ts):
 *    its source is compiled by the host, run here with the realm's internals, and hardened
 *    like everything else. Bytes cross as ArrayBuffers, by id (web/channel.ts);
 * 4. replaces `Math.random` (QuickJS seeds its own from the clock, so its outputs can be
 *    predicted) with xoshiro128** seeded from the host's CSPRNG for every execution;
 * 5. hardens the realm: every object reachable from the global object or from syntax is
 *    frozen, so nothing one execution does can be seen by the next. A few properties that
 *    code commonly assigns on instances (`err.name = …`, `obj.toString = …`) become
 *    accessors that define the property on the instance instead (as in Hardened
 *    JavaScript/SES), so freezing does not break ordinary code. The error a write to a
 *    frozen global or built-in raises says why, and what to do instead (`describe`).
 *
 * It returns `{run, describe}`; see `GuestApi`. Kept as a string (not a bundled function)
 * so no build step can inject helpers that would not exist inside the guest. It runs under
 * the interrupt handler and memory limit like any script code (instance.ts).
 */

/** What the bootstrap returns, as handles the host calls. */
export interface GuestApi {
  /**
   * `run(factory, eventJson, ctxJson, seed, bodyBytes, epochStart, callJson)` → a promise of
   * the result as JSON text ("" for undefined); `seed` is four unsigned 32-bit integers,
   * comma-separated, from a CSPRNG; `bodyBytes` caps the bodies a script builds
   * (Request/Response); `epochStart` (epoch ms) is when the execution began, the origin of
   * the guest's clock; `callJson` is what only a handler object gets (API.md §13):
   * `{request: {url, method, headers, body: {$b} | null} | null, env: [names], basePath}`.
   * A fetch handler's Response goes to the host through `host.respond(metaJson, bytes?)`
   * as soon as it is ready; `waitUntil` work is awaited after it.
   */
  run: unknown;
  /** `describe(thrown)` → JSON text `{name, message, stack}` of any thrown value. */
  describe: unknown;
  /** `nextTimer()` → when the earliest pending timer is due (ms since the execution began), or -1. */
  nextTimer: unknown;
  /** `fireTimer(now)` → runs the earliest timer if it is due at `now` (ms since the execution began). */
  fireTimer: unknown;
}

export const BOOTSTRAP_SOURCE = String.raw`(function (host) {
"use strict";
const hostCall = host.call, hostLog = host.log, hostCharge = host.charge;
const hostLoad = host.load, hostRespond = host.respond, hostEnv = host.env;
const sdkNames = JSON.parse(host.names);
const lazyGlobals = JSON.parse(host.globals);

const O = Object;
const { defineProperty, getOwnPropertyDescriptor, getPrototypeOf, freeze, isFrozen, hasOwn } = O;
const { apply, ownKeys } = Reflect;
const JSONparse = JSON.parse, JSONstringify = JSON.stringify;
const StringFn = String, NumberFn = Number, ErrorCtor = Error, TypeErrorCtor = TypeError, RangeErrorCtor = RangeError;
const SetCtor = Set, setHas = Set.prototype.has, setAdd = Set.prototype.add;
const MapCtor = Map, RegExpCtor = RegExp, arrayFrom = Array.from, isView = ArrayBuffer.isView;
const regExpToString = RegExp.prototype.toString;
const MathMin = Math.min, MathLog2 = Math.log2, MathImul = Math.imul;
const stringSlice = String.prototype.slice, stringSplit = String.prototype.split;
const objectToString = O.prototype.toString;
const functionPrototype = Function.prototype;

// ---- 1. what scripts may not have ----
function refusing(what) {
  return function () { throw new TypeErrorCtor(what + " is not available in iota scripts"); };
}
for (const sample of [function () {}, function* () {}, async function () {}, async function* () {}]) {
  const proto = getPrototypeOf(sample);
  const tamed = refusing("code generation from strings (the Function constructor)");
  defineProperty(tamed, "prototype", { value: proto });
  defineProperty(proto, "constructor", { value: tamed, writable: false, enumerable: false, configurable: false });
  if (proto === functionPrototype) defineProperty(globalThis, "Function", { value: tamed, writable: true, enumerable: false, configurable: true });
}
for (const name of ["eval", "BigInt", "BigInt64Array", "BigUint64Array", "WeakRef", "FinalizationRegistry", "SharedArrayBuffer", "Atomics"]) {
  delete globalThis[name];
}
for (const name of ["getBigInt64", "getBigUint64", "setBigInt64", "setBigUint64"]) delete DataView.prototype[name];

// ---- 2. long native loops ask the host first ----
const CHARGE_FLOOR_NS = 200000;
function charge(ns) {
  if (ns >= CHARGE_FLOOR_NS && !hostCharge(ns)) {
    throw new RangeErrorCtor("this operation is too large for the time left in this execution");
  }
}
function lengthOf(value) {
  if (value === null || value === undefined) return 0;
  const n = NumberFn(value.length);
  return n > 0 ? MathMin(n, 9007199254740991) : 0;
}
function sortCost(n, perCompareNs) {
  return n > 1 ? n * MathLog2(n) * perCompareNs : 0;
}
function guard(target, name, cost, after) {
  const original = target[name];
  if (typeof original !== "function") return;
  const wrapped = {
    [name](...args) {
      charge(cost(this, args));
      const result = apply(original, this, args);
      if (after) charge(after(result));
      return result;
    },
  }[name];
  defineProperty(wrapped, "length", { value: original.length });
  const descriptor = getOwnPropertyDescriptor(target, name);
  descriptor.value = wrapped;
  defineProperty(target, name, descriptor);
}
const perItem = (ns) => (self) => lengthOf(self) * ns;
for (const name of ["copyWithin", "every", "fill", "filter", "find", "findIndex", "findLast", "findLastIndex", "flat", "flatMap",
  "forEach", "includes", "indexOf", "join", "lastIndexOf", "map", "reduce", "reduceRight", "reverse", "shift", "slice", "some",
  "splice", "toLocaleString", "toReversed", "toSpliced", "toString", "unshift", "with"]) {
  guard(Array.prototype, name, perItem(30));
}
guard(Array.prototype, "concat", (self, args) => {
  let n = lengthOf(self);
  for (const arg of args) n += lengthOf(arg);
  return n * 30;
});
guard(Array.prototype, "sort", (self) => sortCost(lengthOf(self), 40));
guard(Array.prototype, "toSorted", (self) => sortCost(lengthOf(self), 40));
guard(Array, "from", (self, args) => (args[0] !== null && typeof args[0] === "object" && typeof args[0][Symbol.iterator] !== "function" ? lengthOf(args[0]) * 30 : 0));
const TypedArrayPrototype = getPrototypeOf(Uint8Array.prototype);
for (const name of ["copyWithin", "every", "fill", "filter", "find", "findIndex", "findLast", "findLastIndex", "forEach", "includes",
  "indexOf", "lastIndexOf", "map", "reduce", "reduceRight", "reverse", "slice", "some", "toReversed", "with"]) {
  guard(TypedArrayPrototype, name, perItem(5));
}
guard(TypedArrayPrototype, "join", perItem(40));
guard(TypedArrayPrototype, "toLocaleString", perItem(40));
guard(TypedArrayPrototype, "set", (self, args) => lengthOf(args[0]) * 5);
guard(TypedArrayPrototype, "sort", (self) => sortCost(lengthOf(self), 8));
guard(TypedArrayPrototype, "toSorted", (self) => sortCost(lengthOf(self), 8));
const searchCost = (self, args) => {
  const n = lengthOf(self), m = typeof args[0] === "string" ? args[0].length : 1;
  return n * (m > 1 ? m : 1) * 0.5;
};
for (const name of ["indexOf", "lastIndexOf", "includes", "startsWith", "endsWith"]) guard(String.prototype, name, searchCost);
for (const name of ["replace", "replaceAll"]) {
  guard(String.prototype, name, (self, args) => searchCost(self, args) + lengthOf(self) * 10);
}
guard(String.prototype, "split", (self) => lengthOf(self) * 10);
guard(String.prototype, "normalize", (self) => lengthOf(self) * 60);
for (const name of ["toLowerCase", "toUpperCase", "toLocaleLowerCase", "toLocaleUpperCase", "trim", "trimStart", "trimEnd",
  "isWellFormed", "toWellFormed"]) {
  guard(String.prototype, name, perItem(5));
}
guard(String.prototype, "localeCompare", (self, args) => (lengthOf(self) + lengthOf(args[0])) * 10);
guard(String.prototype, "repeat", (self, args) => lengthOf(self) * NumberFn(args[0]) * 1);
guard(String.prototype, "padStart", (self, args) => NumberFn(args[0]) * 1);
guard(String.prototype, "padEnd", (self, args) => NumberFn(args[0]) * 1);
guard(JSON, "parse", (self, args) => lengthOf(args[0]) * 40);
// JSON.stringify's cost is known only afterwards: it is charged after it ran.
guard(JSON, "stringify", () => 0, (result) => lengthOf(result) * 45);

// ---- 3. iota and console ----
const MAX_LOG_DEPTH = 64, MAX_LOG_NODES = 20000;
/** Whether a value nests deeper than logs show: walked without recursion, so depth cannot overflow a stack. */
function nestsTooDeep(root) {
  const stack = [root, 1], seen = new SetCtor();
  let nodes = 0;
  while (stack.length > 0 && nodes < MAX_LOG_NODES) {
    const depth = stack.pop(), value = stack.pop();
    if (value === null || typeof value !== "object" || apply(setHas, seen, [value])) continue;
    if (depth > MAX_LOG_DEPTH) return true;
    apply(setAdd, seen, [value]);
    nodes++;
    const keys = O.keys(value);
    for (let i = 0; i < keys.length && i < MAX_LOG_NODES; i++) stack.push(value[keys[i]], depth + 1);
  }
  return false;
}
function formatValue(value) {
  if (typeof value === "string") return value;
  if (typeof value === "function") return "[Function " + (StringFn(value.name) || "anonymous") + "]";
  if (typeof value === "symbol") return apply(Symbol.prototype.toString, value, []);
  if (value === null || typeof value !== "object") return StringFn(value);
  if (value instanceof ErrorCtor) {
    const text = StringFn(value.name) + ": " + StringFn(value.message);
    return typeof value.stack === "string" && value.stack !== "" ? text + "\n" + value.stack : text;
  }
  if (value instanceof RegExpCtor) return apply(regExpToString, value, []);
  if (nestsTooDeep(value)) return "[value nested deeper than " + MAX_LOG_DEPTH + " levels]";
  const seen = new SetCtor();
  try {
    // Maps, Sets and typed arrays show their contents (JSON alone shows them as {}).
    const label = value instanceof MapCtor ? "Map(" + value.size + ") " : value instanceof SetCtor ? "Set(" + value.size + ") " : "";
    const text = JSONstringify(value, function (key, v) {
      if (v !== null && typeof v === "object") {
        if (apply(setHas, seen, [v])) return "[Circular]";
        apply(setAdd, seen, [v]);
        if (v instanceof MapCtor) return arrayFrom(v);
        if (v instanceof SetCtor || isView(v)) return arrayFrom(v);
        if (v instanceof RegExpCtor) return apply(regExpToString, v, []);
      }
      return v;
    });
    return text === undefined ? apply(objectToString, value, []) : label + text;
  } catch (error) {
    return apply(objectToString, value, []);
  }
}
/** console's format: a first string argument's %s %d %i %f %o %O %j %c take the next arguments in turn (as in browsers and Node). */
function format(args) {
  let text = "";
  let next = 0;
  if (typeof args[0] === "string" && args.length > 1) {
    const first = args[0];
    next = 1;
    for (let i = 0; i < first.length; i++) {
      const c = first[i];
      if (c !== "%" || i + 1 >= first.length) { text += c; continue; }
      const spec = first[i + 1];
      if (spec === "%") { text += "%"; i++; continue; }
      if (spec !== "s" && spec !== "d" && spec !== "i" && spec !== "f" && spec !== "o" && spec !== "O" && spec !== "j" && spec !== "c") { text += c; continue; }
      i++;
      if (spec === "c") { next++; continue; }
      if (next >= args.length) { text += "%" + spec; continue; }
      const arg = args[next++];
      if (spec === "d" || spec === "i") text += typeof arg === "symbol" ? "NaN" : StringFn(spec === "i" ? Math.trunc(NumberFn(arg)) : NumberFn(arg));
      else if (spec === "f") text += typeof arg === "symbol" ? "NaN" : StringFn(NumberFn(arg));
      else text += formatValue(arg);
    }
  }
  for (let i = next; i < args.length; i++) text += (i === 0 ? "" : " ") + formatValue(args[i]);
  return text;
}

class IotaError extends ErrorCtor {}
defineProperty(IotaError.prototype, "name", { value: "IotaError", writable: true, configurable: true });
function errorClass(name) {
  const C = class extends IotaError {};
  defineProperty(C, "name", { value: name });
  defineProperty(C.prototype, "name", { value: name, writable: true, configurable: true });
  return C;
}
const NonRetriableError = errorClass("NonRetriableError");
const QuotaExceededError = errorClass("QuotaExceededError");
const NetworkPolicyError = errorClass("NetworkPolicyError");
const errorClasses = { QuotaExceededError, NetworkPolicyError, NonRetriableError };

function hostError(error) {
  const C = hasOwn(errorClasses, error.name) ? errorClasses[error.name] : IotaError;
  const e = new C(StringFn(error.message));
  if (C === IotaError && typeof error.name === "string") defineProperty(e, "name", { value: error.name, writable: true, configurable: true });
  return e;
}
function withConveniences(name, value) {
  if (name.slice(0, 5) === "http." && value !== null && typeof value === "object") {
    defineProperty(value, "json", { value: function json() { return JSONparse(this.body); }, enumerable: false });
  }
  return value;
}
function sdkFunction(name) {
  const fn = {
    async [name.slice(name.lastIndexOf(".") + 1)](...args) {
      const reply = JSONparse(await hostCall(name, JSONstringify(args)));
      if (hasOwn(reply, "error")) throw hostError(reply.error);
      return withConveniences(name, reply.ok);
    },
  }[name.slice(name.lastIndexOf(".") + 1)];
  return fn;
}
/** False once the execution's logs are full: later calls cost nothing. Reset by run(). */
let logging = true;
/** Longest log entry sent to the host (the host refuses longer ones); the rest is cut with a marker. */
const MAX_LOG_ENTRY_CHARS = 16 * 1024;
function logger(level) {
  return function (...args) {
    if (!logging) return;
    let text = format(args);
    if (text.length > MAX_LOG_ENTRY_CHARS) text = apply(stringSlice, text, [0, MAX_LOG_ENTRY_CHARS]) + " … [entry truncated]";
    logging = hostLog(level, text);
  };
}

const iota = { NonRetriableError, QuotaExceededError, NetworkPolicyError };
for (const name of sdkNames) {
  const path = name.split(".");
  let target = iota;
  for (let i = 0; i < path.length - 1; i++) {
    if (!hasOwn(target, path[i])) target[path[i]] = {};
    target = target[path[i]];
  }
  target[path[path.length - 1]] = sdkFunction(name);
}
iota.log = { debug: logger("debug"), info: logger("info"), warn: logger("warn"), error: logger("error") };
/**
 * The console of Workers and Deno, its output in the execution's logs. Its other methods
 * (dir, table, assert, count, time, group…) are accessors that load them the first time
 * (web/console.ts), so an idle realm does not hold them; "group" indents what is logged.
 */
let consoleIndent = "";
function indented(level) {
  const write = logger(level);
  return function (...args) {
    if (consoleIndent === "") return apply(write, undefined, args);
    return apply(write, undefined, [consoleIndent + format(args)]);
  };
}
const console = { log: indented("info"), info: indented("info"), debug: indented("debug"), warn: indented("warn"), error: indented("error"), trace: indented("debug") };
for (const name of JSONparse(host.consoleMethods)) {
  defineProperty(console, name, { get: () => requireGroup("console")[name], enumerable: true, configurable: false });
}
defineProperty(globalThis, "iota", { value: iota, writable: false, enumerable: false, configurable: false });
// Workers and Deno name the global object "self" too (libraries look for it).
defineProperty(globalThis, "self", { value: globalThis, writable: false, enumerable: false, configurable: false });
defineProperty(globalThis, "console", { value: console, writable: false, enumerable: false, configurable: false });

// ---- 3b. the web platform: globals whose group loads on first use (web/index.ts) ----
// Kept small: an idle realm pays for what is here. The internals groups get are built by the
// "core" group (web/core.ts) from what coreBase hands it.
const runResets = [() => { consoleIndent = ""; }];
let bodyBytesLimit = 1048576, timers = null, epochStart = 0;
const DateNow = Date.now;
const groups = { __proto__: null }, loadingGroups = { __proto__: null };
/** Freezes what a group made: everything reachable that is not frozen yet (the realm's intrinsics already are). */
const hardenNew = (root) => {
  const queue = [root], seen = new SetCtor();
  while (queue.length > 0) {
    const value = queue.pop();
    if (value === null || (typeof value !== "object" && typeof value !== "function") || isFrozen(value) || apply(setHas, seen, [value])) continue;
    apply(setAdd, seen, [value]);
    freeze(value);
    queue.push(getPrototypeOf(value));
    for (const key of ownKeys(value)) {
      const descriptor = getOwnPropertyDescriptor(value, key);
      if (descriptor === undefined) continue;
      if ("value" in descriptor) queue.push(descriptor.value);
      else queue.push(descriptor.get, descriptor.set);
    }
  }
  return root;
};
const coreBase = () => ({
  host, charge, logger, formatValue, hostError, IotaError, QuotaExceededError, NetworkPolicyError,
  json: { parse: JSONparse, stringify: JSONstringify },
  onRun: (reset) => { runResets.push(reset); },
  consoleIndent: { get: () => consoleIndent, set: (text) => { consoleIndent = StringFn(text); } },
  setTimers: (api) => { if (timers === null) timers = api; },
  bodyBytes: () => bodyBytesLimit,
  // Date.now() is the host's clock without a crossing (a host call in a loop would delay the interrupt).
  now: () => DateNow() - epochStart,
  require: requireGroup,
  loaded: (name) => groups[name],
});
/**
 * A group's exports, loaded on first use: the host compiles the group's source (a function
 * expression; compiling runs nothing), the function runs here with the internals (the core
 * group's exports), and what it made is frozen before anything else can see it.
 */
const requireGroup = (name) => {
  const cached = groups[name];
  if (cached !== undefined) return cached;
  if (loadingGroups[name] === true) throw new TypeErrorCtor("web group " + name + " requires itself while loading");
  const factory = hostLoad(name);
  if (typeof factory !== "function") throw new TypeErrorCtor("the web platform is only available while a script runs");
  loadingGroups[name] = true;
  try {
    const exports = hardenNew(factory(name === "core" ? coreBase() : requireGroup("core")));
    groups[name] = exports;
    return exports;
  } finally {
    loadingGroups[name] = false;
  }
};
for (const name of O.keys(lazyGlobals)) {
  const group = lazyGlobals[name];
  defineProperty(globalThis, name, { get: () => requireGroup(group)[name], enumerable: false, configurable: false });
}

// ---- 4. Math.random from a CSPRNG seed, per execution ----
let s0 = 1, s1 = 2, s2 = 3, s3 = 4;
function rotl(x, k) { return (x << k) | (x >>> (32 - k)); }
/** xoshiro128** (Blackman and Vigna): the next 32 random bits, unsigned. */
function next32() {
  const result = MathImul(rotl(MathImul(s1, 5), 7), 9) >>> 0;
  const t = s1 << 9;
  s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11);
  return result;
}
function reseed(seed) {
  const parts = apply(stringSplit, seed, [","]);
  s0 = NumberFn(parts[0]) | 0; s1 = NumberFn(parts[1]) | 0; s2 = NumberFn(parts[2]) | 0; s3 = NumberFn(parts[3]) | 0;
  if ((s0 | s1 | s2 | s3) === 0) s3 = 1;
}
const random = { random() { return ((next32() >>> 5) * 67108864 + (next32() >>> 6)) / 9007199254740992; } }.random;
defineProperty(Math, "random", { value: random, writable: true, enumerable: false, configurable: true });

// ---- 5. harden ----
/** Values behind the accessors below: reachable only through a getter, so hardened as roots. */
const overridden = [];
function enableOverride(object, name) {
  const descriptor = getOwnPropertyDescriptor(object, name);
  if (!descriptor || !("value" in descriptor) || !descriptor.configurable) return;
  const value = descriptor.value;
  overridden.push(value);
  defineProperty(object, name, {
    get: function () { return value; },
    set: function (next) {
      if (this === object) throw new TypeErrorCtor("Cannot assign to read only property '" + StringFn(name) + "' of a built-in");
      if (hasOwn(this, name)) this[name] = next;
      else defineProperty(this, name, { value: next, writable: true, enumerable: true, configurable: true });
    },
    enumerable: descriptor.enumerable,
    configurable: false,
  });
}
const errorPrototypes = [Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError, AggregateError, InternalError]
  .map((C) => C.prototype);
const overridable = [
  [O.prototype, ["constructor", "toString", "valueOf", "toLocaleString", "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable"]],
  [Array.prototype, ["constructor", "toString", "push", "concat", Symbol.iterator]],
  [functionPrototype, ["constructor", "bind", "toString", "call", "apply"]],
  [Promise.prototype, ["constructor", "then"]],
  [IotaError.prototype, ["name"]],
  ...errorPrototypes.map((p) => [p, ["constructor", "message", "name", "toString"]]),
];
for (const [object, names] of overridable) for (const name of names) enableOverride(object, name);

const roots = [
  globalThis, iota, console, IotaError, ...overridden,
  getPrototypeOf(function* () {}), getPrototypeOf(async function () {}), getPrototypeOf(async function* () {}),
  getPrototypeOf([][Symbol.iterator]()), getPrototypeOf(new Map()[Symbol.iterator]()), getPrototypeOf(new Set()[Symbol.iterator]()),
  getPrototypeOf(""[Symbol.iterator]()), getPrototypeOf(/a/[Symbol.matchAll]("")),
  getPrototypeOf((function* () {})()), getPrototypeOf((async function* () {})()),
  getPrototypeOf([].values().map((x) => x)), getPrototypeOf(Iterator.from({ next() { return { done: true }; } })),
  (function () { return arguments; })(),
];
const hardened = new SetCtor();
const queue = roots.slice();
while (queue.length > 0) {
  const value = queue.pop();
  if (value === null || (typeof value !== "object" && typeof value !== "function") || apply(setHas, hardened, [value])) continue;
  apply(setAdd, hardened, [value]);
  freeze(value);
  queue.push(getPrototypeOf(value));
  for (const key of ownKeys(value)) {
    const descriptor = getOwnPropertyDescriptor(value, key);
    if (descriptor === undefined) continue;
    if ("value" in descriptor) queue.push(descriptor.value);
    else queue.push(descriptor.get, descriptor.set);
  }
}

// ---- per execution ----
/** The handler of the handler object each trigger calls (API.md §13). */
const HANDLER_OF = { __proto__: null, http: "fetch", scheduled: "scheduled", event: "event", manual: "run" };
const HANDLER_NAMES = ["fetch", "scheduled", "event", "run"];
/** The handler names an object has, for messages; reading them may throw (a Proxy, a getter): then none are named. */
function handlerNames(handlers) {
  const names = [];
  try {
    for (let i = 0; i < HANDLER_NAMES.length; i++) if (typeof handlers[HANDLER_NAMES[i]] === "function") names.push(HANDLER_NAMES[i]);
  } catch (error) {
    return "(its handlers could not be read)";
  }
  return names.length === 0 ? "none" : names.join(", ");
}
/** env: the tenant's secrets by name; a value enters the execution when it is read (host.env, not an SDK call). */
function newEnv(names) {
  const env = {};
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    defineProperty(env, name, {
      get() {
        const value = hostEnv(name);
        if (typeof value !== "string") return undefined;
        defineProperty(env, name, { value, writable: true, enumerable: true, configurable: true });
        return value;
      },
      set(value) { defineProperty(env, name, { value, writable: true, enumerable: true, configurable: true }); },
      enumerable: true,
      configurable: true,
    });
  }
  return env;
}
/** Awaits every waitUntil promise, those added meanwhile too; throws the first rejection once all settled. */
async function settleAll(waits) {
  let failed = false, reason;
  for (let i = 0; i < waits.length; i++) {
    try {
      await waits[i];
    } catch (error) {
      if (!failed) { failed = true; reason = error; }
    }
  }
  if (failed) throw reason;
}
/** The Response a fetch handler answered, handed to the host now (the HTTP response leaves before waitUntil work ends). */
function respond(response) {
  const { responseState } = requireGroup("body");
  if (!responseState.isResponse(response)) {
    throw new TypeErrorCtor("the fetch handler must return a Response, not " + (response === null ? "null" : typeof response));
  }
  const out = responseState.toHost(response);
  if (out.status === 0) throw new TypeErrorCtor("the fetch handler returned Response.error()");
  if (out.body === undefined) throw new TypeErrorCtor("the fetch handler returned a Response whose body was already read");
  const source = out.body;
  const meta = { status: out.status, statusText: out.statusText, headers: out.headers, text: source !== null && source.text !== undefined ? source.text : null };
  hostRespond(JSONstringify(meta), source !== null && source.text === undefined ? source.bytes : undefined);
  return out.status;
}
/** Runs the handler object's handler for this trigger: fetch(request, env, ctx), scheduled(controller, …), event(event, …), run(input, …). */
async function runHandlers(handlers, event, ctxData, call) {
  if (handlers === null || typeof handlers !== "object") {
    throw new TypeErrorCtor("the default export must be a function or an object of handlers, not " + (handlers === null ? "null" : typeof handlers));
  }
  const trigger = ctxData.trigger;
  const name = HANDLER_OF[trigger] === undefined ? "run" : HANDLER_OF[trigger];
  const handler = handlers[name];
  if (typeof handler !== "function") {
    throw new TypeErrorCtor("the default export has no " + name + " handler for a" + (trigger === "event" ? "n" : "") + " " + StringFn(trigger) + " run (its handlers: " + handlerNames(handlers) + ")");
  }
  const waits = [];
  const ctx = { ...ctxData, basePath: call.basePath === undefined ? "" : StringFn(call.basePath) };
  ctx.waitUntil = function waitUntil(promise) {
    if (arguments.length < 1) throw new TypeErrorCtor("waitUntil: 1 argument required");
    waits.push(Promise.resolve(promise));
  };
  ctx.passThroughOnException = function passThroughOnException() {};
  const env = newEnv(call.env);
  if (trigger === "http") {
    const request = call.request;
    const bytes = request.body === null ? null : requireGroup("core").take(request.body);
    const input = requireGroup("fetch").requestFromHost(request.url, request.method, request.headers, bytes);
    const status = respond(await apply(handler, handlers, [input, env, ctx]));
    await settleAll(waits);
    return JSONstringify({ status });
  }
  const argument = trigger === "manual" ? (event === null || typeof event !== "object" ? undefined : event.input) : event;
  const result = await apply(handler, handlers, [argument, env, ctx]);
  const json = result === undefined ? undefined : JSONstringify(result);
  await settleAll(waits);
  return json === undefined ? "" : json;
}
function run(factory, eventJson, ctxJson, seed, bodyBytes, startedAt, callJson) {
  logging = true;
  reseed(seed);
  bodyBytesLimit = NumberFn(bodyBytes);
  epochStart = NumberFn(startedAt);
  for (let i = 0; i < runResets.length; i++) runResets[i]();
  return (async function () {
    try {
      const handler = await factory();
      if (typeof handler !== "function") return await runHandlers(handler, JSONparse(eventJson), JSONparse(ctxJson), JSONparse(callJson));
      const ctxData = JSONparse(ctxJson);
      const result = await handler(JSONparse(eventJson), ctxData);
      // A function answering an http request with a Response (the Vercel/Next edge shape) is
      // answered with it, as a fetch handler is; its record keeps the status.
      if (ctxData.trigger === "http" && groups.body !== undefined && groups.body.responseState.isResponse(result)) return JSONstringify({ status: respond(result) });
      const json = result === undefined ? undefined : JSONstringify(result);
      return json === undefined ? "" : json;
    } finally {
      // Timers still pending when the handler settles are dropped (API.md §13).
      for (let i = 0; i < runResets.length; i++) runResets[i]();
    }
  })();
}
const nextTimer = () => (timers === null ? -1 : timers.next());
const fireTimer = (at) => {
  if (timers !== null) timers.fire(at);
};
// QuickJS's words for a write to a frozen object; in iota that is nearly always a global or a built-in.
const FROZEN_WRITE = /^(object is not extensible|'.*' is read-only|could not delete property|no setter for property)$/;
const FROZEN_HINT = " (globals and built-ins are frozen in iota scripts, and each run starts clean: keep state in iota.db)";
function describe(thrown) {
  try {
    if (thrown !== null && typeof thrown === "object" && thrown instanceof ErrorCtor) {
      let message = StringFn(thrown.message);
      if (thrown instanceof TypeErrorCtor && apply(RegExp.prototype.test, FROZEN_WRITE, [message])) message += FROZEN_HINT;
      return JSONstringify({ name: StringFn(thrown.name), message, stack: typeof thrown.stack === "string" ? thrown.stack : "" });
    }
    return JSONstringify({ name: "NonErrorThrown", message: "the script threw a value that is not an Error: " + formatValue(thrown), stack: "" });
  } catch (error) {
    return JSONstringify({ name: "NonErrorThrown", message: "the script threw a value that could not be read", stack: "" });
  }
}
/** Loads web groups ahead (a JSON list of names), while the realm is built: see realm.ts, Realm.create. */
const preload = (namesJson) => {
  const names = JSONparse(namesJson);
  for (let i = 0; i < names.length; i++) requireGroup(names[i]);
};
return freeze({ run: freeze(run), describe: freeze(describe), nextTimer: freeze(nextTimer), fireTimer: freeze(fireTimer), preload: freeze(preload) });
})`;
