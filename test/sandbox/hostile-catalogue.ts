import { expect } from "vitest";
import type { CompiledScript } from "../../src/sandbox/compile";
import { compileLinked } from "../../src/sandbox/modules";
import type { HandlerCall, ScriptResponse } from "../../src/sandbox/realm";
import type { ExecutionLimits, ExecutionResult } from "../../src/sandbox/sandbox";
import { REFUSED } from "../sdk/urls";
import { fetchHost, testInternet } from "./fetch-host";

/**
 * The hostile catalogue: scripts that try to hang, exhaust, crash or escape the sandbox.
 * Each asserts its exact outcome (status and error name) and that the same pool then runs a
 * benign script. Cases that should end on a time limit run under TIME_LIMIT_MS; the others
 * (memory, stack, refusals) under a limit far above what they need, so a busy machine
 * cannot turn their outcome into a timeout. How far past its deadline a run ends is a
 * benchmark figure (`npm run bench`, the sandbox's hostile scenario), not a test.
 */
const TIME_LIMIT_MS = 300;
const GENEROUS_MS = 20_000;

export interface HostileCase {
  name: string;
  source: string;
  status: ExecutionResult["status"];
  /** The error's name; null for a completed execution. */
  error: string | null;
  limits?: Partial<ExecutionLimits>;
  check?: (result: ExecutionResult, response: ScriptResponse | null) => void;
  /** Modules the script imports (API.md §13), by name. */
  modules?: Record<string, string>;
  /** The trigger it runs for (a handler object's handler); a fetch request is made up for "http". */
  trigger?: "http" | "manual";
}

/** A case's script compiled, with its modules linked when it has any. */
export function compileHostile(c: HostileCase): CompiledScript {
  const compiled = compileLinked(c.source, "javascript", (name) => (c.modules?.[name] === undefined ? undefined : { name, version: 1, source: c.modules[name]!, language: "javascript" }));
  if (!compiled.ok) throw new Error(`${c.name} does not compile: ${JSON.stringify(compiled.diagnostics)}`);
  return compiled.script;
}

const importing = (names: string[]) => `${names.map((n) => `import * as ${n} from "./${n}";`).join("\n")}\nexport default async function () { return "imported"; }`;

/** What a handler-object case receives beyond its event: a small POST for a fetch handler, env with one secret. */
export function hostileCall(c: HostileCase, onResponse: (response: ScriptResponse) => void): HandlerCall | undefined {
  if (!c.trigger) return undefined;
  const request = { url: "https://acme.example.com/hook", method: "POST", headers: [["content-type", "text/plain"]] as Array<[string, string]>, body: new TextEncoder().encode("hello") };
  return { request: c.trigger === "http" ? request : undefined, env: { names: ["TOKEN"], read: (name) => (name === "TOKEN" ? "token-value-1" : undefined) }, basePath: "", onResponse };
}

const handlers = (body: string) => `export default ${body};`;

const loop = (body: string) => `export default async function () { ${body} }`;

/** The limits a case runs under: a short time limit only where time is what should end it. */
export function hostileLimits(c: HostileCase): Partial<ExecutionLimits> {
  const timeMs = c.status === "timeout" ? TIME_LIMIT_MS : GENEROUS_MS;
  return { timeoutMs: timeMs, cpuMs: timeMs, ...c.limits };
}

export const HOSTILE_HOST = {
  functions: { "db.insert": async () => ({ id: "1" }), "secrets.get": async () => null, ...fetchHost(testInternet).functions },
};

/** What fetch should throw for each refused spelling: an address the guard refuses, or a TypeError before any call for what is no URL. */
function refusedFetchOutcomes(): Record<string, string> {
  return Object.fromEntries(REFUSED.map((url) => [url, URL.canParse(url) ? "NetworkPolicyError" : "TypeError"]));
}

export const CATALOGUE: HostileCase[] = [
  // ---- endless work ----
  { name: "plain infinite loop", source: loop("while (true) {}"), status: "timeout", error: "TimeoutError" },
  { name: "infinite for(;;) loop", source: loop("for (;;) {}"), status: "timeout", error: "TimeoutError" },
  {
    name: "infinite loop inside a swallowing try/catch",
    source: loop("while (true) { try { while (true) {} } catch (e) {} }"),
    status: "timeout",
    error: "TimeoutError",
  },
  {
    name: "infinite loop whose finally swallows the interrupt with continue",
    source: loop("for (;;) { try { for (;;) {} } finally { continue; } }"),
    status: "timeout",
    error: "TimeoutError",
  },
  { name: "throw/catch in a tight loop", source: loop("for (;;) { try { throw new Error('x'); } catch {} }"), status: "timeout", error: "TimeoutError" },
  { name: "infinite loop in a promise executor", source: loop("await new Promise(() => { while (true) {} });"), status: "timeout", error: "TimeoutError" },
  { name: "async infinite loop over awaits", source: loop("for (;;) await null;"), status: "timeout", error: "TimeoutError" },
  {
    name: "microtask flood left behind after returning",
    source: loop("function f() { Promise.resolve().then(f); } f(); return 'done';"),
    status: "timeout",
    error: "TimeoutError",
  },
  { name: "unbounded promise chain growth", source: loop("let p = Promise.resolve(); for (;;) p = p.then(() => {});"), status: "failed", error: "OutOfMemoryError" },
  { name: "infinite generator spread", source: loop("function* g() { for (;;) yield 1; } return [...g()].length;"), status: "failed", error: "OutOfMemoryError" },
  { name: "comparator that never returns", source: loop("return [3, 1, 2].sort(() => { for (;;) {} });"), status: "timeout", error: "TimeoutError" },
  {
    name: "CPU budget below the wall budget",
    source: loop("for (;;) {}"),
    status: "timeout",
    error: "CpuLimitError",
    limits: { timeoutMs: 5_000, cpuMs: 150 },
  },
  { name: "a promise that never settles", source: loop("await new Promise(() => {});"), status: "timeout", error: "TimeoutError" },

  // ---- regular expressions ----
  { name: "catastrophic backtracking (a+)+$", source: loop("return /(a+)+$/.test('a'.repeat(40) + 'b');"), status: "timeout", error: "TimeoutError" },
  { name: "catastrophic backtracking with alternation", source: loop("return /^(a|aa)+$/.test('a'.repeat(60) + 'b');"), status: "timeout", error: "TimeoutError" },
  { name: "nested quantifiers in replace", source: loop("return ('x'.repeat(35) + 'y').replace(/(x+x+)+z/, '');"), status: "timeout", error: "TimeoutError" },

  // ---- memory ----
  { name: "array growth bomb", source: loop("const a = []; for (;;) a.push([1, 2, 3, 4, 5, 6, 7, 8]);"), status: "failed", error: "OutOfMemoryError" },
  { name: "string doubling bomb", source: loop("let s = 'x'; for (;;) s += s;"), status: "failed", error: "OutOfMemoryError" },
  { name: "distinct strings bomb", source: loop("const a = []; for (let i = 0; ; i++) a.push('x'.repeat(100) + i);"), status: "failed", error: "OutOfMemoryError" },
  { name: "object property bomb", source: loop("const o = {}; for (let i = 0; ; i++) o['k' + i] = i;"), status: "failed", error: "OutOfMemoryError" },
  { name: "ArrayBuffer bomb", source: loop("const a = []; for (;;) a.push(new ArrayBuffer(1 << 20));"), status: "failed", error: "OutOfMemoryError" },
  { name: "typed array bomb", source: loop("const a = []; for (;;) a.push(new Float64Array(1 << 17));"), status: "failed", error: "OutOfMemoryError" },
  { name: "Map bomb", source: loop("const m = new Map(); for (let i = 0; ; i++) m.set(i, { i });"), status: "failed", error: "OutOfMemoryError" },
  { name: "one giant ArrayBuffer", source: loop("return new ArrayBuffer(1e9).byteLength;"), status: "failed", error: "OutOfMemoryError" },
  { name: "closure chain bomb", source: loop("let f = () => 0; for (;;) { const g = f; f = () => g() + 1; }"), status: "failed", error: "OutOfMemoryError" },

  // ---- native loops that never check the interrupt ----
  { name: "join over a 2^31-long sparse array", source: loop("return Array(2 ** 31).join('');"), status: "timeout", error: "TimeoutError" },
  { name: "indexOf over a 2^40-long array-like", source: loop("return Array.prototype.indexOf.call({ length: 2 ** 40 }, 1);"), status: "timeout", error: "TimeoutError" },
  { name: "forEach over a 2^40-long array-like", source: loop("Array.prototype.forEach.call({ length: 2 ** 40 }, () => {});"), status: "timeout", error: "TimeoutError" },
  { name: "quadratic string search", source: loop("return 'a'.repeat(1e6).indexOf('a'.repeat(5e4) + 'b');"), status: "timeout", error: "TimeoutError" },
  { name: "sorting a large typed array", source: loop("return new Uint8Array(8e6).sort().length;"), status: "timeout", error: "TimeoutError" },
  { name: "Array.from a 2^32-long array-like", source: loop("return Array.from({ length: 2 ** 32 - 1 }).length;"), status: "timeout", error: "TimeoutError" },

  // ---- the stack ----
  { name: "unbounded recursion", source: loop("function f() { return f() + 1; } return f();"), status: "failed", error: "StackOverflowError" },
  { name: "mutual recursion", source: loop("function a() { return b(); } function b() { return a(); } return a();"), status: "failed", error: "StackOverflowError" },
  { name: "recursion through toString", source: loop("const o = { toString() { return String(o); } }; return String(o);"), status: "failed", error: "StackOverflowError" },
  { name: "deeply nested JSON.parse", source: loop("return JSON.parse('['.repeat(1e5) + ']'.repeat(1e5));"), status: "failed", error: "StackOverflowError" },
  { name: "deeply nested result", source: loop("let a = []; for (let i = 0; i < 1e5; i++) a = [a]; return a;"), status: "failed", error: "StackOverflowError" },

  // ---- reaching for code generation ----
  { name: "eval", source: loop("return eval('1 + 1');"), status: "failed", error: "ReferenceError" },
  { name: "globalThis.eval", source: loop("return globalThis.eval('1');"), status: "failed", error: "TypeError" },
  { name: "new Function", source: loop("return new Function('return 1')();"), status: "failed", error: "TypeError" },
  { name: "Function via constructor.constructor", source: loop("return ({}).constructor.constructor('return this')();"), status: "failed", error: "TypeError" },
  { name: "Function via a function's constructor", source: loop("return (function () {}).constructor('return 1')();"), status: "failed", error: "TypeError" },
  { name: "GeneratorFunction constructor", source: loop("return (function* () {}).constructor('yield 1')().next();"), status: "failed", error: "TypeError" },
  { name: "AsyncFunction constructor", source: loop("return await (async () => {}).constructor('return 1')();"), status: "failed", error: "TypeError" },
  { name: "AsyncGeneratorFunction constructor", source: loop("return (async function* () {}).constructor('yield 1');"), status: "failed", error: "TypeError" },
  { name: "Reflect.construct(Function)", source: loop("return Reflect.construct(Function, ['return 1'])();"), status: "failed", error: "TypeError" },
  { name: "Function through the SDK's functions", source: loop("return iota.log.info.constructor('return 1')();"), status: "failed", error: "TypeError" },
  { name: "Function through a getter of a built-in", source: loop("return Object.getOwnPropertyDescriptor(Object.prototype, 'toString').get.constructor('return 1')();"), status: "failed", error: "TypeError" },
  {
    name: "what is left of code generation and GC hooks",
    source: loop("return [typeof eval, typeof BigInt, typeof WeakRef, typeof FinalizationRegistry, typeof SharedArrayBuffer, typeof Atomics, typeof globalThis.host];"),
    status: "completed",
    error: null,
    check: (r) => expect(r.result).toEqual(Array(7).fill("undefined")),
  },
  { name: "arguments.callee.caller", source: loop("return (function () { return arguments.callee.caller; })();"), status: "failed", error: "TypeError" },

  // ---- tampering with the shared realm ----
  { name: "prototype pollution", source: loop("Object.prototype.polluted = 1;"), status: "failed", error: "TypeError" },
  { name: "replacing a built-in method", source: loop("Array.prototype.push = () => 0;"), status: "failed", error: "TypeError" },
  {
    name: "writing a global",
    source: loop("globalThis.leak = 1;"),
    status: "failed",
    error: "TypeError",
    check: (r) => expect(r.error?.message).toContain("globals and built-ins are frozen in iota scripts, and each run starts clean: keep state in iota.db"),
  },
  { name: "replacing the SDK", source: loop("iota.db = null;"), status: "failed", error: "TypeError" },
  { name: "replacing console.log", source: loop("console.log = () => {};"), status: "failed", error: "TypeError" },
  { name: "setter on a built-in prototype, called on the prototype", source: loop("Object.getOwnPropertyDescriptor(Error.prototype, 'name').set.call(Error.prototype, 'x');"), status: "failed", error: "TypeError" },

  // ---- odd throws ----
  { name: "throw a number", source: loop("throw 42;"), status: "failed", error: "NonErrorThrown", check: (r) => expect(r.error?.message).toContain("42") },
  { name: "throw null", source: loop("throw null;"), status: "failed", error: "NonErrorThrown" },
  { name: "throw a plain object", source: loop("throw { code: 7 };"), status: "failed", error: "NonErrorThrown", check: (r) => expect(r.error?.message).toContain('{"code":7}') },
  { name: "throw a symbol", source: loop("throw Symbol('s');"), status: "failed", error: "NonErrorThrown" },
  {
    name: "throw an error whose message getter throws",
    source: loop("const e = new Error(); Object.defineProperty(e, 'message', { get() { throw 1; } }); throw e;"),
    status: "failed",
    error: "NonErrorThrown",
  },
  { name: "throw a Proxy that loops in every trap", source: loop("throw new Proxy({}, { get() { for (;;) {} }, getPrototypeOf() { for (;;) {} } });"), status: "timeout", error: "TimeoutError" },
  { name: "throw an error with a self-recursive name getter", source: loop("const e = new Error('m'); Object.defineProperty(e, 'name', { get() { return this.name; } }); throw e;"), status: "failed", error: "NonErrorThrown" },

  // ---- hostile results ----
  { name: "cyclic result", source: loop("const o = {}; o.self = o; return o;"), status: "failed", error: "TypeError" },
  { name: "result with a throwing getter", source: loop("return { get x() { throw new RangeError('nope'); } };"), status: "failed", error: "RangeError" },
  { name: "result with a looping getter", source: loop("return { get x() { for (;;) {} } };"), status: "timeout", error: "TimeoutError" },
  { name: "result with a looping toJSON", source: loop("return { toJSON() { for (;;) {} } };"), status: "timeout", error: "TimeoutError" },
  { name: "result that is a Proxy with a throwing ownKeys", source: loop("return new Proxy({}, { ownKeys() { throw new Error('keys'); } });"), status: "failed", error: "Error" },
  { name: "result over outputBytes", source: loop("return 'x'.repeat(2 * 1024 * 1024);"), status: "failed", error: "OutputTooLargeError" },
  {
    name: "result of multi-byte characters over outputBytes",
    source: loop("return '€'.repeat(400 * 1024);"),
    status: "failed",
    error: "OutputTooLargeError",
  },
  { name: "result that is a function", source: loop("return () => 1;"), status: "completed", error: null, check: (r) => expect(r.result).toBeUndefined() },

  // ---- hostile SDK arguments ----
  { name: "cyclic SDK argument", source: loop("const o = {}; o.o = o; await iota.db.insert('c', o);"), status: "failed", error: "TypeError" },
  { name: "oversized SDK argument", source: loop("await iota.db.insert('c', { s: 'x'.repeat(2 * 1024 * 1024) });"), status: "failed", error: "QuotaExceededError" },
  {
    name: "SDK argument with a looping getter",
    source: loop("await iota.db.insert('c', { get x() { for (;;) {} } });"),
    status: "timeout",
    error: "TimeoutError",
  },
  { name: "too many SDK calls", source: loop("for (let i = 0; i < 101; i++) await iota.secrets.get('A');"), status: "failed", error: "QuotaExceededError" },
  { name: "flooding the log", source: loop("for (let i = 0; i < 1e5; i++) console.log('line ' + i); return 'ok';"), status: "completed", error: null, check: (r) => expect(r.logs.at(-1)).toMatchObject({ level: "warn", message: "logs truncated" }) },
  { name: "logging a deeply nested value", source: loop("let a = []; for (let i = 0; i < 1e5; i++) a = [a]; console.log(a); return 'ok';"), status: "completed", error: null },

  // ---- timers (web platform) ----
  { name: "timer flood: the 1001st pending timer", source: loop("for (;;) setTimeout(() => {}, 1e6);"), status: "failed", error: "QuotaExceededError" },
  { name: "setInterval(fn, 0) forever, awaited", source: loop("setInterval(() => {}, 0); await new Promise(() => {});"), status: "timeout", error: "TimeoutError" },
  { name: "setInterval(fn, 0) forever, left behind", source: loop("setInterval(() => {}, 0); return 'left';"), status: "completed", error: null, check: (r) => expect(r.result).toBe("left") },
  { name: "nested timers forever", source: loop("const f = () => setTimeout(f, 0); f(); await new Promise(() => {});"), status: "timeout", error: "TimeoutError" },
  { name: "a timer callback that never returns", source: loop("setTimeout(() => { for (;;) {} }, 0); await new Promise(() => {});"), status: "timeout", error: "TimeoutError" },
  { name: "an endless microtask chain started by a timer", source: loop("setTimeout(function f() { queueMicrotask(f); }, 0); await new Promise((r) => setTimeout(r, 1e6));"), status: "timeout", error: "TimeoutError" },
  {
    name: "1e6 microtasks from a timer, one after another",
    source: loop("let n = 0; setTimeout(() => { const step = () => { if (++n < 1e6) queueMicrotask(step); }; queueMicrotask(step); }, 0); await new Promise((r) => setTimeout(r, 5)); return n;"),
    status: "completed",
    error: null,
    check: (r) => expect(r.result).toBe(1e6),
  },
  {
    name: "a script that catches running out of memory and carries on",
    source: loop("const kept = []; try { for (;;) kept.push(new Array(1000).fill(0)); } catch (e) { kept.length = 0; } return 'survived';"),
    status: "failed",
    error: "OutOfMemoryError",
  },
  {
    name: "1e5 microtasks from a timer",
    source: loop("let n = 0; setTimeout(() => { for (let i = 0; i < 1e5; i++) queueMicrotask(() => n++); }, 0); await new Promise((r) => setTimeout(r, 5)); return n;"),
    status: "completed",
    error: null,
    limits: { memoryBytes: 64 * 1024 * 1024 },
    check: (r) => expect(r.result).toBe(1e5),
  },
  { name: "a timer callback that recurses without end", source: loop("setTimeout(function f() { f(); }, 0); await new Promise((r) => setTimeout(r, 5));"), status: "failed", error: "StackOverflowError" },
  { name: "awaiting a timer due after the deadline", source: loop("await new Promise((r) => setTimeout(r, 1e9));"), status: "timeout", error: "TimeoutError", check: (r) => expect(r.error?.message).toContain("due after its deadline") },
  { name: "a delay beyond 2^31 wraps as in browsers", source: loop("return await new Promise((r) => setTimeout(() => r('fired'), 2 ** 32 + 1));"), status: "completed", error: null, check: (r) => expect(r.result).toBe("fired") },
  { name: "performance.now spin-wait", source: loop("const t = performance.now(); while (performance.now() - t < 1e9) {}"), status: "timeout", error: "TimeoutError" },

  // ---- abort and events ----
  { name: "AbortSignal.timeout flood", source: loop("for (;;) AbortSignal.timeout(1e6);"), status: "failed", error: "QuotaExceededError" },
  {
    name: "abort storm: 20 000 signals following one",
    source: loop("const c = new AbortController(); const all = []; for (let i = 0; i < 20000; i++) all.push(AbortSignal.any([c.signal])); c.abort(); return all.every((s) => s.aborted);"),
    status: "completed",
    error: null,
    check: (r) => expect(r.result).toBe(true),
  },
  { name: "an abort listener that aborts again", source: loop("const c = new AbortController(); let n = 0; c.signal.onabort = () => { n++; c.abort(); }; c.abort(); return n;"), status: "completed", error: null, check: (r) => expect(r.result).toBe(1) },
  { name: "a listener that dispatches forever", source: loop("const t = new EventTarget(); t.addEventListener('x', () => { for (;;) t.dispatchEvent(new Event('y')); }); t.dispatchEvent(new Event('x'));"), status: "timeout", error: "TimeoutError" },

  // ---- URL, encodings, structuredClone ----
  {
    name: "URL of 10 MB",
    source: loop("return new URL('http://a.example/' + 'a'.repeat(1e7)).href.length;"),
    status: "failed",
    error: "TypeError",
    limits: { memoryBytes: 64 * 1024 * 1024 },
    check: (r) => expect(r.error?.message).toContain("Invalid URL"),
  },
  { name: "URLSearchParams of 20 000 pairs", source: loop("return new URLSearchParams('a=1&'.repeat(2e4)).size;"), status: "completed", error: null, check: (r) => expect(r.result).toBe(20000) },
  { name: "URLSearchParams of 200 000 pairs", source: loop("return new URLSearchParams('a=1&'.repeat(2e5)).size;"), status: "failed", error: "OutOfMemoryError" },
  { name: "TextEncoder of 10 million characters", source: loop("return new TextEncoder().encode('x'.repeat(1e7)).length;"), status: "failed", error: "RangeError" },
  { name: "TextEncoder of 10 million characters with a NUL (crossing as JSON)", source: loop("return new TextEncoder().encode('x'.repeat(1e7) + '\\0').length;"), status: "failed", error: "OutOfMemoryError" },
  { name: "atob of 20 MB", source: loop("return atob('A'.repeat(2e7)).length;"), status: "failed", error: "OutOfMemoryError" },
  { name: "structuredClone of a huge graph", source: loop("let v = null; for (let i = 0; i < 200000; i++) v = { v, i }; return structuredClone(v) !== v;"), status: "failed", error: "OutOfMemoryError" },
  { name: "structuredClone of a Proxy whose trap throws", source: loop("return structuredClone(new Proxy({}, { ownKeys() { throw new SyntaxError('trap'); } }));"), status: "failed", error: "SyntaxError" },
  { name: "structuredClone of a function", source: loop("return structuredClone({ f() {} });"), status: "failed", error: "DataCloneError" },

  // ---- crypto ----
  { name: "getRandomValues of 1 MiB", source: loop("crypto.getRandomValues(new Uint8Array(1 << 20));"), status: "failed", error: "QuotaExceededError" },
  {
    name: "digest of 40 MiB (more than the host holds for an execution)",
    source: loop("await crypto.subtle.digest('SHA-256', new Uint8Array(40 * 1024 * 1024));"),
    status: "failed",
    error: "QuotaExceededError",
    limits: { memoryBytes: 64 * 1024 * 1024 },
  },
  {
    name: "PBKDF2 with a billion iterations (refused before the host starts)",
    source: loop("const k = await crypto.subtle.importKey('raw', new Uint8Array(8), 'PBKDF2', false, ['deriveBits']); await crypto.subtle.deriveBits({ name: 'PBKDF2', salt: new Uint8Array(8), iterations: 1e9, hash: 'SHA-256' }, k, 256);"),
    status: "timeout",
    error: "TimeoutError",
    check: (r) => expect(r.error?.message).toContain("too large"),
  },
  {
    name: "1001 crypto operations pending at once",
    source: loop("const all = []; for (let i = 0; i < 1001; i++) all.push(crypto.subtle.digest('SHA-256', new Uint8Array(1))); await Promise.all(all);"),
    status: "failed",
    error: "QuotaExceededError",
  },
  { name: "streaming decoders until the host's table is full", source: loop("const all = []; for (;;) { const d = new TextDecoder(); d.decode(new Uint8Array([0xe2]), { stream: true }); all.push(d); }"), status: "failed", error: "QuotaExceededError" },
  { name: "crypto.subtle with an algorithm Proxy that loops", source: loop("await crypto.subtle.digest(new Proxy({}, { get() { for (;;) {} } }), new Uint8Array(1));"), status: "timeout", error: "TimeoutError" },

  // ---- bodies and fetch ----
  { name: "a Response body past outputBytes", source: loop("return new Response('x'.repeat(2 * 1024 * 1024)).status;"), status: "failed", error: "RangeError" },
  { name: "a Request body past outputBytes", source: loop("return new Request('https://a.example/', { method: 'POST', body: new Uint8Array(2 * 1024 * 1024) }).method;"), status: "failed", error: "RangeError" },
  { name: "a fetched body past 1 MiB", source: loop("await fetch('https://big.test/');"), status: "failed", error: "ResponseTooLargeError" },
  { name: "a Request init whose getter throws", source: loop("new Request('https://a.example/', { get method() { throw new RangeError('getter'); } });"), status: "failed", error: "RangeError" },
  { name: "fetch of a Proxy whose traps throw", source: loop("await fetch(new Proxy({}, { get() { throw new EvalError('proxied'); } }));"), status: "failed", error: "EvalError" },
  { name: "Headers from a Proxy that loops in ownKeys", source: loop("new Headers(new Proxy({}, { ownKeys() { for (;;) {} } }));"), status: "timeout", error: "TimeoutError" },
  { name: "fetch redirected to a refused address", source: loop("await fetch('https://redirect.test/?to=' + encodeURIComponent('http://169.254.169.254/latest/meta-data/'));"), status: "failed", error: "NetworkPolicyError" },
  { name: "fetch flood past sdkCallsPerExecution", source: loop("for (;;) await fetch('https://echo.test/');"), status: "failed", error: "QuotaExceededError" },
  {
    name: "fetch to every refused address spelling",
    source: loop(
      `const outcomes = {};
      for (const url of ${JSON.stringify(REFUSED)}) { try { await fetch(url); outcomes[url] = "fetched"; } catch (e) { outcomes[url] = e.name; } }
      return outcomes;`,
    ),
    status: "completed",
    error: null,
    // One SDK call per spelling: more than the default allowance of one execution.
    limits: { sdkCallsPerExecution: 1_000 },
    check: (r) => expect(r.result).toEqual(refusedFetchOutcomes()),
  },
  { name: "form data from a body that is not multipart", source: loop("await new Response('--x\\r\\nbroken', { headers: { 'content-type': 'multipart/form-data; boundary=x' } }).formData();"), status: "failed", error: "TypeError" },
  // ---- modules and packages (API.md §13): module code runs inside the execution, under its limits ----
  {
    name: "a module that throws at import",
    source: importing(["boom"]),
    modules: { boom: `export const x = 1;\nthrow new RangeError("refusing to load");` },
    status: "failed",
    error: "RangeError",
    check: (r) => expect(r.error?.stack).toContain("module:boom:2:"),
  },
  { name: "a module with an infinite loop at top level", source: importing(["spin"]), modules: { spin: "while (true) {}\nexport const x = 1;" }, status: "timeout", error: "TimeoutError" },
  {
    name: "a module two levels down with an infinite loop in a swallowing try/catch",
    source: importing(["outer"]),
    modules: { outer: `import { x } from "./inner";\nexport const y = x;`, inner: "for (;;) { try { for (;;) {} } catch {} }\nexport const x = 1;" },
    status: "timeout",
    error: "TimeoutError",
  },
  { name: "a module whose top level awaits forever", source: importing(["stuck"]), modules: { stuck: "await new Promise(() => {});\nexport const x = 1;" }, status: "timeout", error: "TimeoutError" },
  {
    name: "a module that builds a huge array at import",
    source: importing(["hog"]),
    modules: { hog: "const a = []; for (;;) a.push(new Array(1e5).fill(1));\nexport const x = a;" },
    status: "failed",
    error: "OutOfMemoryError",
  },
  {
    name: "a module that writes to a frozen package",
    source: importing(["tamper"]),
    modules: { tamper: `import { z } from "zod";\nz.string = () => "hijacked";\nexport const x = 1;` },
    status: "failed",
    error: "TypeError",
  },
  {
    name: "a module that replaces a global for its importer",
    source: `import "./poison";\nexport default async function () { return JSON.stringify({ a: 1 }); }`,
    modules: { poison: `JSON.stringify = () => "poisoned";` },
    status: "failed",
    error: "TypeError",
  },
  // ---- the handler object (API.md §13) ----
  { name: "handler object whose run getter throws", source: handlers("{ get run() { throw new Error('no handler for you'); } }"), status: "failed", error: "Error", trigger: "manual" },
  { name: "handler object that is a Proxy throwing on every get", source: handlers("new Proxy({}, { get() { throw new RangeError('trap'); } })"), status: "failed", error: "RangeError", trigger: "manual" },
  { name: "handler object that is a Proxy looping in its get trap", source: handlers("new Proxy({}, { get() { for (;;) {} } })"), status: "timeout", error: "TimeoutError", trigger: "http" },
  {
    name: "handler object whose missing handler's names cannot be read",
    source: handlers("new Proxy({}, { get(target, name) { if (name === 'fetch' || name === 'then') return undefined; throw new Error('no'); } })"),
    status: "failed",
    error: "TypeError",
    trigger: "http",
    check: (result) => expect(result.error?.message).toContain("its handlers could not be read"),
  },
  { name: "handler object that is a thenable never settling", source: handlers("{ then() {}, run() { return 1; } }"), status: "timeout", error: "TimeoutError", trigger: "manual" },
  {
    name: "fetch handler answering a Response whose body was read",
    source: handlers("{ async fetch() { const r = new Response('x'); await r.text(); return r; } }"),
    status: "failed",
    error: "TypeError",
    trigger: "http",
    check: (_, response) => expect(response).toBeNull(),
  },
  { name: "fetch handler answering Response.error()", source: handlers("{ fetch() { return Response.error(); } }"), status: "failed", error: "TypeError", trigger: "http" },
  { name: "fetch handler answering a look-alike of a Response", source: handlers("{ fetch() { return { status: 200, headers: new Headers(), body: null }; } }"), status: "failed", error: "TypeError", trigger: "http" },
  {
    name: "fetch handler answering a Response subclass that lies about its status",
    source: handlers("{ fetch() { class Liar extends Response { get status() { return 999; } } return new Liar('ok', { status: 201 }); } }"),
    status: "completed",
    error: null,
    trigger: "http",
    check: (_, response) => expect(response?.status).toBe(201),
  },
  {
    name: "waitUntil of a promise that never settles",
    source: handlers("{ fetch(request, env, ctx) { ctx.waitUntil(new Promise(() => {})); return new Response('sent'); } }"),
    status: "timeout",
    error: "TimeoutError",
    // Ended as soon as nothing can settle it, not by the clock: a cold realm's first Response must not race a short limit.
    limits: { timeoutMs: GENEROUS_MS, cpuMs: GENEROUS_MS },
    trigger: "http",
    check: (_, response) => expect(response?.body).toBe("sent"),
  },
  // The promises it keeps fill the memory limit long before a generous deadline.
  { name: "waitUntil flood", source: handlers("{ fetch(request, env, ctx) { for (;;) ctx.waitUntil(null); } }"), status: "failed", error: "OutOfMemoryError", trigger: "http" },
  {
    name: "waitUntil work looping forever after the response",
    source: handlers("{ fetch(request, env, ctx) { ctx.waitUntil((async () => { await null; for (;;) {} })()); return new Response('sent'); } }"),
    status: "timeout",
    error: "TimeoutError",
    trigger: "http",
    check: (_, response) => expect(response?.body).toBe("sent"),
  },
  {
    name: "request body read twice",
    source: handlers("{ async fetch(request) { await request.text(); return new Response(await request.text()); } }"),
    status: "failed",
    error: "TypeError",
    trigger: "http",
  },
  {
    name: "env tampering: a redefined secret stays in the execution",
    source: handlers("{ run(input, env) { Object.defineProperty(env, 'TOKEN', { value: 'mine' }); env.EXTRA = 1; return [env.TOKEN, Object.keys(env).length]; } }"),
    status: "completed",
    error: null,
    trigger: "manual",
    check: (result) => expect(result.result).toEqual(["mine", 2]),
  },
];
