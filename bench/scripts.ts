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
