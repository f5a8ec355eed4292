/**
 * Large strings into the guest, fast. quickjs-emscripten's `newString` measures and encodes
 * UTF-8 in JavaScript loops (~5-20 ms a MiB); a large string is encoded with TextEncoder
 * straight into the engine's memory instead and handed to QuickJS as a C string. This
 * relies on quickjs-emscripten 0.32's internals (the version is pinned in package.json) and
 * falls back to the public `newString` when they are not there.
 *
 * Only for text without NUL (it crosses NUL-terminated): JSON, and the host's text results
 * that were checked (realm.ts, hostSync).
 */
import type { QuickJSContext, QuickJSHandle } from "quickjs-emscripten-core";

/** Below this, the public path is as fast. */
const LARGE_CHARS = 64 * 1024;
const encoder = new TextEncoder();

interface ContextInternals {
  ctx?: { value: number };
  ffi?: { QTS_NewString?: (ctx: number, pointer: number) => number };
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
