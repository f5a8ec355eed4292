/**
 * Timers, `queueMicrotask` and `performance` (group `timers`), realm-side: the queue of
 * pending timers lives in the guest; the host only asks when the earliest is due
 * (`nextTimer`) and tells the guest to fire it (`fireTimer`) from realm.ts's drive loop, on
 * the guest's clock (`internals.now()`: Date.now() since the execution began, which the host
 * reads too).
 *
 * As in browsers (HTML "timer initialization steps"): delays are WebIDL `long`s clamped to
 * ≥ 0, and a timer scheduled from a timer nested more than 5 deep waits at least 4 ms, so
 * `setInterval(fn, 0)` idles the host between runs instead of spinning it. Timers due at
 * the same time fire in the order they were set; microtasks run after each. No code
 * strings. At most 1000 pending timers (iota's QuotaExceededError past it). Everything is
 * dropped when the handler settles, and at the start of every execution.
 */

export const MAX_PENDING_TIMERS = 1000;

export const TIMERS_SOURCE = String.raw`(function (internals) {
"use strict";
const MAX_PENDING = ${MAX_PENDING_TIMERS};
const apply = Reflect.apply;
const { QuotaExceededError } = internals.errors;

/** Pending timers sorted by (due, seq); by id for clearing. */
let queue = [];
let byId = new Map();
let nextId = 1;
let seq = 0;
/** The running timer task's nesting level; 0 outside a timer task. */
let nesting = 0;
internals.onRun(() => {
  queue = [];
  byId = new Map();
  nextId = 1;
  seq = 0;
  nesting = 0;
});

function insert(timer) {
  let lo = 0, hi = queue.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const other = queue[mid];
    if (other.due < timer.due || (other.due === timer.due && other.seq < timer.seq)) lo = mid + 1;
    else hi = mid;
  }
  queue.splice(lo, 0, timer);
}
function clampedDelay(timeout, level) {
  return level > 5 && timeout < 4 ? 4 : timeout;
}
function arm(timer) {
  timer.due = internals.now() + clampedDelay(timer.timeout, nesting);
  timer.seq = seq++;
  timer.nesting = nesting + 1;
  insert(timer);
}
function start(callback, delay, args, repeat, what) {
  if (typeof callback !== "function") {
    throw new TypeError(what + ": the callback must be a function (code strings are not run in iota scripts)");
  }
  let timeout = Number(delay) | 0;
  if (timeout < 0) timeout = 0;
  if (byId.size >= MAX_PENDING) throw new QuotaExceededError("more than " + MAX_PENDING + " pending timers in one execution");
  const timer = { id: nextId++, callback, args, timeout, repeat, due: 0, seq: 0, nesting: 0 };
  byId.set(timer.id, timer);
  arm(timer);
  return timer.id;
}
function stop(id) {
  const key = Number(id);
  const timer = byId.get(key);
  if (timer === undefined) return;
  byId.delete(key);
  const index = queue.indexOf(timer);
  if (index >= 0) queue.splice(index, 1);
}

internals.setTimers({
  next() {
    // Called by the host once the jobs of the last task ran: whatever runs next is a new task.
    nesting = 0;
    return queue.length > 0 ? queue[0].due : -1;
  },
  fire(at) {
    const timer = queue[0];
    if (timer === undefined || timer.due > at) return;
    queue.shift();
    if (!timer.repeat) byId.delete(timer.id);
    nesting = timer.nesting;
    try {
      apply(timer.callback, globalThis, timer.args);
    } catch (error) {
      internals.report("a timer callback", error);
    }
    if (timer.repeat && byId.get(timer.id) === timer) arm(timer);
  },
});

function setTimeout(callback, delay, ...args) {
  return start(callback, delay, args, false, "setTimeout");
}
function setInterval(callback, delay, ...args) {
  return start(callback, delay, args, true, "setInterval");
}
function clearTimeout(id) {
  stop(id);
}
function clearInterval(id) {
  stop(id);
}
function queueMicrotask(callback) {
  if (typeof callback !== "function") throw new TypeError("queueMicrotask: the callback must be a function");
  Promise.resolve().then(() => {
    try {
      callback();
    } catch (error) {
      internals.report("a microtask", error);
    }
  });
}
const performance = {
  now() {
    return internals.now();
  },
  get timeOrigin() {
    return Date.now() - internals.now();
  },
  toJSON() {
    return { timeOrigin: this.timeOrigin };
  },
};
Object.defineProperty(performance, Symbol.toStringTag, { value: "Performance" });

/** For AbortSignal.timeout: a timer that counts toward the limit like any other. */
function schedule(callback, delay) {
  return start(callback, delay, [], false, "AbortSignal.timeout");
}
return { setTimeout, setInterval, clearTimeout, clearInterval, queueMicrotask, performance, schedule };
})`;
