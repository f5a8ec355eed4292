/**
 * The iota SDK, as a script sees it: the globals `iota` and `console`, and the shapes of a
 * script's `event` and `ctx`. The single source for script authors, the editor's
 * IntelliSense and docs/sdk.md.
 *
 * A script is an ES module that default-exports a function (no imports), or a Workers-style
 * handler object (`Iota.ExportedHandler`: `{ fetch(request, env, ctx) {…} }`, API.md §13):
 *
 * ```js
 * /** @param {Iota.HttpEvent} event @param {Iota.Context} ctx *\/
 * export default async function (event, ctx) {
 *   iota.log.info("got", event.method, event.path);
 *   return { hello: event.params.name };
 * }
 * ```
 *
 * Everything crosses the sandbox boundary as JSON: arguments and results are copied, never
 * shared, and values JSON cannot hold (functions, undefined in arrays…) are dropped.
 *
 * Beside `iota` and `console`, scripts have the web platform's globals (API.md §13), declared
 * at the end of this file: URL, URLSearchParams, TextEncoder, TextDecoder, atob, btoa,
 * structuredClone, crypto (getRandomValues, randomUUID, subtle), fetch, Request, Response,
 * Headers, FormData, Blob, File, AbortController, AbortSignal, timers, queueMicrotask,
 * performance, Event, EventTarget, DOMException.
 */

declare namespace Iota {
  /** A JSON value: what can cross into and out of the sandbox. */
  type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

  type Trigger = "http" | "event" | "scheduled" | "manual";

  /** The second argument of every script. */
  interface Context {
    /** This execution's id (`exe_…`), as listed by `GET /api/executions`. */
    executionId: string;
    scriptId: string;
    /** The script version that runs. */
    version: number;
    /** The tenant's slug. */
    tenant: string;
    trigger: Trigger;
    /** 1 for the first attempt; event deliveries count their retries. A replayed delivery starts at 1 again. */
    attempt: number;
    /** Epoch milliseconds by which the execution must end. */
    deadline: number;
  }

  /** The event of a script run by `ANY /t/:tenant/<path>`. */
  interface HttpEvent {
    method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS";
    /** The path after `/t/:tenant`, starting with `/`, without the query string. */
    path: string;
    /** Values of the route's `:name` parameters (and `*` for a trailing wildcard). */
    params: Record<string, string>;
    /** Query parameters; repeated keys become arrays. */
    query: Record<string, string | string[]>;
    /** Request headers, lower-case names. */
    headers: Record<string, string>;
    /** Parsed JSON for a JSON content type, else the text; null without a body. */
    body: Json;
    /** The body as received, UTF-8 decoded ("" without a body): what a signature is computed over. Use the handler object's `request` for binary bodies. */
    rawBody: string;
  }

  /**
   * What an http script may return. With `status` or `body`: `{status = 200, headers, body}`,
   * an object body sent as JSON, a string as text. `undefined` answers 204; any other value
   * is sent as JSON with 200.
   */
  interface HttpResponse {
    status?: number;
    headers?: Record<string, string | number | string[]>;
    body?: Json;
  }

  /** The event of a script run by a published event. */
  interface EventEvent<P extends Json = Json> {
    id: string;
    type: string;
    payload: P;
    /** ISO 8601. */
    publishedAt: string;
    /** Who published it: `api`, `queue`, or `script:<scriptId>:<executionId>`. */
    source: string;
  }

  /** The event of a scheduled script. */
  interface ScheduledEvent {
    /** ISO 8601: the minute this run is for. */
    scheduledTime: string;
    cron: string;
  }

  /** The event of a script run by hand (`POST /api/scripts/:id/run`). */
  interface ManualEvent<I extends Json = Json> {
    input: I;
  }

  type Handler<E, R = unknown> = (event: E, ctx: Context) => R | Promise<R>;

  /**
   * A handler object's `env` (API.md §13): the tenant's secrets by name (`env.WEBHOOK_SECRET`).
   * Reading one is not an SDK call; its value is redacted from logs and records, as
   * `iota.secrets.get` values are. A name the tenant has no secret for reads `undefined`.
   */
  interface Env {
    readonly [name: string]: string | undefined;
  }

  /** A handler object's `ctx`: the function form's context, plus what Workers code expects. */
  interface ExecutionContext extends Context {
    /** `/t/<slug>` at `/t/<slug>/…`, `""` on the tenant's own host (`<slug>.<TENANT_DOMAIN>`). */
    basePath: string;
    /**
     * Work that goes on after the response left, inside this execution: the same deadline and
     * limits, its logs and errors in the execution's record (a rejection marks it failed; the
     * response stands). The record ends when every such promise has settled.
     */
    waitUntil(promise: Promise<unknown>): void;
    /** A no-op, for Workers code that calls it: there is no origin to pass through to. */
    passThroughOnException(): void;
  }

  /** A scheduled run's controller (`scheduled(controller, env, ctx)`). */
  interface ScheduledController {
    /** ISO 8601: the minute this run is for. */
    scheduledTime: string;
    cron: string;
  }

  /**
   * The Workers-style handler object a script may default-export instead of a function
   * (API.md §13): one handler per trigger. An http script needs `fetch`; a manual run needs
   * `run` (without it the run is refused with a 400 naming the handlers the object has).
   */
  interface ExportedHandler<E extends Env = Env> {
    /** An http request, as a web `Request` (URL as received, raw body); answers a `Response`. */
    fetch?(request: Request, env: E, ctx: ExecutionContext): Response | Promise<Response>;
    scheduled?(controller: ScheduledController, env: E, ctx: ExecutionContext): unknown;
    event?(event: EventEvent, env: E, ctx: ExecutionContext): unknown;
    /** A manual run (`POST /api/scripts/:id/run`): `input` is the run's input. */
    run?(input: Json, env: E, ctx: ExecutionContext): unknown;
  }

  /** A document id: a string of 1 to 200 characters, or an integer. */
  type DocumentId = string | number;

  /** A stored document: any JSON object, with its `id`. */
  type Document<T extends { [key: string]: Json } = { [key: string]: Json }> = T & { id: DocumentId };

  type Primitive = string | number | boolean | null;

  /** A condition on one field: a value for equality, or operators. */
  type Condition =
    | Primitive
    | {
        $gt?: string | number;
        $gte?: string | number;
        $lt?: string | number;
        $lte?: string | number;
        $ne?: Primitive;
        /** 1 to 100 values. */
        $in?: Primitive[];
        /** SQL LIKE: `%` any run, `_` one character; case-insensitive for ASCII. */
        $like?: string;
      };

  /** Field names, dotted for nested fields (`"address.city"`). */
  type Where = Record<string, Condition>;

  interface QueryOptions {
    where?: Where;
    /** `"field"`, `"-field"` (descending) or an array of those; by default, insertion order. */
    orderBy?: string | string[];
    /** Default 100, at most 1000. */
    limit?: number;
    offset?: number;
  }

  interface Db {
    /**
     * Documents of a collection matching `where`.
     * @example const admins = await iota.db.query("users", { where: { role: "admin", age: { $gte: 18 } }, orderBy: "-createdAt", limit: 10 });
     */
    query<T extends { [key: string]: Json } = { [key: string]: Json }>(collection: string, options?: QueryOptions): Promise<Document<T>[]>;
    /** One document by id, or null. */
    get<T extends { [key: string]: Json } = { [key: string]: Json }>(collection: string, id: DocumentId): Promise<Document<T> | null>;
    /**
     * Stores a document; a given `id` is kept (ConflictError when taken), otherwise one is made.
     * @example const order = await iota.db.insert("orders", { total: 42, status: "new" }); // order.id === "doc_…"
     */
    insert<T extends { [key: string]: Json }>(collection: string, doc: T & { id?: DocumentId }): Promise<Document<T>>;
    /** JSON merge patch: given fields change, `null` removes one, nested objects merge. The merged document, or null when there is none. */
    update<T extends { [key: string]: Json } = { [key: string]: Json }>(collection: string, id: DocumentId, patch: { [key: string]: Json }): Promise<Document<T> | null>;
    /** True when a document was deleted. */
    delete(collection: string, id: DocumentId): Promise<boolean>;
    count(collection: string, options?: { where?: Where }): Promise<number>;
  }

  interface FetchOptions {
    method?: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS";
    headers?: Record<string, string>;
    /** A string is sent as is; anything else as JSON (with `content-type: application/json`). */
    body?: Json;
    /** Default 10 000, never past the execution's own deadline. */
    timeoutMs?: number;
  }

  interface HttpResult {
    status: number;
    /** Lower-case names. */
    headers: Record<string, string>;
    /** The body as text (at most 1 MiB). */
    body: string;
    /** The URL that answered, after redirects. */
    url: string;
    redirected: boolean;
    /** The body parsed as JSON. */
    json<T = Json>(): T;
  }

  interface Http {
    /**
     * An outbound request: http(s) to public hosts only (NetworkPolicyError otherwise, before
     * any connection), redirects followed and re-checked (at most 5), body at most 1 MiB
     * (ResponseTooLargeError), TimeoutError past `timeoutMs`.
     * @example const res = await iota.http.fetch("https://api.example.com/items", { method: "PUT", body: { name: "x" } });
     */
    fetch(url: string, options?: FetchOptions): Promise<HttpResult>;
    /** @example const weather = (await iota.http.get("https://api.example.com/weather?city=Paris")).json(); */
    get(url: string, options?: Pick<FetchOptions, "headers" | "timeoutMs">): Promise<HttpResult>;
    /** @example await iota.http.post("https://hooks.example.com/notify", { body: { text: "done" } }); */
    post(url: string, options?: Omit<FetchOptions, "method">): Promise<HttpResult>;
  }

  interface Secrets {
    /**
     * The tenant's secret (set with `PUT /api/secrets/:name`), or null. Names match
     * `^[A-Z][A-Z0-9_]{0,63}$`. Values read are redacted from what is recorded of the execution.
     * @example const key = await iota.secrets.get("STRIPE_KEY");
     */
    get(name: string): Promise<string | null>;
  }

  interface Events {
    /**
     * Publishes an event, sent only if this execution completes. Types match
     * `^[a-z0-9_-]+(\.[a-z0-9_-]+)*$`. Chains of script-published events are limited
     * (`eventDepth`, QuotaExceededError past it), and so is the payload: 100 KB as JSON.
     * @example await iota.events.publish("order.created", { orderId: order.id }, { idempotencyKey: order.id });
     */
    publish(type: string, payload?: Json, options?: { idempotencyKey?: string }): Promise<{ eventId: string }>;
  }

  interface Log {
    debug(...args: unknown[]): void;
    info(...args: unknown[]): void;
    warn(...args: unknown[]): void;
    error(...args: unknown[]): void;
  }

  interface Sdk {
    db: Db;
    http: Http;
    secrets: Secrets;
    events: Events;
    /** Captured into the execution's logs (at most `logBytes`; then one "logs truncated" warning). */
    log: Log;
    /** Throw it to send an event straight to the dead letters, without retries. */
    NonRetriableError: ErrorConstructor;
    /** Thrown by an SDK call past a quota. */
    QuotaExceededError: ErrorConstructor;
    /** Thrown by `iota.http` for a forbidden URL. */
    NetworkPolicyError: ErrorConstructor;
  }
}

/** The only way out of the sandbox. Every db, http, secrets and events call counts toward `sdkCallsPerExecution`. */
declare const iota: Iota.Sdk;

/** Workers' names for the handler object's types, so Workers code type-checks unchanged. */
type ExportedHandler<E extends Iota.Env = Iota.Env> = Iota.ExportedHandler<E>;
type ExecutionContext = Iota.ExecutionContext;
type ScheduledController = Iota.ScheduledController;

/**
 * `console.log`/`info` log at info, `debug`/`trace` at debug, `warn` and `error` at theirs; a
 * first string argument's `%s %d %i %f %o %O %j` take the next arguments (`%c` is dropped).
 * `time`/`count`/`group` state starts afresh in every execution.
 */
declare const console: {
  log(...args: unknown[]): void;
  info(...args: unknown[]): void;
  debug(...args: unknown[]): void;
  trace(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  /** Logs the value at info. */
  dir(value: unknown): void;
  dirxml(...args: unknown[]): void;
  /** Logs the data at info (as JSON: no table drawing). */
  table(data: unknown): void;
  /** Logs "Assertion failed" and the arguments at error when `condition` is falsy. */
  assert(condition?: unknown, ...args: unknown[]): void;
  count(label?: string): void;
  countReset(label?: string): void;
  time(label?: string): void;
  timeLog(label?: string, ...args: unknown[]): void;
  timeEnd(label?: string): void;
  /** Indents what is logged until `groupEnd`. */
  group(...label: unknown[]): void;
  groupCollapsed(...label: unknown[]): void;
  groupEnd(): void;
};

// ---------------------------------------------------------------------------------------
// The web platform (API.md §13): the WinterTC minimum common API, minus what a sandbox
// must not have. Host-backed where the host implements a standard (URL parsing, encodings,
// WebCrypto, form parsing); see docs/decisions.md for what differs from Workers.
// ---------------------------------------------------------------------------------------

type BufferSource = ArrayBufferView | ArrayBuffer;
type HeadersInit = [string, string][] | Record<string, string> | Headers;
/** A body: text, bytes, a Blob, form data, URL parameters, or another body's `body`. */
type BodyInit = string | BufferSource | Blob | FormData | URLSearchParams | ReadableStream;
type FormDataEntryValue = File | string;

/** An error of the web platform (`AbortError`, `TimeoutError`, `QuotaExceededError`, `DataCloneError`…). */
declare class DOMException extends Error {
  constructor(message?: string, name?: string);
  readonly name: string;
  readonly message: string;
  /** The legacy code of the name (0 for names without one). */
  readonly code: number;
  static readonly INVALID_CHARACTER_ERR: 5;
  static readonly NOT_SUPPORTED_ERR: 9;
  static readonly INVALID_STATE_ERR: 11;
  static readonly SYNTAX_ERR: 12;
  static readonly NETWORK_ERR: 19;
  static readonly ABORT_ERR: 20;
  static readonly QUOTA_EXCEEDED_ERR: 22;
  static readonly TIMEOUT_ERR: 23;
  static readonly DATA_CLONE_ERR: 25;
}

interface EventInit {
  bubbles?: boolean;
  cancelable?: boolean;
  composed?: boolean;
}
declare class Event {
  constructor(type: string, init?: EventInit);
  readonly type: string;
  readonly target: EventTarget | null;
  readonly currentTarget: EventTarget | null;
  readonly eventPhase: number;
  readonly bubbles: boolean;
  readonly cancelable: boolean;
  readonly composed: boolean;
  readonly defaultPrevented: boolean;
  readonly isTrusted: boolean;
  readonly timeStamp: number;
  composedPath(): EventTarget[];
  preventDefault(): void;
  stopPropagation(): void;
  stopImmediatePropagation(): void;
  static readonly NONE: 0;
  static readonly CAPTURING_PHASE: 1;
  static readonly AT_TARGET: 2;
  static readonly BUBBLING_PHASE: 3;
}
/** The global object, as Workers and Deno name it too. */
declare var self: typeof globalThis;
interface CustomEventInit<T = any> extends EventInit {
  detail?: T;
}
declare class CustomEvent<T = any> extends Event {
  constructor(type: string, init?: CustomEventInit<T>);
  readonly detail: T;
}
type EventListener = (event: Event) => void;
interface EventListenerObject {
  handleEvent(event: Event): void;
}
interface AddEventListenerOptions {
  capture?: boolean;
  once?: boolean;
  passive?: boolean;
  /** The listener is removed when this signal aborts. */
  signal?: AbortSignal;
}
/** Listeners run in order; one that throws is reported in the logs and the others still run. */
declare class EventTarget {
  addEventListener(type: string, listener: EventListener | EventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  removeEventListener(type: string, listener: EventListener | EventListenerObject | null, options?: boolean | { capture?: boolean }): void;
  dispatchEvent(event: Event): boolean;
}

declare class AbortSignal extends EventTarget {
  private constructor();
  readonly aborted: boolean;
  readonly reason: any;
  onabort: ((this: AbortSignal, event: Event) => any) | null;
  throwIfAborted(): void;
  static abort(reason?: any): AbortSignal;
  /** Aborts with a `TimeoutError` DOMException after `milliseconds` (a timer of this execution). */
  static timeout(milliseconds: number): AbortSignal;
  /** Aborts when the first of `signals` does, with its reason. */
  static any(signals: Iterable<AbortSignal>): AbortSignal;
}
declare class AbortController {
  readonly signal: AbortSignal;
  abort(reason?: any): void;
}

/**
 * Timers fire inside the execution; those still pending when the handler settles are
 * dropped. At most 1000 pending (iota's QuotaExceededError past it). A delay is clamped to
 * at least 0, and to 4 ms for timers nested more than 5 deep, as in browsers. Awaiting a
 * timer due after the deadline ends the execution as `timeout`.
 */
declare function setTimeout<A extends unknown[]>(callback: (...args: A) => void, delay?: number, ...args: A): number;
declare function setInterval<A extends unknown[]>(callback: (...args: A) => void, delay?: number, ...args: A): number;
declare function clearTimeout(id?: number): void;
declare function clearInterval(id?: number): void;
declare function queueMicrotask(callback: () => void): void;
declare const performance: {
  /** Milliseconds since this execution began, at millisecond resolution. */
  now(): number;
  readonly timeOrigin: number;
  toJSON(): { timeOrigin: number };
};

/** WHATWG URL, parsed by the host (IDNA, IPv6, percent-encoding). Invalid input throws a TypeError. */
declare class URL {
  constructor(url: string | URL, base?: string | URL);
  static canParse(url: string | URL, base?: string | URL): boolean;
  static parse(url: string | URL, base?: string | URL): URL | null;
  href: string;
  readonly origin: string;
  protocol: string;
  username: string;
  password: string;
  host: string;
  hostname: string;
  port: string;
  pathname: string;
  search: string;
  readonly searchParams: URLSearchParams;
  hash: string;
  toString(): string;
  toJSON(): string;
}
declare class URLSearchParams {
  constructor(init?: string | Record<string, string> | Iterable<[string, string]> | string[][] | URLSearchParams);
  readonly size: number;
  append(name: string, value: string): void;
  delete(name: string, value?: string): void;
  get(name: string): string | null;
  getAll(name: string): string[];
  has(name: string, value?: string): boolean;
  set(name: string, value: string): void;
  sort(): void;
  forEach(callback: (value: string, key: string, parent: URLSearchParams) => void, thisArg?: unknown): void;
  entries(): IterableIterator<[string, string]>;
  keys(): IterableIterator<string>;
  values(): IterableIterator<string>;
  [Symbol.iterator](): IterableIterator<[string, string]>;
  /** application/x-www-form-urlencoded. */
  toString(): string;
}

declare class TextEncoder {
  readonly encoding: "utf-8";
  encode(input?: string): Uint8Array;
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number };
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  readonly encoding: string;
  readonly fatal: boolean;
  readonly ignoreBOM: boolean;
  decode(input?: BufferSource, options?: { stream?: boolean }): string;
}
/** Base64 to a binary string; an InvalidCharacterError DOMException for what is not base64. */
declare function atob(data: string): string;
/** A binary string (characters up to U+00FF) to base64. */
declare function btoa(data: string): string;
/** Deep copy of data (Map, Set, Date, RegExp, typed arrays, errors, Blobs…); functions throw a DataCloneError. */
declare function structuredClone<T>(value: T, options?: { transfer?: ArrayBuffer[] }): T;

type KeyUsage = "encrypt" | "decrypt" | "sign" | "verify" | "deriveKey" | "deriveBits" | "wrapKey" | "unwrapKey";
type HashAlgorithm = "SHA-1" | "SHA-256" | "SHA-384" | "SHA-512";
/** An algorithm by name, or its parameters (`{ name: "HMAC", hash: "SHA-256" }`, `{ name: "AES-GCM", iv }`…). */
type AlgorithmIdentifier =
  | string
  | { name: "HMAC"; hash?: HashAlgorithm | { name: HashAlgorithm }; length?: number }
  | { name: "ECDSA"; hash?: HashAlgorithm | { name: HashAlgorithm }; namedCurve?: "P-256" | "P-384" | "P-521" }
  | { name: "AES-GCM"; iv?: BufferSource; additionalData?: BufferSource; tagLength?: number; length?: number }
  | { name: "PBKDF2"; salt: BufferSource; iterations: number; hash: HashAlgorithm | { name: HashAlgorithm } }
  | { name: "HKDF"; salt: BufferSource; info: BufferSource; hash: HashAlgorithm | { name: HashAlgorithm } }
  | { name: string; [parameter: string]: unknown };
interface JsonWebKey {
  kty?: string;
  use?: string;
  key_ops?: string[];
  alg?: string;
  ext?: boolean;
  crv?: string;
  x?: string;
  y?: string;
  d?: string;
  n?: string;
  e?: string;
  k?: string;
  [member: string]: unknown;
}
/** A key held by the host for this execution only; `crypto.subtle` names it, never hands it out. */
declare class CryptoKey {
  private constructor();
  readonly type: "secret" | "public" | "private";
  readonly extractable: boolean;
  readonly algorithm: { name: string; [parameter: string]: unknown };
  readonly usages: KeyUsage[];
}
interface CryptoKeyPair {
  publicKey: CryptoKey;
  privateKey: CryptoKey;
}
/**
 * The host's WebCrypto: digest (SHA-1/256/384/512), HMAC, ECDSA, Ed25519, AES-GCM, PBKDF2,
 * HKDF… Generating RSA keys is refused (import them). Not SDK calls.
 * @example const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
 */
interface SubtleCrypto {
  digest(algorithm: AlgorithmIdentifier, data: BufferSource): Promise<ArrayBuffer>;
  importKey(format: "jwk", keyData: JsonWebKey, algorithm: AlgorithmIdentifier, extractable: boolean, keyUsages: KeyUsage[]): Promise<CryptoKey>;
  importKey(format: "raw" | "spki" | "pkcs8", keyData: BufferSource, algorithm: AlgorithmIdentifier, extractable: boolean, keyUsages: KeyUsage[]): Promise<CryptoKey>;
  exportKey(format: "jwk", key: CryptoKey): Promise<JsonWebKey>;
  exportKey(format: "raw" | "spki" | "pkcs8", key: CryptoKey): Promise<ArrayBuffer>;
  generateKey(algorithm: AlgorithmIdentifier, extractable: boolean, keyUsages: KeyUsage[]): Promise<CryptoKey | CryptoKeyPair>;
  sign(algorithm: AlgorithmIdentifier, key: CryptoKey, data: BufferSource): Promise<ArrayBuffer>;
  verify(algorithm: AlgorithmIdentifier, key: CryptoKey, signature: BufferSource, data: BufferSource): Promise<boolean>;
  encrypt(algorithm: AlgorithmIdentifier, key: CryptoKey, data: BufferSource): Promise<ArrayBuffer>;
  decrypt(algorithm: AlgorithmIdentifier, key: CryptoKey, data: BufferSource): Promise<ArrayBuffer>;
  deriveBits(algorithm: AlgorithmIdentifier, baseKey: CryptoKey, length?: number | null): Promise<ArrayBuffer>;
  deriveKey(algorithm: AlgorithmIdentifier, baseKey: CryptoKey, derivedKeyType: AlgorithmIdentifier, extractable: boolean, keyUsages: KeyUsage[]): Promise<CryptoKey>;
  wrapKey(format: "raw" | "spki" | "pkcs8" | "jwk", key: CryptoKey, wrappingKey: CryptoKey, wrapAlgorithm: AlgorithmIdentifier): Promise<ArrayBuffer>;
  unwrapKey(
    format: "raw" | "spki" | "pkcs8" | "jwk",
    wrappedKey: BufferSource,
    unwrappingKey: CryptoKey,
    unwrapAlgorithm: AlgorithmIdentifier,
    unwrappedKeyAlgorithm: AlgorithmIdentifier,
    extractable: boolean,
    keyUsages: KeyUsage[],
  ): Promise<CryptoKey>;
  /** As in Workers: compares two buffers of the same length in constant time (a TypeError for different lengths). */
  timingSafeEqual(a: BufferSource, b: BufferSource): boolean;
}
declare const crypto: {
  readonly subtle: SubtleCrypto;
  /** Fills an integer typed array with random values; over 65 536 bytes throws the QuotaExceededError DOMException. */
  getRandomValues<T extends Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array>(array: T): T;
  randomUUID(): `${string}-${string}-${string}-${string}-${string}`;
};

declare class Headers {
  constructor(init?: HeadersInit);
  append(name: string, value: string): void;
  delete(name: string): void;
  /** Values of a name, combined with ", "; null when absent. */
  get(name: string): string | null;
  /** Every Set-Cookie value on its own. */
  getSetCookie(): string[];
  has(name: string): boolean;
  set(name: string, value: string): void;
  forEach(callback: (value: string, name: string, parent: Headers) => void, thisArg?: unknown): void;
  entries(): IterableIterator<[string, string]>;
  keys(): IterableIterator<string>;
  values(): IterableIterator<string>;
  [Symbol.iterator](): IterableIterator<[string, string]>;
}

/**
 * A body's `body`: a minimal stream over the whole body (one chunk, then done), enough for
 * `new Response(res.body, res)` and reader loops. There is no ReadableStream constructor.
 */
interface ReadableStream extends AsyncIterable<Uint8Array> {
  readonly locked: boolean;
  getReader(): ReadableStreamDefaultReader;
  cancel(reason?: unknown): Promise<void>;
  values(): AsyncIterableIterator<Uint8Array>;
}
interface ReadableStreamDefaultReader {
  read(): Promise<{ done: false; value: Uint8Array } | { done: true; value: undefined }>;
  releaseLock(): void;
  cancel(reason?: unknown): Promise<void>;
  readonly closed: Promise<void>;
}
/** Readable once. */
interface Body {
  readonly body: ReadableStream | null;
  readonly bodyUsed: boolean;
  arrayBuffer(): Promise<ArrayBuffer>;
  bytes(): Promise<Uint8Array>;
  blob(): Promise<Blob>;
  /** multipart/form-data or application/x-www-form-urlencoded, parsed by the host. */
  formData(): Promise<FormData>;
  json<T = any>(): Promise<T>;
  text(): Promise<string>;
}
interface RequestInit {
  method?: string;
  headers?: HeadersInit;
  /** At most the script's `outputBytes` (RangeError past it). */
  body?: BodyInit | null;
  signal?: AbortSignal | null;
  redirect?: "follow" | "manual" | "error";
}
interface Request extends Body {}
declare class Request {
  constructor(input: string | URL | Request, init?: RequestInit);
  readonly method: string;
  /** Absolute: a relative URL throws a TypeError. */
  readonly url: string;
  readonly headers: Headers;
  readonly signal: AbortSignal;
  readonly redirect: "follow" | "manual" | "error";
  clone(): Request;
}
interface ResponseInit {
  status?: number;
  statusText?: string;
  headers?: HeadersInit;
}
interface Response extends Body {}
declare class Response {
  /** A body of at most the script's `outputBytes` (RangeError past it). */
  constructor(body?: BodyInit | null, init?: ResponseInit);
  static json(data: unknown, init?: ResponseInit): Response;
  static redirect(url: string | URL, status?: 301 | 302 | 303 | 307 | 308): Response;
  static error(): Response;
  readonly status: number;
  readonly ok: boolean;
  readonly statusText: string;
  readonly headers: Headers;
  readonly type: "default" | "basic" | "error";
  readonly url: string;
  readonly redirected: boolean;
  clone(): Response;
}
/**
 * `iota.http` underneath: http(s) to public hosts only (iota.NetworkPolicyError otherwise),
 * redirects re-checked, response body at most 1 MiB, counted as an SDK call and an outbound
 * request. A network failure throws a TypeError; the deadline a TimeoutError DOMException.
 * @example const res = await fetch("https://api.example.com/items", { method: "POST", body: JSON.stringify({ a: 1 }), headers: { "content-type": "application/json" } });
 */
declare function fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;

declare class Blob {
  constructor(parts?: Iterable<BufferSource | Blob | string>, options?: { type?: string; endings?: "transparent" | "native" });
  readonly size: number;
  readonly type: string;
  slice(start?: number, end?: number, contentType?: string): Blob;
  arrayBuffer(): Promise<ArrayBuffer>;
  bytes(): Promise<Uint8Array>;
  text(): Promise<string>;
  stream(): ReadableStream;
}
declare class File extends Blob {
  constructor(bits: Iterable<BufferSource | Blob | string>, name: string, options?: { type?: string; lastModified?: number });
  readonly name: string;
  readonly lastModified: number;
}
declare class FormData {
  constructor();
  append(name: string, value: string | Blob, filename?: string): void;
  set(name: string, value: string | Blob, filename?: string): void;
  delete(name: string): void;
  get(name: string): FormDataEntryValue | null;
  getAll(name: string): FormDataEntryValue[];
  has(name: string): boolean;
  forEach(callback: (value: FormDataEntryValue, key: string, parent: FormData) => void, thisArg?: unknown): void;
  entries(): IterableIterator<[string, FormDataEntryValue]>;
  keys(): IterableIterator<string>;
  values(): IterableIterator<FormDataEntryValue>;
  [Symbol.iterator](): IterableIterator<[string, FormDataEntryValue]>;
}
