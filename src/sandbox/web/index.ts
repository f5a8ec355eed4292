/**
 * The web platform inside the sandbox (API.md §13), as groups: each group is a guest source
 * (a function expression evaluated to the group's exports) and, where the host implements
 * the standard, host-backed functions the guest calls through the boundary (realm.ts):
 * synchronous ones (`sync`) and asynchronous ones (`compute`, not SDK calls).
 *
 * Groups load lazily: the bootstrap defines every global below as an accessor on the
 * global object; the first access in a realm has the host compile that group's source, runs
 * it, freezes what it made and caches it for the realm's later executions. An idle realm so
 * holds none of it until a script uses it.
 */
import { compactSource } from "../source";
import type { AsyncWebFunction, SyncWebFunction } from "./channel";
import { BLOB_SOURCE, FORM_ASYNC, FORM_SYNC } from "./blob";
import { BODY_SOURCE } from "./body";
import { CLONE_SOURCE } from "./clone";
import { CONSOLE_SOURCE } from "./console";
import { CORE_SOURCE } from "./core";
import { CRYPTO_ASYNC, CRYPTO_SOURCE, CRYPTO_SYNC } from "./crypto";
import { ENCODING_SOURCE, ENCODING_SYNC } from "./encoding";
import { DOM_SOURCE, EVENTS_SOURCE } from "./events";
import { FETCH_SOURCE } from "./fetch";
import { HEADERS_SOURCE } from "./headers";
import { TIMERS_SOURCE } from "./timers";
import { URL_SOURCE, URL_SYNC } from "./url";

interface WebGroup {
  source: string;
  /** Globals this group defines (each read as `exports[name]`). */
  globals: readonly string[];
  sync?: Record<string, SyncWebFunction>;
  async?: Record<string, AsyncWebFunction>;
}

const GROUPS: Record<string, WebGroup> = {
  core: { source: CORE_SOURCE, globals: [] },
  dom: { source: DOM_SOURCE, globals: ["DOMException"] },
  events: { source: EVENTS_SOURCE, globals: ["Event", "CustomEvent", "EventTarget", "AbortController", "AbortSignal"] },
  encoding: { source: ENCODING_SOURCE, globals: ["TextEncoder", "TextDecoder", "atob", "btoa"], sync: ENCODING_SYNC },
  url: { source: URL_SOURCE, globals: ["URL", "URLSearchParams"], sync: URL_SYNC },
  timers: { source: TIMERS_SOURCE, globals: ["setTimeout", "setInterval", "clearTimeout", "clearInterval", "queueMicrotask", "performance"] },
  clone: { source: CLONE_SOURCE, globals: ["structuredClone"] },
  crypto: { source: CRYPTO_SOURCE, globals: ["crypto", "CryptoKey"], sync: CRYPTO_SYNC, async: CRYPTO_ASYNC },
  headers: { source: HEADERS_SOURCE, globals: ["Headers"] },
  body: { source: BODY_SOURCE, globals: ["Response"] },
  fetch: { source: FETCH_SOURCE, globals: ["Request", "fetch"] },
  blob: { source: BLOB_SOURCE, globals: ["Blob", "File", "FormData"], sync: FORM_SYNC, async: FORM_ASYNC },
  console: { source: CONSOLE_SOURCE, globals: [] },
};

/** Each web global and the group that defines it. */
export const WEB_GLOBALS: Record<string, string> = Object.fromEntries(
  Object.entries(GROUPS).flatMap(([group, { globals }]) => globals.map((name) => [name, group])),
);

/** Group name → guest source as written (tests check compaction against it). */
export const WEB_RAW_SOURCES: Record<string, string> = Object.fromEntries(Object.entries(GROUPS).map(([name, group]) => [name, group.source]));

/** Group name → guest source, compacted (source.ts). */
export const WEB_SOURCES: Record<string, string> = Object.fromEntries(Object.entries(GROUPS).map(([name, group]) => [name, compactSource(group.source)]));

export const WEB_SYNC_FUNCTIONS: Record<string, SyncWebFunction> = Object.assign({}, ...Object.values(GROUPS).map((group) => group.sync ?? {}));

export const WEB_ASYNC_FUNCTIONS: Record<string, AsyncWebFunction> = Object.assign({}, ...Object.values(GROUPS).map((group) => group.async ?? {}));
