/**
 * The rest of Workers' and Deno's `console` (group `console`), loaded the first time a
 * script touches one of these methods, so an idle realm does not hold them: `dir`, `table`,
 * `assert`, `count`, `time`, `group` and their kin. They write through the realm's `console`
 * (bootstrap.ts); timers and counters start afresh in every execution, and `group` indents
 * through the bootstrap's `consoleIndent`.
 *
 * No template literals inside (the source is itself one).
 */
export const CONSOLE_SOURCE = String.raw`(function (internals) {
"use strict";
const indent = internals.consoleIndent;
let timers = new Map();
let counts = new Map();
internals.onRun(() => {
  timers = new Map();
  counts = new Map();
});
const now = () => internals.now();
const info = (...args) => Reflect.apply(console.info, undefined, args);
function elapsed(key) {
  return key + ": " + (now() - timers.get(key)) + "ms";
}
function missing(key) {
  console.warn("Timer '" + key + "' does not exist");
}
const methods = {
  dir: function dir(value) { info(value); },
  dirxml: function dirxml(...args) { Reflect.apply(info, undefined, args); },
  table: function table(data) { info(data); },
  assert: function assert(condition, ...args) {
    if (condition) return;
    if (args.length === 0) return console.error("Assertion failed");
    if (typeof args[0] === "string") return Reflect.apply(console.error, undefined, ["Assertion failed: " + args[0], ...args.slice(1)]);
    Reflect.apply(console.error, undefined, ["Assertion failed:", ...args]);
  },
  count: function count(label = "default") {
    const key = String(label);
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    info(key + ": " + n);
  },
  countReset: function countReset(label = "default") { counts.delete(String(label)); },
  time: function time(label = "default") { timers.set(String(label), now()); },
  timeLog: function timeLog(label = "default", ...args) {
    const key = String(label);
    if (!timers.has(key)) return missing(key);
    Reflect.apply(info, undefined, [elapsed(key), ...args]);
  },
  timeEnd: function timeEnd(label = "default") {
    const key = String(label);
    if (!timers.has(key)) return missing(key);
    info(elapsed(key));
    timers.delete(key);
  },
  group: function group(...args) {
    if (args.length > 0) Reflect.apply(info, undefined, args);
    indent.set(indent.get() + "  ");
  },
  groupCollapsed: function groupCollapsed(...args) { Reflect.apply(methods.group, undefined, args); },
  groupEnd: function groupEnd() { indent.set(indent.get().slice(2)); },
};
return methods;
})`;

/** The console methods this group defines (bootstrap.ts makes each an accessor that loads it). */
export const CONSOLE_METHODS = ["dir", "dirxml", "table", "assert", "count", "countReset", "time", "timeLog", "timeEnd", "group", "groupCollapsed", "groupEnd"] as const;
