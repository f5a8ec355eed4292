/**
 * The scripts the benchmark runs, and the CPU-heavy one again as native JavaScript: the
 * same code on both sides, so the ratio is the interpreter's cost.
 */

export const TRIVIAL_SCRIPT = "export default async (event, ctx) => ({ ok: true });";

const CPU_BODY = `
  function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
  const items = Array.from({ length: 10000 }, (_, i) => ({ id: i, name: "item-" + i, price: (i * 37) % 1000, tags: ["a", "b", String(i % 7)] }));
  const transformed = JSON.parse(JSON.stringify(items))
    .filter((item) => item.price > 100)
    .map((item) => ({ id: item.id, label: item.name.toUpperCase(), cents: item.price * 100, tagCount: item.tags.length }));
  const total = transformed.reduce((sum, item) => sum + item.cents, 0);
  return { fib: fib(25), kept: transformed.length, total };
`;

export const CPU_SCRIPT = `export default async (event, ctx) => {${CPU_BODY}};`;

/** CPU_BODY as native code, line for line (a Worker cannot compile a string). */
export function nativeCpuWork() {
  function fib(n: number): number {
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
  }
  const items = Array.from({ length: 10000 }, (_, i) => ({ id: i, name: "item-" + i, price: (i * 37) % 1000, tags: ["a", "b", String(i % 7)] }));
  const transformed = (JSON.parse(JSON.stringify(items)) as typeof items)
    .filter((item) => item.price > 100)
    .map((item) => ({ id: item.id, label: item.name.toUpperCase(), cents: item.price * 100, tagCount: item.tags.length }));
  const total = transformed.reduce((sum, item) => sum + item.cents, 0);
  return { fib: fib(25), kept: transformed.length, total };
}

/** A realistic 50 KB script: many small functions, one of them called. */
export function fiftyKilobyteScript(): string {
  let body = "";
  for (let i = 0; body.length < 50_000; i++) {
    body += `function handler${i}(input) {\n  const values = [input.a, input.b, ${i}].map((v) => (v ?? 0) * 2);\n  if (values[0] > 10) return { sum: values.reduce((s, v) => s + v, 0), label: "handler-${i}" };\n  return { sum: 0, label: "none" };\n}\n`;
  }
  return `${body}\nexport default async (event) => handler1({ a: 20, b: 3 });\n`;
}

export const DB_SCRIPT = `export default async (event) => {
  const doc = await iota.db.insert("bench", { n: Math.random(), at: Date.now() });
  const found = await iota.db.query("bench", { where: { n: { $gte: 0 } }, orderBy: "-at", limit: 5 });
  return { id: doc.id, found: found.length };
};`;

export const SPIN_SCRIPT = "export default () => { for (;;) {} };";

/**
 * A realistic 50 KB TypeScript script: the 50 KB script's shape with the types an author
 * writes (interfaces, aliases, generics, annotations, `as`, `satisfies`, `!`, access
 * modifiers, optional members, overloads), one function called. Everything in it is
 * erasable, so every stripper accepts it.
 */
export function fiftyKilobyteTypeScript(): string {
  let body = `import type { Unused } from "./nowhere";\ntype Json = string | number | boolean | null | Json[] | { [key: string]: Json };\ninterface Input { a?: number; b?: number; tags?: readonly string[] }\n`;
  for (let i = 0; body.length < 50_000; i++) {
    body += `interface Result${i}<T extends Json = Json> {
  readonly sum: number;
  label: \`handler-\${number}\` | "none";
  extra?: T;
}
type Pair${i} = [left: number, right?: number];
function handler${i}(input: Input): Result${i};
function handler${i}(input: Input, strict: boolean): Result${i};
function handler${i}(input: Input, strict?: boolean): Result${i} {
  const values: number[] = [input.a, input.b, ${i}].map((v: number | undefined): number => (v ?? 0) * 2);
  const first = values[0]! as number;
  if (first > 10 && !strict) return { sum: values.reduce<number>((s, v) => s + v, 0), label: "handler-${i}" } satisfies Result${i};
  return { sum: 0, label: "none" } as Result${i}<null>;
}
class Counter${i}<T> {
  private count: number = 0;
  declare readonly kind?: string;
  public items!: T[];
  protected static readonly start: number = ${i};
  add(this: Counter${i}<T>, item: T): this { (this.items ??= []).push(item); this.count += 1; return this; }
}
`;
  }
  return `${body}\nexport default async (event: { input: Input }): Promise<Result1> => handler1({ a: 20, b: 3 });\n`;
}

/** The webhook secret the benchmark's Workers-style handler checks signatures with. */
export const WEBHOOK_SECRET = "bench-webhook-secret";

/**
 * A Workers-style webhook (API.md §13): HMAC-SHA256 of the raw body checked with
 * crypto.subtle.verify against `x-signature` (hex), then a JSON reply. The same module text
 * runs in QuickJS (an iota script) and in a Dynamic Worker Loader isolate; `nativeWebhook`
 * is it as native code, line for line.
 */
export const WEBHOOK_HANDLER = `export default {
  async fetch(request, env) {
    const body = new Uint8Array(await request.arrayBuffer());
    const given = request.headers.get("x-signature") ?? "";
    const signature = new Uint8Array((given.match(/../g) ?? []).map((hex) => parseInt(hex, 16)));
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(env.WEBHOOK_SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
    if (!(await crypto.subtle.verify("HMAC", key, signature, body))) return Response.json({ error: "bad signature" }, { status: 401 });
    const event = JSON.parse(new TextDecoder().decode(body));
    return Response.json({ ok: true, id: event.id, items: event.items.length });
  },
};
`;

/** WEBHOOK_HANDLER as native code in the benchmark's Worker. */
export async function nativeWebhook(request: Request, env: { WEBHOOK_SECRET: string }): Promise<Response> {
  const body = new Uint8Array(await request.arrayBuffer());
  const given = request.headers.get("x-signature") ?? "";
  const signature = new Uint8Array((given.match(/../g) ?? []).map((hex) => parseInt(hex, 16)));
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(env.WEBHOOK_SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  if (!(await crypto.subtle.verify("HMAC", key, signature, body))) return Response.json({ error: "bad signature" }, { status: 401 });
  const event = JSON.parse(new TextDecoder().decode(body)) as { id: string; items: unknown[] };
  return Response.json({ ok: true, id: event.id, items: event.items.length });
}

/** A warm fetch handler at its smallest (issue 14's goal: ≤ 0.25 ms p50 in Node). */
export const FETCH_OK_SCRIPT = 'export default { fetch() { return new Response("ok"); } };';
