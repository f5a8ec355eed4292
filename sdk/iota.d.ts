/**
 * The iota SDK, as a script sees it: the globals `iota` and `console`, and the shapes of a
 * script's `event` and `ctx`. The single source for script authors, the editor's
 * IntelliSense and docs/sdk.md.
 *
 * A script is an ES module that default-exports a function (no imports):
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

/** `console.log`/`info` log at info, `debug`/`trace` at debug, `warn` and `error` at theirs. */
declare const console: {
  log(...args: unknown[]): void;
  info(...args: unknown[]): void;
  debug(...args: unknown[]): void;
  trace(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
};
