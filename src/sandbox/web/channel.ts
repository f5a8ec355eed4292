/**
 * The host's side of one execution's web-platform boundary (API.md §9, §13): bytes that
 * cross by id, host objects (CryptoKeys…) that never cross at all, and the errors host-backed
 * functions answer with. Everything here belongs to one execution and is closed when it ends,
 * so nothing of it can reach the next one.
 *
 * The guest holds no host object and the host no guest object: bytes are copied out of the
 * guest when it puts them (`put(arrayBuffer) → id`) and into a new guest ArrayBuffer when it
 * takes them (`take(id)`); a host object is referenced from the guest by a number that only
 * means something inside this execution's table.
 */

/** Bytes and host objects one execution may hold on the host at once. */
export const MAX_HELD_BYTES = 32 * 1024 * 1024;
/** Host-backed asynchronous operations (crypto.subtle, form parsing) one execution may have pending. */
export const MAX_PENDING_OPERATIONS = 1000;
/** Largest JSON argument text a host-backed computation accepts. */
export const MAX_WEB_ARGUMENT_CHARS = 8 * 1024 * 1024;

/** Names of DOMException the guest re-creates as DOMException (not as a plain error class). */
const DOM_EXCEPTION_NAMES = new Set([
  "IndexSizeError", "HierarchyRequestError", "WrongDocumentError", "InvalidCharacterError", "NoModificationAllowedError",
  "NotFoundError", "NotSupportedError", "InvalidStateError", "SyntaxError", "InvalidModificationError", "NamespaceError",
  "InvalidAccessError", "TypeMismatchError", "SecurityError", "NetworkError", "AbortError", "URLMismatchError",
  "QuotaExceededError", "TimeoutError", "InvalidNodeTypeError", "DataCloneError", "EncodingError", "NotReadableError",
  "UnknownError", "ConstraintError", "DataError", "TransactionInactiveError", "ReadOnlyError", "VersionError",
  "OperationError", "NotAllowedError",
]);

/**
 * An error a host-backed function answers with, re-created inside the guest: as a
 * DOMException when `dom` (the web platform's own errors), else as the guest's error class
 * of that name (TypeError, RangeError, iota's QuotaExceededError…).
 */
export class WebError extends Error {
  constructor(
    override readonly name: string,
    message: string,
    readonly dom = false,
  ) {
    super(message);
  }
}

export const webTypeError = (message: string) => new TypeError(message);
export const webRangeError = (message: string) => new RangeError(message);
export const domError = (name: string, message: string) => new WebError(name, message, true);

/** What crosses back to the guest for an error: the guest makes the error object. */
export interface ErrorRecord {
  name: string;
  message: string;
  /** True for a DOMException. */
  dom?: boolean;
}

/** Any thrown value as the record the guest re-creates (a host DOMException stays one). */
export function errorRecord(error: unknown): ErrorRecord {
  if (error instanceof WebError) return { name: error.name, message: error.message, dom: error.dom };
  const e = error as { name?: unknown; message?: unknown } | null;
  const name = typeof e?.name === "string" ? e.name : "Error";
  const message = typeof e?.message === "string" ? e.message : String(error);
  const dom = typeof DOMException === "function" && error instanceof DOMException && DOM_EXCEPTION_NAMES.has(name);
  return dom ? { name, message, dom } : { name, message };
}

/** Raised when an operation's estimated cost does not fit in what is left of the budget. */
export class ChargeRefused extends Error {
  override readonly name = "RangeError";
  constructor() {
    super("this operation is too large for the time left in this execution");
  }
}

/** One execution's host-side tables: bytes by id and host objects by id, with a cap on what they hold. */
export class ExecutionChannel {
  private readonly bytes = new Map<number, Uint8Array>();
  private readonly objects = new Map<number, { value: unknown; size: number }>();
  private nextId = 1;
  private heldBytes = 0;
  private closed = false;

  /** Bytes held now (bytes waiting to be taken plus host objects' sizes). */
  get held(): number {
    return this.heldBytes;
  }

  /** Keeps bytes for the other side to take once; answers their id. */
  put(bytes: Uint8Array): number {
    this.reserve(bytes.byteLength);
    const id = this.nextId++;
    this.bytes.set(id, bytes);
    return id;
  }

  /** The bytes put under `id`, removed from the table; a TypeError for an unknown id. */
  take(id: unknown): Uint8Array {
    const bytes = typeof id === "number" ? this.bytes.get(id) : undefined;
    if (!bytes) throw webTypeError("those bytes are not available (already used, or from another execution)");
    this.bytes.delete(id as number);
    this.heldBytes -= bytes.byteLength;
    return bytes;
  }

  /** Keeps a host object for this execution (counting `size` bytes toward the cap); answers its id. */
  keep(value: unknown, size = 0): number {
    this.reserve(size);
    const id = this.nextId++;
    this.objects.set(id, { value, size });
    return id;
  }

  /** The host object kept under `id`, if it is one `isKind` accepts; a TypeError otherwise. */
  object<T>(id: unknown, isKind: (value: unknown) => value is T, what: string): T {
    const entry = typeof id === "number" ? this.objects.get(id) : undefined;
    if (!entry || !isKind(entry.value)) throw webTypeError(`not a ${what} of this execution`);
    return entry.value;
  }

  /** Ends the execution's tables: everything held is dropped and later puts are refused. */
  close() {
    this.closed = true;
    this.bytes.clear();
    this.objects.clear();
    this.heldBytes = 0;
  }

  private reserve(size: number) {
    if (this.closed) throw webTypeError("the execution has ended");
    if (this.heldBytes + size > MAX_HELD_BYTES) {
      throw new WebError("QuotaExceededError", `more than ${MAX_HELD_BYTES} bytes held by the host for one execution`);
    }
    this.heldBytes += size;
  }
}

/**
 * A text result a synchronous host-backed function answers as is (not as JSON): large text
 * (decoded bodies, base64) crosses much faster that way (realm.ts, hostSync).
 */
export class RawText {
  constructor(readonly text: string) {}
}

/**
 * A text argument the guest passed as a plain string: its UTF-8 bytes can be had without
 * making a host string first (TextEncoder of a large string). `text` decodes them once.
 */
export class PlainText {
  private decoded: string | undefined;
  constructor(
    private readonly bytes: Uint8Array | null,
    private readonly read: () => string,
  ) {}

  get text(): string {
    this.decoded ??= this.bytes === null ? this.read() : new TextDecoder().decode(this.bytes);
    return this.decoded;
  }

  /** The text as UTF-8. */
  utf8(): Uint8Array {
    return this.bytes ?? new TextEncoder().encode(this.text);
  }

  get length(): number {
    return this.bytes === null ? this.text.length : this.bytes.byteLength;
  }
}

/** What a host-backed function may use: the execution's channel, and its budget for long native work. */
export interface WebContext {
  channel: ExecutionChannel;
  /** Counts `ns` of estimated work against the execution's budget; throws `ChargeRefused` when it does not fit. */
  charge(ns: number): void;
}

/** A synchronous host-backed function: arguments and result are JSON values (bytes by id). */
export type SyncWebFunction = (args: unknown[], context: WebContext) => unknown;
/** An asynchronous one (WebCrypto, form parsing); not an SDK call. */
export type AsyncWebFunction = (args: unknown[], context: WebContext) => Promise<unknown>;

/** A JSON argument that must be a bytes reference `{$b: id}`: the bytes, taken. */
export function takeBytesArg(context: WebContext, value: unknown, what: string): Uint8Array {
  const id = value !== null && typeof value === "object" ? (value as { $b?: unknown }).$b : undefined;
  if (typeof id !== "number") throw webTypeError(`${what} must be bytes`);
  return context.channel.take(id);
}

/** Bytes as the reference the guest takes them by. */
export function bytesRef(context: WebContext, bytes: Uint8Array | ArrayBuffer): { $b: number } {
  return { $b: context.channel.put(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)) };
}

export function stringArg(args: unknown[], index: number, what: string): string {
  const value = args[index];
  if (value instanceof PlainText) return value.text;
  if (typeof value !== "string") throw webTypeError(`${what} must be a string`);
  return value;
}
