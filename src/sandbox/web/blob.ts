/**
 * Blob, File, FormData (group `blob`). Blobs are immutable bytes held in the realm (strings
 * are UTF-8 encoded by the host). Form data crosses to the host both ways: parsing
 * (multipart/form-data and application/x-www-form-urlencoded) is the host's own
 * `Response#formData`; encoding a FormData body follows the HTML "multipart/form-data
 * encoding algorithm" on the host (synchronously, so a Request or Response built from a
 * FormData knows its content type at once).
 */
import {
  type AsyncWebFunction,
  bytesRef,
  stringArg,
  type SyncWebFunction,
  takeBytesArg,
  type WebContext,
  webTypeError,
} from "./channel";

/** Estimated host work per byte of form data, charged to the budget. */
const NS_PER_BYTE = 10;

type FileRecord = { name: string; type: string; lastModified: number; b: { $b: number } };

function entriesArg(value: unknown): Array<[string, unknown]> {
  if (!Array.isArray(value)) throw webTypeError("the form entries must be a list");
  for (const entry of value) {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== "string") throw webTypeError("every form entry must be [name, value]");
  }
  return value as Array<[string, unknown]>;
}

/** Line breaks as CRLF, as the encoding algorithm wants them in names and string values. */
const crlf = (text: string) => text.replace(/\r\n|\r|\n/g, "\r\n");
/** A name or filename inside a quoted header parameter. */
const quoted = (text: string) => text.replace(/\n/g, "%0A").replace(/\r/g, "%0D").replace(/"/g, "%22");

function multipart(entries: Array<[string, unknown]>, context: WebContext): { type: string; body: { $b: number } } {
  const boundary = `----iotaFormBoundary${[...crypto.getRandomValues(new Uint8Array(12))].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
  const encoder = new TextEncoder();
  const chunks: Uint8Array[] = [];
  for (const [name, value] of entries) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(crlf(name))}"`;
    if (typeof value === "string") {
      chunks.push(encoder.encode(`${head}\r\n\r\n`), encoder.encode(crlf(value)), encoder.encode("\r\n"));
      continue;
    }
    const file = value as FileRecord;
    if (file === null || typeof file !== "object" || typeof file.name !== "string" || typeof file.type !== "string") throw webTypeError("a form file must have a name and a type");
    const bytes = takeBytesArg(context, file.b, "a form file");
    head += `; filename="${quoted(file.name)}"\r\nContent-Type: ${file.type === "" ? "application/octet-stream" : file.type}\r\n\r\n`;
    chunks.push(encoder.encode(head), bytes, encoder.encode("\r\n"));
  }
  chunks.push(encoder.encode(`--${boundary}--\r\n`));
  let size = 0;
  for (const chunk of chunks) size += chunk.byteLength;
  context.charge(size * NS_PER_BYTE);
  const body = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return { type: `multipart/form-data; boundary=${boundary}`, body: bytesRef(context, body) };
}

export const FORM_SYNC: Record<string, SyncWebFunction> = {
  "form.encode": (args, context) => multipart(entriesArg(args[0]), context),
};

export const FORM_ASYNC: Record<string, AsyncWebFunction> = {
  /** `[bytes, contentType]` → `[[name, string | FileRecord]…]`, parsed by the host's own Response#formData. */
  "form.parse": async (args, context) => {
    const bytes = takeBytesArg(context, args[0], "the body");
    const type = stringArg(args, 1, "the content type");
    context.charge(bytes.byteLength * NS_PER_BYTE);
    let form: FormData;
    try {
      form = await new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { "content-type": type } }).formData();
    } catch {
      throw webTypeError(`the body could not be parsed as form data (${type.slice(0, 100) || "no content type"})`);
    }
    const parsed: Array<[string, string | File]> = [];
    form.forEach((value, name) => parsed.push([name, value as string | File]));
    const entries: Array<[string, string | FileRecord]> = [];
    for (const [name, value] of parsed) {
      if (typeof value === "string") entries.push([name, value]);
      else entries.push([name, { name: value.name, type: value.type, lastModified: value.lastModified, b: bytesRef(context, await value.arrayBuffer()) }]);
    }
    return entries;
  },
};

export const BLOB_SOURCE = String.raw`(function (internals) {
"use strict";
const { needArguments, viewOf, copyOf } = internals;
const utf8 = () => internals.require("encoding").utf8;
const toUSV = (value) => String(value).toWellFormed();
const INVALID_TYPE = /[^\x20-\x7e]/;

function normalizeType(type) {
  const text = String(type);
  return INVALID_TYPE.test(text) ? "" : text.toLowerCase();
}
function concat(chunks) {
  if (chunks.length === 0) return new ArrayBuffer(0);
  if (chunks.length === 1) return chunks[0];
  let size = 0;
  for (let i = 0; i < chunks.length; i++) size += chunks[i].byteLength;
  const out = new Uint8Array(size);
  let at = 0;
  for (let i = 0; i < chunks.length; i++) {
    out.set(new Uint8Array(chunks[i]), at);
    at += chunks[i].byteLength;
  }
  return out.buffer;
}
function relativeIndex(value, size, fallback) {
  if (value === undefined) return fallback;
  const n = Math.trunc(Number(value)) || 0;
  return n < 0 ? Math.max(size + n, 0) : Math.min(n, size);
}

let isBlob, bytesOf, blobFromBytes;
class Blob {
  /** Immutable: never handed out, only copies of it. */
  #bytes;
  #type = "";
  constructor(parts, options) {
    const chunks = [];
    let text = "";
    let native = false;
    if (options !== undefined && options !== null) {
      if (typeof options !== "object" && typeof options !== "function") throw new TypeError("Blob: options must be an object");
      if (options.type !== undefined) this.#type = normalizeType(options.type);
      if (options.endings !== undefined) {
        const endings = String(options.endings);
        if (endings !== "transparent" && endings !== "native") throw new TypeError("Blob: endings must be transparent or native");
        native = endings === "native";
      }
    }
    const flush = () => {
      if (text.length > 0) chunks.push(utf8().encode(native ? text.replace(/\r\n|\r/g, "\n") : text));
      text = "";
    };
    if (parts !== undefined) {
      if (parts === null || (typeof parts !== "object" && typeof parts !== "function") || parts[Symbol.iterator] === undefined) {
        throw new TypeError("Blob: the parts must be a sequence");
      }
      for (const part of parts) {
        if (isBlob(part)) {
          flush();
          chunks.push(part.#bytes);
        } else if (viewOf(part) !== null) {
          flush();
          chunks.push(copyOf(part));
        } else {
          text += String(part);
        }
      }
      flush();
    }
    this.#bytes = concat(chunks);
  }
  get size() { return this.#bytes.byteLength; }
  get type() { return this.#type; }
  slice(start, end, contentType) {
    const size = this.#bytes.byteLength;
    const from = relativeIndex(start, size, 0), to = relativeIndex(end, size, size);
    return blobFromBytes(this.#bytes.slice(from, Math.max(from, to)), contentType === undefined ? "" : normalizeType(contentType));
  }
  async arrayBuffer() { return this.#bytes.slice(0); }
  async bytes() { return new Uint8Array(this.#bytes.slice(0)); }
  async text() { return utf8().decode(this.#bytes); }
  stream() {
    const { BodyState, bodyStream } = internals.require("body").bodyState;
    return bodyStream(new BodyState({ bytes: this.#bytes }, null));
  }
  static {
    isBlob = (value) => value !== null && typeof value === "object" && #bytes in value;
    bytesOf = (blob) => blob.#bytes;
    blobFromBytes = (bytes, type) => {
      const blob = new Blob();
      blob.#bytes = bytes;
      blob.#type = type;
      return blob;
    };
  }
}
Object.defineProperty(Blob.prototype, Symbol.toStringTag, { value: "Blob", configurable: true });

let isFile;
class File extends Blob {
  #name;
  #lastModified;
  constructor(bits, name, options) {
    needArguments(arguments.length, 2, "File");
    super(bits, options);
    this.#name = toUSV(name);
    const modified = options !== undefined && options !== null ? options.lastModified : undefined;
    this.#lastModified = modified === undefined ? Date.now() : Math.trunc(Number(modified)) || 0;
  }
  get name() { return this.#name; }
  get lastModified() { return this.#lastModified; }
  get webkitRelativePath() { return ""; }
  static {
    isFile = (value) => value !== null && typeof value === "object" && #name in value;
  }
}
Object.defineProperty(File.prototype, Symbol.toStringTag, { value: "File", configurable: true });

function entryValue(value, filename, hasFilename) {
  if (!isBlob(value)) {
    if (hasFilename) throw new TypeError("FormData: a filename can only be given with a Blob");
    return toUSV(value);
  }
  if (isFile(value) && !hasFilename) return value;
  const name = hasFilename ? toUSV(filename) : isFile(value) ? value.name : "blob";
  return new File([value], name, isFile(value) ? { type: value.type, lastModified: value.lastModified } : { type: value.type });
}

let isFormData, formList;
class FormData {
  #list = [];
  constructor(form) {
    if (form !== undefined) throw new TypeError("FormData: there are no HTML forms in iota scripts");
  }
  append(name, value, filename) {
    needArguments(arguments.length, 2, "FormData.append");
    this.#list.push([toUSV(name), entryValue(value, filename, arguments.length > 2)]);
  }
  set(name, value, filename) {
    needArguments(arguments.length, 2, "FormData.set");
    const key = toUSV(name), entry = [key, entryValue(value, filename, arguments.length > 2)];
    const index = this.#list.findIndex((pair) => pair[0] === key);
    if (index < 0) this.#list.push(entry);
    else {
      this.#list[index] = entry;
      this.#list = this.#list.filter((pair, i) => i <= index || pair[0] !== key);
    }
  }
  delete(name) {
    needArguments(arguments.length, 1, "FormData.delete");
    const key = toUSV(name);
    this.#list = this.#list.filter((pair) => pair[0] !== key);
  }
  get(name) {
    needArguments(arguments.length, 1, "FormData.get");
    const key = toUSV(name);
    for (let i = 0; i < this.#list.length; i++) if (this.#list[i][0] === key) return this.#list[i][1];
    return null;
  }
  getAll(name) {
    needArguments(arguments.length, 1, "FormData.getAll");
    const key = toUSV(name), values = [];
    for (let i = 0; i < this.#list.length; i++) if (this.#list[i][0] === key) values.push(this.#list[i][1]);
    return values;
  }
  has(name) {
    needArguments(arguments.length, 1, "FormData.has");
    const key = toUSV(name);
    for (let i = 0; i < this.#list.length; i++) if (this.#list[i][0] === key) return true;
    return false;
  }
  forEach(callback, thisArg) {
    needArguments(arguments.length, 1, "FormData.forEach");
    if (typeof callback !== "function") throw new TypeError("FormData.forEach: the callback must be a function");
    for (let i = 0; i < this.#list.length; i++) Reflect.apply(callback, thisArg, [this.#list[i][1], this.#list[i][0], this]);
  }
  *entries() { for (let i = 0; i < this.#list.length; i++) yield [this.#list[i][0], this.#list[i][1]]; }
  *keys() { for (let i = 0; i < this.#list.length; i++) yield this.#list[i][0]; }
  *values() { for (let i = 0; i < this.#list.length; i++) yield this.#list[i][1]; }
  static {
    isFormData = (value) => value !== null && typeof value === "object" && #list in value;
    formList = (form) => form.#list;
  }
}
Object.defineProperty(FormData.prototype, Symbol.iterator, { value: FormData.prototype.entries, writable: true, configurable: true });
Object.defineProperty(FormData.prototype, Symbol.toStringTag, { value: "FormData", configurable: true });

/** A FormData as a multipart body: {type, bytes}. */
function encodeForm(form) {
  const entries = formList(form).map(([name, value]) =>
    typeof value === "string" ? [name, value] : [name, { name: value.name, type: value.type, lastModified: value.lastModified, b: internals.put(bytesOf(value)) }]);
  const encoded = internals.sync("form.encode", [entries]);
  return { type: encoded.type, bytes: internals.take(encoded.body) };
}
/** A body as FormData, by its content type (a TypeError when it is not form data). */
async function parseForm(buffer, type) {
  const entries = await internals.compute("form.parse", [internals.put(buffer), type]);
  const form = new FormData();
  for (const [name, value] of entries) {
    if (typeof value === "string") form.append(name, value);
    else form.append(name, new File([internals.take(value.b)], value.name, { type: value.type, lastModified: value.lastModified }));
  }
  return form;
}
return { Blob, File, FormData, isBlob, bytesOf, isFormData, encodeForm, parseForm };
})`;
