/**
 * Large strings across the boundary, fast. quickjs-emscripten's `newString` measures and encodes
 * UTF-8 in JavaScript loops (~5-20 ms a MiB); a large string is encoded with TextEncoder
 * straight into the engine's memory instead and handed to QuickJS as a C string. This
 * relies on quickjs-emscripten 0.32's internals (the version is pinned in package.json) and
 * falls back to the public `newString` when they are not there.
 *
 * Only for text without NUL (it crosses NUL-terminated): JSON, and the host's text results
 * that were checked (realm.ts, hostSync). The other way, `guestUtf8` reads a guest string's
 * UTF-8 bytes as QuickJS writes them, without decoding them into a host string (TextEncoder
 * of a large string then costs one copy).
 */
import type { QuickJSContext, QuickJSHandle } from "quickjs-emscripten-core";

/** Below this, the public path is as fast. */
const LARGE_CHARS = 64 * 1024;
const encoder = new TextEncoder();

interface ContextInternals {
  ctx?: { value: number };
  ffi?: {
    QTS_NewString?: (ctx: number, pointer: number) => number;
    QTS_GetString?: (ctx: number, value: number) => number;
    QTS_FreeCString?: (ctx: number, pointer: number) => void;
  };
  module?: { _malloc?: (size: number) => number; _free?: (pointer: number) => void; HEAPU8?: Uint8Array };
  memory?: { heapValueHandle?: (pointer: number) => QuickJSHandle };
}

export function newGuestString(context: QuickJSContext, text: string): QuickJSHandle {
  const internals = context as unknown as ContextInternals;
  const { ctx, ffi, module, memory } = internals;
  if (text.length < LARGE_CHARS || !ctx || !ffi?.QTS_NewString || !module?._malloc || !module._free || !memory?.heapValueHandle) {
    return context.newString(text);
  }
  // ASCII (the usual large text) fits in one byte a character; anything else is measured first.
  let bytes: Uint8Array | null = null;
  let size = text.length;
  let pointer = module._malloc(size + 1);
  if (pointer === 0) throw new RangeError("out of memory");
  let written = 0;
  try {
    const { read, written: n } = encoder.encodeInto(text, module.HEAPU8!.subarray(pointer, pointer + size));
    written = n;
    if (read !== text.length) {
      module._free(pointer);
      bytes = encoder.encode(text);
      size = bytes.byteLength;
      pointer = module._malloc(size + 1);
      if (pointer === 0) throw new RangeError("out of memory");
      module.HEAPU8!.set(bytes, pointer);
      written = size;
    }
    module.HEAPU8![pointer + written] = 0;
    return memory.heapValueHandle(ffi.QTS_NewString(ctx.value, pointer));
  } finally {
    if (pointer !== 0) module._free(pointer);
  }
}

/**
 * The UTF-8 bytes of a guest string (QuickJS's own encoding: exact for well-formed text
 * without NUL, which is all the guest sends this way), or null where the internals are not
 * there (the caller then reads it as a string).
 */
export function guestUtf8(context: QuickJSContext, handle: QuickJSHandle): Uint8Array | null {
  const { ctx, ffi, module } = context as unknown as ContextInternals;
  const value = (handle as unknown as { value?: number }).value;
  if (!ctx || !ffi?.QTS_GetString || !ffi.QTS_FreeCString || !module?.HEAPU8 || typeof value !== "number") return null;
  const pointer = ffi.QTS_GetString(ctx.value, value);
  if (pointer === 0) return null;
  try {
    const heap = module.HEAPU8!;
    return heap.slice(pointer, heap.indexOf(0, pointer));
  } finally {
    ffi.QTS_FreeCString(ctx.value, pointer);
  }
}
