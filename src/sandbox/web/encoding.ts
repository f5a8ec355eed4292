/**
 * TextEncoder, TextDecoder, atob, btoa (group `encoding`): host-backed. UTF-8 (and every
 * other encoding the host's TextDecoder knows) and base64 are the host's own
 * implementations; the realm-side classes only convert arguments and carry bytes.
 *
 * Strings cross as JSON, which spells a lone surrogate as an escape, so the host sees
 * exactly the guest's string (TextEncoder turns a lone surrogate into U+FFFD, as the
 * standard says, on the host).
 */
import { bytesRef, PlainText, RawText, type SyncWebFunction, stringArg, takeBytesArg, webRangeError, webTypeError } from "./channel";

/** What a streaming decoder kept on the host counts toward the execution's held bytes (ICU converters are not small). */
const DECODER_BYTES = 4096;
/** Estimated host work per UTF-16 unit or byte (UTF-8, base64), charged to the budget. */
const NS_PER_UNIT = 4;

const decoders = (label: string, fatal: boolean, ignoreBOM: boolean) => {
  try {
    return new TextDecoder(label, { fatal, ignoreBOM });
  } catch {
    throw webRangeError(`the encoding label ${JSON.stringify(label.slice(0, 100))} is not supported`);
  }
};

function isDecoder(value: unknown): value is TextDecoder {
  return value instanceof TextDecoder;
}

/** The last argument: the text (the guest passes it as a plain string or inside the JSON). */
function textArg(args: unknown[]): string {
  return stringArg(args, args.length - 1, "the text");
}

export const ENCODING_SYNC: Record<string, SyncWebFunction> = {
  "text.encode": (args, context) => {
    const last = args[args.length - 1];
    // A plain string arrives as QuickJS's UTF-8 already: no decoding and encoding again.
    if (last instanceof PlainText) {
      context.charge(last.length * NS_PER_UNIT);
      return bytesRef(context, last.utf8());
    }
    const text = textArg(args);
    context.charge(text.length * NS_PER_UNIT);
    return bytesRef(context, new TextEncoder().encode(text));
  },
  /** `[capacity, text]` → as many whole characters as fit in `capacity` bytes. */
  "text.encodeInto": (args, context) => {
    const text = textArg(args);
    const capacity = args[0];
    if (typeof capacity !== "number" || !(capacity >= 0)) throw webTypeError("the capacity must be a number");
    context.charge(text.length * NS_PER_UNIT);
    const target = new Uint8Array(Math.min(capacity, text.length * 3));
    const { read, written } = new TextEncoder().encodeInto(text, target);
    return { read, written, bytes: bytesRef(context, target.subarray(0, written)) };
  },
  /** The canonical name of an encoding label (RangeError for one the host does not support). */
  "text.encoding": (args) => decoders(stringArg(args, 0, "the label"), false, false).encoding,
  /** `[label, fatal, ignoreBOM]` → the id of a decoder kept on the host for streaming. */
  "text.decoder": (args, context) => {
    const [label, fatal, ignoreBOM] = args;
    if (typeof label !== "string") throw webTypeError("the label must be a string");
    return context.channel.keep(decoders(label, fatal === true, ignoreBOM === true), DECODER_BYTES);
  },
  /** `[label, fatal, ignoreBOM, bytes, decoderId, stream]` → the text (decoderId 0: a one-off decoder). */
  "text.decode": (args, context) => {
    const [label, fatal, ignoreBOM, bytesArg, decoderId, stream] = args;
    if (typeof label !== "string") throw webTypeError("the label must be a string");
    const bytes = takeBytesArg(context, bytesArg, "the input");
    context.charge(bytes.byteLength * NS_PER_UNIT);
    const decoder = typeof decoderId === "number" && decoderId > 0 ? context.channel.object(decoderId, isDecoder, "decoder") : decoders(label, fatal === true, ignoreBOM === true);
    try {
      return new RawText(decoder.decode(bytes, { stream: stream === true }));
    } catch (error) {
      throw error instanceof TypeError ? webTypeError(`the input is not valid ${decoder.encoding}`) : error;
    }
  },
  atob: (args, context) => {
    const data = textArg(args);
    context.charge(data.length * NS_PER_UNIT);
    return new RawText(atob(data));
  },
  btoa: (args, context) => {
    const data = textArg(args);
    context.charge(data.length * NS_PER_UNIT);
    return new RawText(btoa(data));
  },
};

export const ENCODING_SOURCE = String.raw`(function (internals) {
"use strict";
const { sync, syncText, put, take, viewOf, needArguments } = internals;
const EMPTY = new ArrayBuffer(0);

class TextEncoder {
  get encoding() { return "utf-8"; }
  encode(input) {
    const text = input === undefined ? "" : String(input);
    if (text.length === 0) return new Uint8Array(0);
    return new Uint8Array(take(syncText("text.encode", [], text)));
  }
  encodeInto(source, destination) {
    needArguments(arguments.length, 2, "TextEncoder.encodeInto");
    if (internals.typedArrayKind(destination) !== "Uint8Array") throw new TypeError("TextEncoder.encodeInto: the destination must be a Uint8Array");
    const result = syncText("text.encodeInto", [destination.length], String(source));
    destination.set(new Uint8Array(take(result.bytes)));
    return { read: result.read, written: result.written };
  }
}

class TextDecoder {
  #encoding;
  #fatal;
  #ignoreBOM;
  /** A decoder kept on the host once this one streams (it holds the bytes of a cut character). */
  #stream = 0;
  constructor(label, options) {
    this.#encoding = sync("text.encoding", [label === undefined ? "utf-8" : String(label)]);
    const init = options === undefined || options === null ? {} : options;
    if (typeof init !== "object" && typeof init !== "function") throw new TypeError("TextDecoder: the options must be an object");
    this.#fatal = Boolean(init.fatal);
    this.#ignoreBOM = Boolean(init.ignoreBOM);
  }
  get encoding() { return this.#encoding; }
  get fatal() { return this.#fatal; }
  get ignoreBOM() { return this.#ignoreBOM; }
  decode(input, options) {
    const stream = options !== undefined && options !== null && Boolean(options.stream);
    let bytes;
    if (input === undefined || input === null) bytes = EMPTY;
    else if (viewOf(input) === null) throw new TypeError("TextDecoder.decode: the input must be an ArrayBuffer or an ArrayBuffer view");
    else bytes = input;
    if (stream && this.#stream === 0) this.#stream = sync("text.decoder", [this.#encoding, this.#fatal, this.#ignoreBOM]);
    if (this.#stream === 0 && viewOf(bytes).length === 0) return "";
    return sync("text.decode", [this.#encoding, this.#fatal, this.#ignoreBOM, put(bytes), this.#stream, stream]);
  }
}

function atob(data) {
  needArguments(arguments.length, 1, "atob");
  return syncText("atob", [], String(data));
}
function btoa(data) {
  needArguments(arguments.length, 1, "btoa");
  return syncText("btoa", [], String(data));
}

/** For other groups: UTF-8 bytes of a string, and a string of UTF-8 bytes (BOM stripped, errors replaced). */
function utf8Encode(text) {
  return text.length === 0 ? new ArrayBuffer(0) : take(syncText("text.encode", [], text));
}
function utf8Decode(buffer) {
  return viewOf(buffer).length === 0 ? "" : sync("text.decode", ["utf-8", false, false, put(buffer), 0, false]);
}
return { TextEncoder, TextDecoder, atob, btoa, utf8: { encode: utf8Encode, decode: utf8Decode } };
})`;
