/**
 * What a realm does for a script with imports (modules.ts): while it is built, and only
 * then, a module loader serves the script's own module files and the allowed packages it
 * imports, nothing else; after the script's module graph is evaluated (packages run here,
 * once per realm, under the setup limits and the realm's memory limit), every object a
 * package exports, and everything reachable from it, is frozen before any execution runs.
 */
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime } from "quickjs-emscripten-core";
import { packageSource } from "../packages/registry";
import { type LinkedFiles, packageFile } from "./modules";

/** Serves `linked`'s files to QuickJS by the names the linked files import them by. */
export function installModuleLoader(runtime: QuickJSRuntime, linked: LinkedFiles) {
  const packages = new Map(linked.packages.map((name) => [packageFile(name), name]));
  runtime.setModuleLoader(
    (name) => {
      if (Object.hasOwn(linked.modules, name)) return linked.modules[name]!;
      const pkg = packages.get(name);
      const source = pkg === undefined ? undefined : packageSource(pkg);
      return source ?? { error: new Error(`cannot import ${name}`) };
    },
    // Names are used as written: the linked files import exact file names.
    (_base, requested) => requested,
  );
}

/**
 * The guest code that deep-freezes the packages' exports: each namespace's values, their
 * properties (accessors' functions and what they answer) and prototypes, and what the
 * package's classes make (an instance of each, made with no arguments), transitively. Built-ins are frozen
 * already (bootstrap.ts); walking them again is harmless.
 *
 * Classes' prototypes get what SES calls property overrides first: a method on a frozen
 * prototype could not be shadowed by an instance (`this.parse = this.parse.bind(this)` in a
 * constructor throws "read-only" in strict code, the "override mistake"), so each data
 * property of a package's prototype becomes a getter answering the same value and a setter
 * that defines the property on the instance instead; on the prototype itself it still throws.
 */
export function freezeSource(packages: string[]): string {
  const imports = packages.map((name, i) => `import * as p${i} from ${JSON.stringify(packageFile(name))};`).join("\n");
  return `${imports}
const queue = [];
for (const ns of [${packages.map((_, i) => `p${i}`).join(",")}]) for (const key of Reflect.ownKeys(ns)) queue.push(ns[key]);
const reached = new Set();
const prototypes = new Set();
const collections = [];
while (queue.length > 0) {
  const value = queue.pop();
  if ((typeof value !== "object" && typeof value !== "function") || value === null || reached.has(value)) continue;
  reached.add(value);
  queue.push(Object.getPrototypeOf(value));
  // State a package keeps in its closure (internal classes' prototypes, shared tables) is
  // reached through what it hands out: an instance of each class (made with no arguments)
  // and what each getter answers. The instances themselves are thrown away. A method called
  // with new may recurse without end (big.js's \`new this.constructor(this)\`): the realm
  // freezes under a shallow QuickJS stack (realm.ts), so that ends in a caught error.
  if (typeof value === "function" && typeof value.prototype === "object" && value.prototype !== null) try { queue.push(new value()); } catch {}
  if (value instanceof Map) for (const [k, v] of value) queue.push(k, v);
  if (value instanceof Set) for (const v of value) queue.push(v);
  for (const key of Reflect.ownKeys(value)) {
    const d = Object.getOwnPropertyDescriptor(value, key);
    if (d === undefined) continue;
    if ("value" in d) queue.push(d.value);
    else {
      queue.push(d.get, d.set);
      if (d.get) try { queue.push(d.get.call(value)); } catch {}
    }
    if (typeof value === "function" && key === "prototype" && typeof d.value === "object" && d.value !== null && !Object.isFrozen(d.value)) prototypes.add(d.value);
    if ("value" in d && (d.value instanceof Map || d.value instanceof Set) && d.writable && !Object.isFrozen(value)) collections.push([value, key, d.value]);
  }
}
// A frozen Map or Set still takes entries: each one a package keeps on an object becomes a
// read-only view of a private copy (lookup tables such as js-yaml's are only read).
function readOnlyView(collection) {
  const copy = collection instanceof Map ? new Map(collection) : new Set(collection);
  const view = {
    has: (k) => copy.has(k),
    forEach: (f, self) => copy.forEach((v, k) => f.call(self, v, k, view)),
    keys: () => copy.keys(),
    values: () => copy.values(),
    entries: () => copy.entries(),
    [Symbol.iterator]: () => copy[Symbol.iterator](),
    get size() { return copy.size; },
  };
  if (copy instanceof Map) view.get = (k) => copy.get(k);
  for (const key of Reflect.ownKeys(view)) { const d = Object.getOwnPropertyDescriptor(view, key); if ("value" in d) reached.add(d.value); else reached.add(d.get); }
  reached.add(view);
  return view;
}
for (const [holder, key, collection] of collections) {
  reached.delete(collection);
  holder[key] = readOnlyView(collection);
}
function overridable(proto, key, value, enumerable) {
  const get = { [key]() { return value; } }[key];
  const set = { [key](next) {
    if (this === proto) throw new TypeError("'" + String(key) + "' is read-only");
    Object.defineProperty(this, key, { value: next, writable: true, enumerable: true, configurable: true });
  } }[key];
  Object.freeze(get);
  Object.freeze(set);
  Object.defineProperty(proto, key, { get, set, enumerable, configurable: false });
}
for (const proto of prototypes) {
  for (const key of Reflect.ownKeys(proto)) {
    const d = Object.getOwnPropertyDescriptor(proto, key);
    if (d !== undefined && "value" in d && d.configurable) overridable(proto, key, d.value, d.enumerable);
  }
}
for (const value of reached) Object.freeze(value);
for (const proto of prototypes) Object.freeze(proto);`;
}

/** Evaluates the freezing module; answers its result (a namespace or a promise of one) for the caller to settle and check. */
export function evaluateFreeze(context: QuickJSContext, packages: string[]): ReturnType<QuickJSContext["evalCode"]> {
  return context.evalCode(freezeSource(packages), "iota-freeze.js", { type: "module" });
}

export type { QuickJSHandle };
