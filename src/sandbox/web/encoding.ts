/**
 * TextEncoder, TextDecoder, atob, btoa (group `encoding`): host-backed. UTF-8 (and every
 * other encoding the host's TextDecoder knows) and base64 are the host's own
 * implementations; the realm-side classes only convert arguments and carry bytes.
 *
 * Strings cross as JSON, which spells a lone surrogate as an escape, so the host sees
 * exactly the guest's string (TextEncoder turns a lone surrogate into U+FFFD, as the
 * standard says, on the host).
 */
import { bytesRef, type SyncWebFunction, stringArg, takeBytesArg, webRangeError, webTypeError } from "./channel";

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

export const ENCODING_SYNC: Record<string, SyncWebFunction> = {
  "text.encode": (args, context) => {
    const text = stringArg(args, 0, "the text");
    context.charge(text.length * NS_PER_UNIT);
    return bytesRef(context, new TextEncoder().encode(text));
  },
  /** `encodeInto`: as many whole characters as fit in `capacity` bytes. */
  "text.encodeInto": (args, context) => {
    const text = stringArg(args, 0, "the text");
    const capacity = args[1];
    if (typeof capacity !== "number" || !(capacity >= 0)) throw webTypeError("the capacity must be a number");
    context.charge(text.length * NS_PER_UNIT);
    const target = new Uint8Array(Math.min(capacity, text.length * 3));
    const { read, written } = new TextEncoder().encodeInto(text, target);
    return { read, written, bytes: bytesRef(context, target.subarray(0, written)) };
  },
  /** The canonical name of an encoding label (RangeError for one the host does not support). */
  "text.encoding": (args) => decoders(stringArg(args, 0, "the label"), false, false).encoding,
  /** `[label, fatal, ignoreBOM, bytes, streamId?, stream?]` → `{text, stream}`; a streaming decoder stays on the host. */
  "text.decode": (args, context) => {
    const [label, fatal, ignoreBOM, bytesArg, streamId, stream] = args;
    if (typeof label !== "string") throw webTypeError("the label must be a string");
    const bytes = takeBytesArg(context, bytesArg, "the input");
    context.charge(bytes.byteLength * NS_PER_UNIT);
    const decoder = typeof streamId === "number" && streamId > 0
      ? context.channel.object(streamId, isDecoder, "decoder")
      : decoders(label, fatal === true, ignoreBOM === true);
    let text: string;
    try {
      text = decoder.decode(bytes, { stream: stream === true });
    } catch (error) {
      throw error instanceof TypeError ? webTypeError(`the input is not valid ${decoder.encoding}`) : error;
    }
    const keep = stream === true ? (typeof streamId === "number" && streamId > 0 ? streamId : context.channel.keep(decoder, DECODER_BYTES)) : 0;
    return { text, stream: keep };
  },
  atob: (args, context) => {
    const data = stringArg(args, 0, "the data");
    context.charge(data.length * NS_PER_UNIT);
    return atob(data);
  },
  btoa: (args, context) => {
    const data = stringArg(args, 0, "the data");
    context.charge(data.length * NS_PER_UNIT);
    return btoa(data);
  },
};

export const ENCODING_SOURCE = String.raw`(function (internals) {
"use strict";
const { sync, put, take, viewOf, needArguments } = internals;
const EMPTY = new ArrayBuffer(0);

class TextEncoder {
  get encoding() { return "utf-8"; }
  encode(input) {
    const text = input === undefined ? "" : String(input);
    if (text.length === 0) return new Uint8Array(0);
    return new Uint8Array(take(sync("text.encode", [text])));
  }
  encodeInto(source, destination) {
    needArguments(arguments.length, 2, "TextEncoder.encodeInto");
    if (internals.typedArrayKind(destination) !== "Uint8Array") throw new TypeError("TextEncoder.encodeInto: the destination must be a Uint8Array");
    const result = sync("text.encodeInto", [String(source), destination.length]);
    destination.set(new Uint8Array(take(result.bytes)));
    return { read: result.read, written: result.written };
  }
}

class TextDecoder {
  #encoding;
  #fatal;
  #ignoreBOM;
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
    if (!stream && this.#stream === 0 && viewOf(bytes).length === 0) return "";
    const result = sync("text.decode", [this.#encoding, this.#fatal, this.#ignoreBOM, put(bytes), this.#stream, stream]);
    this.#stream = result.stream;
    return result.text;
  }
}

function atob(data) {
  needArguments(arguments.length, 1, "atob");
  return sync("atob", [String(data)]);
}
function btoa(data) {
  needArguments(arguments.length, 1, "btoa");
  return sync("btoa", [String(data)]);
}

/** For other groups: UTF-8 bytes of a string, and a string of UTF-8 bytes (BOM stripped, errors replaced). */
function utf8Encode(text) {
  return text.length === 0 ? new ArrayBuffer(0) : take(sync("text.encode", [text]));
}
function utf8Decode(buffer) {
  return viewOf(buffer).length === 0 ? "" : sync("text.decode", ["utf-8", false, false, put(buffer), 0, false]).text;
}
return { TextEncoder, TextDecoder, atob, btoa, utf8: { encode: utf8Encode, decode: utf8Decode } };
})`;
