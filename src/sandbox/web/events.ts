/**
 * Realm-side web classes with no host counterpart worth crossing for: DOMException (group
 * `dom`, needed by every group's errors) and Event, CustomEvent, EventTarget, AbortController, AbortSignal
 * (group `events`). Plain WHATWG DOM semantics for targets without a tree: no capture or
 * bubbling path, listeners run in order, a listener's exception is reported in the
 * execution's logs and does not stop the others.
 *
 * Sources are function expressions `(function (internals) {…})` returning the group's
 * exports; see web/index.ts for how they are loaded, and bootstrap.ts for `internals`.
 * No template literals inside (the source is itself one).
 */

export const DOM_SOURCE = String.raw`(function (internals) {
"use strict";
const CODES = { IndexSizeError: 1, HierarchyRequestError: 3, WrongDocumentError: 4, InvalidCharacterError: 5,
  NoModificationAllowedError: 7, NotFoundError: 8, NotSupportedError: 9, InvalidStateError: 11, SyntaxError: 12,
  InvalidModificationError: 13, NamespaceError: 14, InvalidAccessError: 15, TypeMismatchError: 17, SecurityError: 18,
  NetworkError: 19, AbortError: 20, URLMismatchError: 21, QuotaExceededError: 22, TimeoutError: 23,
  InvalidNodeTypeError: 24, DataCloneError: 25 };
const CONSTANTS = { INDEX_SIZE_ERR: 1, DOMSTRING_SIZE_ERR: 2, HIERARCHY_REQUEST_ERR: 3, WRONG_DOCUMENT_ERR: 4,
  INVALID_CHARACTER_ERR: 5, NO_DATA_ALLOWED_ERR: 6, NO_MODIFICATION_ALLOWED_ERR: 7, NOT_FOUND_ERR: 8,
  NOT_SUPPORTED_ERR: 9, INUSE_ATTRIBUTE_ERR: 10, INVALID_STATE_ERR: 11, SYNTAX_ERR: 12, INVALID_MODIFICATION_ERR: 13,
  NAMESPACE_ERR: 14, INVALID_ACCESS_ERR: 15, VALIDATION_ERR: 16, TYPE_MISMATCH_ERR: 17, SECURITY_ERR: 18,
  NETWORK_ERR: 19, ABORT_ERR: 20, URL_MISMATCH_ERR: 21, QUOTA_EXCEEDED_ERR: 22, TIMEOUT_ERR: 23,
  INVALID_NODE_TYPE_ERR: 24, DATA_CLONE_ERR: 25 };
class DOMException extends Error {
  #name;
  #message;
  constructor(message, name) {
    super();
    this.#message = message === undefined ? "" : String(message);
    this.#name = name === undefined ? "Error" : String(name);
  }
  get name() { return this.#name; }
  get message() { return this.#message; }
  get code() { return Object.hasOwn(CODES, this.#name) ? CODES[this.#name] : 0; }
}
for (const key of Object.keys(CONSTANTS)) {
  Object.defineProperty(DOMException, key, { value: CONSTANTS[key], enumerable: true });
  Object.defineProperty(DOMException.prototype, key, { value: CONSTANTS[key], enumerable: true });
}
Object.defineProperty(DOMException.prototype, Symbol.toStringTag, { value: "DOMException", configurable: true });
return { DOMException };
})`;

export const EVENTS_SOURCE = String.raw`(function (internals) {
"use strict";
const { DOMException } = internals.require("dom");
const apply = Reflect.apply;
const needArguments = internals.needArguments;

let eventState;
class Event {
  #type;
  #bubbles = false;
  #cancelable = false;
  #composed = false;
  #canceled = false;
  #stop = false;
  #stopImmediate = false;
  #inPassive = false;
  #dispatching = false;
  #target = null;
  #currentTarget = null;
  #phase = 0;
  #timeStamp;
  constructor(type, init) {
    needArguments(arguments.length, 1, "Event");
    this.#type = String(type);
    if (init !== undefined && init !== null) {
      if (typeof init !== "object" && typeof init !== "function") throw new TypeError("Event: the options must be an object");
      this.#bubbles = Boolean(init.bubbles);
      this.#cancelable = Boolean(init.cancelable);
      this.#composed = Boolean(init.composed);
    }
    this.#timeStamp = internals.now();
  }
  get type() { return this.#type; }
  get target() { return this.#target; }
  get srcElement() { return this.#target; }
  get currentTarget() { return this.#currentTarget; }
  get eventPhase() { return this.#phase; }
  get bubbles() { return this.#bubbles; }
  get cancelable() { return this.#cancelable; }
  get composed() { return this.#composed; }
  get defaultPrevented() { return this.#canceled; }
  get isTrusted() { return false; }
  get timeStamp() { return this.#timeStamp; }
  get returnValue() { return !this.#canceled; }
  set returnValue(value) { if (!value) this.preventDefault(); }
  get cancelBubble() { return this.#stop; }
  set cancelBubble(value) { if (value) this.#stop = true; }
  composedPath() { return this.#currentTarget === null ? [] : [this.#currentTarget]; }
  preventDefault() { if (this.#cancelable && !this.#inPassive) this.#canceled = true; }
  stopPropagation() { this.#stop = true; }
  stopImmediatePropagation() { this.#stop = true; this.#stopImmediate = true; }
  static {
    eventState = {
      isEvent: (value) => value !== null && typeof value === "object" && #type in value,
      begin(event, target) {
        if (event.#dispatching) throw new DOMException("the event is already being dispatched", "InvalidStateError");
        event.#dispatching = true;
        event.#target = target;
        event.#currentTarget = target;
        event.#phase = 2;
        event.#stop = false;
        event.#stopImmediate = false;
      },
      passive(event, on) { event.#inPassive = on; },
      stoppedImmediately: (event) => event.#stopImmediate,
      end(event) {
        event.#dispatching = false;
        event.#currentTarget = null;
        event.#phase = 0;
        event.#inPassive = false;
        return !event.#canceled;
      },
    };
  }
}
for (const [name, value] of [["NONE", 0], ["CAPTURING_PHASE", 1], ["AT_TARGET", 2], ["BUBBLING_PHASE", 3]]) {
  Object.defineProperty(Event, name, { value, enumerable: true });
  Object.defineProperty(Event.prototype, name, { value, enumerable: true });
}

function flattenOptions(options) {
  if (options === undefined || options === null) return { capture: false };
  if (typeof options !== "object" && typeof options !== "function") return { capture: Boolean(options) };
  return { capture: Boolean(options.capture), once: Boolean(options.once), passive: Boolean(options.passive), signal: options.signal };
}

let addAbortAlgorithm;
let removeListener;
class EventTarget {
  #listeners = null;
  addEventListener(type, callback, options) {
    needArguments(arguments.length, 2, "addEventListener");
    const flags = flattenOptions(options);
    const name = String(type);
    if (callback === null || callback === undefined) return;
    if (typeof callback !== "function" && typeof callback !== "object") throw new TypeError("addEventListener: the listener must be a function or an object");
    const signal = flags.signal;
    if (signal !== undefined && !isSignal(signal)) throw new TypeError("addEventListener: signal must be an AbortSignal");
    if (signal !== undefined && signal.aborted) return;
    if (this.#listeners === null) this.#listeners = new Map();
    let list = this.#listeners.get(name);
    if (list === undefined) {
      list = [];
      this.#listeners.set(name, list);
    }
    for (let i = 0; i < list.length; i++) if (list[i].callback === callback && list[i].capture === flags.capture) return;
    const entry = { callback, capture: flags.capture, once: flags.once === true, passive: flags.passive === true, removed: false };
    list.push(entry);
    if (signal !== undefined) addAbortAlgorithm(signal, () => removeListener(this, name, entry));
  }
  removeEventListener(type, callback, options) {
    needArguments(arguments.length, 2, "removeEventListener");
    const capture = flattenOptions(options).capture;
    const list = this.#listeners === null ? undefined : this.#listeners.get(String(type));
    if (list === undefined) return;
    for (let i = 0; i < list.length; i++) {
      if (list[i].callback === callback && list[i].capture === capture) {
        removeListener(this, String(type), list[i]);
        return;
      }
    }
  }
  dispatchEvent(event) {
    needArguments(arguments.length, 1, "dispatchEvent");
    if (!eventState.isEvent(event)) throw new TypeError("dispatchEvent: the argument must be an Event");
    eventState.begin(event, this);
    let notCanceled = true;
    try {
      const list = this.#listeners === null ? undefined : this.#listeners.get(event.type);
      if (list !== undefined) {
        const snapshot = list.slice();
        for (let i = 0; i < snapshot.length; i++) {
          const entry = snapshot[i];
          if (entry.removed) continue;
          if (entry.once) removeListener(this, event.type, entry);
          eventState.passive(event, entry.passive);
          try {
            if (typeof entry.callback === "function") apply(entry.callback, this, [event]);
            else {
              const handleEvent = entry.callback.handleEvent;
              if (typeof handleEvent !== "function") throw new TypeError("the listener has no handleEvent method");
              apply(handleEvent, entry.callback, [event]);
            }
          } catch (error) {
            internals.report("an event listener", error);
          }
          eventState.passive(event, false);
          if (eventState.stoppedImmediately(event)) break;
        }
      }
    } finally {
      notCanceled = eventState.end(event);
    }
    return notCanceled;
  }
  static {
    removeListener = (target, type, entry) => {
      entry.removed = true;
      const list = target.#listeners === null ? undefined : target.#listeners.get(type);
      if (list === undefined) return;
      const index = list.indexOf(entry);
      if (index >= 0) list.splice(index, 1);
    };
  }
}

const dispatch = EventTarget.prototype.dispatchEvent;
const token = {};
let isSignal;
let signalAbort;
let newSignal;
class AbortSignal extends EventTarget {
  #aborted = false;
  #reason = undefined;
  #algorithms = [];
  #handler = null;
  constructor(key) {
    if (key !== token) throw new TypeError("Illegal constructor: use new AbortController().signal, AbortSignal.abort() or AbortSignal.timeout()");
    super();
  }
  get aborted() { return this.#aborted; }
  get reason() { return this.#reason; }
  throwIfAborted() { if (this.#aborted) throw this.#reason; }
  get onabort() { return this.#handler === null ? null : this.#handler.current; }
  set onabort(value) {
    const handler = typeof value === "function" || (value !== null && typeof value === "object") ? value : null;
    if (this.#handler === null) {
      if (handler === null) return;
      const slot = { current: handler };
      this.#handler = slot;
      super.addEventListener("abort", function (event) {
        if (typeof slot.current === "function") return apply(slot.current, this, [event]);
      });
    } else {
      this.#handler.current = handler;
    }
  }
  static abort(reason) {
    const signal = newSignal();
    signalAbort(signal, reason);
    return signal;
  }
  static timeout(milliseconds) {
    needArguments(arguments.length, 1, "AbortSignal.timeout");
    const ms = Number(milliseconds);
    if (!Number.isFinite(ms) || ms < 0 || ms > 9007199254740991) throw new TypeError("AbortSignal.timeout: the delay must be a finite number of milliseconds, at least 0");
    const signal = newSignal();
    internals.require("timers").schedule(() => signalAbort(signal, new DOMException("The operation was aborted due to timeout", "TimeoutError")), Math.trunc(ms));
    return signal;
  }
  static any(signals) {
    needArguments(arguments.length, 1, "AbortSignal.any");
    const sources = [];
    for (const source of signals) {
      if (!isSignal(source)) throw new TypeError("AbortSignal.any: every item must be an AbortSignal");
      sources.push(source);
    }
    const signal = newSignal();
    for (let i = 0; i < sources.length; i++) {
      if (sources[i].#aborted) {
        signalAbort(signal, sources[i].#reason);
        return signal;
      }
    }
    for (let i = 0; i < sources.length; i++) {
      const source = sources[i];
      source.#algorithms.push(() => signalAbort(signal, source.#reason));
    }
    return signal;
  }
  static {
    isSignal = (value) => value !== null && typeof value === "object" && #aborted in value;
    newSignal = () => new AbortSignal(token);
    addAbortAlgorithm = (signal, algorithm) => {
      if (!signal.#aborted) signal.#algorithms.push(algorithm);
    };
    signalAbort = (signal, reason) => {
      if (signal.#aborted) return;
      signal.#aborted = true;
      signal.#reason = reason === undefined ? new DOMException("This operation was aborted", "AbortError") : reason;
      const algorithms = signal.#algorithms;
      signal.#algorithms = [];
      for (let i = 0; i < algorithms.length; i++) {
        try {
          algorithms[i]();
        } catch (error) {
          internals.report("an abort algorithm", error);
        }
      }
      apply(dispatch, signal, [new Event("abort")]);
    };
  }
}
Object.defineProperty(AbortSignal.prototype, Symbol.toStringTag, { value: "AbortSignal", configurable: true });

class AbortController {
  #signal = newSignal();
  get signal() { return this.#signal; }
  abort(reason) { signalAbort(this.#signal, reason); }
}
Object.defineProperty(EventTarget.prototype, Symbol.toStringTag, { value: "EventTarget", configurable: true });
Object.defineProperty(Event.prototype, Symbol.toStringTag, { value: "Event", configurable: true });
Object.defineProperty(AbortController.prototype, Symbol.toStringTag, { value: "AbortController", configurable: true });

// For other groups (fetch): not globals.
const signals = { isSignal, newSignal, signalAbort, addAbortAlgorithm };
class CustomEvent extends Event {
  #detail;
  constructor(type, init) {
    needArguments(arguments.length, 1, "CustomEvent");
    super(type, init);
    this.#detail = init !== undefined && init !== null && init.detail !== undefined ? init.detail : null;
  }
  get detail() { return this.#detail; }
}
Object.defineProperty(CustomEvent.prototype, Symbol.toStringTag, { value: "CustomEvent", configurable: true });
return { Event, CustomEvent, EventTarget, AbortController, AbortSignal, signals };
})`;
