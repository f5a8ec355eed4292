/**
 * `npm run bench -- --ui` (`--ui --quick`: one load per screen): the admin UI's first load
 * in Debian's Chromium (playwright-core, never a downloaded browser) against the product's
 * own stack under `wrangler dev` (wrangler.toml, serving the built dist/admin). For each
 * screen, from a cold cache: the JavaScript it downloads (as served locally, and gzip-
 * compressed, what a CDN sends), its requests, DOMContentLoaded, and the time until the
 * screen is usable (its content shown; for the editor, Monaco up and the TypeScript worker
 * started). Writes bench/ui-results.json and the UI section of bench/RESULTS.md.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { chromium, type Browser, type Page } from "playwright-core";
import { startLocalStack } from "../scripts/local-stack";
import { root } from "../scripts/project-env.mjs";

const CHROMIUM = process.env.IOTA_CHROMIUM || "/usr/bin/chromium";
const SESSION_KEY = "iota-admin-session";

export interface UiScreenResult {
  screen: string;
  runs: number;
  jsFiles: number;
  jsBytes: number;
  jsGzipBytes: number;
  requests: number;
  domContentLoadedMs: number;
  interactiveMs: number;
}

export interface UiResult {
  date: string;
  quick: boolean;
  screens: UiScreenResult[];
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** One cold load of `hash` (signed in with `token`, or not), until `ready(page)` resolves. */
async function loadOnce(browser: Browser, base: string, hash: string, token: string | null, ready: (page: Page) => Promise<unknown>) {
  const context = await browser.newContext({ viewport: { width: 1300, height: 900 } });
  if (token) await context.addInitScript(([key, value]) => sessionStorage.setItem(key, value), [SESSION_KEY, JSON.stringify({ token })] as const);
  const page = await context.newPage();
  page.setDefaultTimeout(120_000);
  const js: Array<Promise<Buffer>> = [];
  let requests = 0;
  page.on("request", () => requests++);
  page.on("response", (response) => {
    if (/\.js(\?|$)/.test(response.url())) js.push(response.body().catch(() => Buffer.alloc(0)));
  });
  const started = Date.now();
  await page.goto(`${base}/${hash}`);
  await ready(page);
  const interactiveMs = Date.now() - started;
  const domContentLoadedMs = await page.evaluate(() => Math.round((performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming).domContentLoadedEventEnd));
  const bodies = await Promise.all(js);
  await context.close();
  return {
    jsFiles: bodies.length,
    jsBytes: bodies.reduce((sum, b) => sum + b.length, 0),
    jsGzipBytes: bodies.reduce((sum, b) => sum + gzipSync(b).length, 0),
    requests,
    domContentLoadedMs,
    interactiveMs,
  };
}

export async function uiBench(quick: boolean): Promise<UiResult> {
  if (!existsSync(CHROMIUM)) throw new Error(`the UI bench needs Debian's Chromium at ${CHROMIUM}: sudo apt-get install chromium`);
  if (!existsSync(join(root, "dist", "admin", "index.html"))) throw new Error("the admin UI is not built: run `npm run build:ui`");
  const stack = await startLocalStack({ config: join(root, "wrangler.toml"), stateDir: join(root, "bench", ".ui-state") });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
  try {
    const call = async (path: string, body: unknown, token = stack.adminToken) => {
      const res = await fetch(stack.base + path, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
      if (!res.ok) throw new Error(`${path} → ${res.status} ${await res.text()}`);
      return res.json() as Promise<any>;
    };
    const slug = `bench-ui-${Date.now().toString(36)}`;
    await call("/api/tenants", { slug, name: slug });
    const { key } = await call(`/api/tenants/${slug}/keys`, { name: "bench-ui", scopes: ["scripts:read", "scripts:write", "scripts:execute", "executions:read", "events:publish", "dlq:manage", "secrets:manage"] });
    const script = await call("/api/scripts", { name: "typed", type: "http", language: "typescript", trigger: { path: "/hello/:name", methods: ["GET"] }, source: "export default (event: Iota.HttpEvent) => ({ hello: event.params.name });\n" }, key);
    await call(`/api/scripts/${script.id}/run`, { input: null }, key);

    const screens: Array<{ screen: string; hash: string; token: string | null; ready: (page: Page) => Promise<unknown> }> = [
      { screen: "sign-in", hash: "", token: null, ready: (page) => page.waitForSelector("form.sign-in button[type=submit]:not([disabled])") },
      { screen: "scripts list", hash: "#/scripts", token: key, ready: (page) => page.waitForSelector("[data-testid=scripts] >> text=typed") },
      { screen: "executions list", hash: "#/executions", token: key, ready: (page) => page.waitForSelector("[data-testid=executions] tbody tr") },
      {
        screen: "script editor (Monaco, TypeScript worker)",
        hash: `#/scripts/${script.id}`,
        token: key,
        ready: async (page) => {
          const worker = page.waitForEvent("worker", (w) => /ts\.worker/.test(w.url()));
          await page.waitForSelector("[data-testid=editor] .monaco-editor .view-lines");
          await worker;
          await page.waitForSelector("ul.diagnostics[aria-busy=false]");
        },
      },
    ];
    const runs = quick ? 1 : 5;
    const results: UiScreenResult[] = [];
    for (const { screen, hash, token, ready } of screens) {
      await loadOnce(browser, stack.base, hash, token, ready); // warms wrangler dev, not the browser (each load is a new, empty context)
      const samples = [];
      for (let i = 0; i < runs; i++) samples.push(await loadOnce(browser, stack.base, hash, token, ready));
      const row: UiScreenResult = {
        screen,
        runs,
        jsFiles: samples[0]!.jsFiles,
        jsBytes: samples[0]!.jsBytes,
        jsGzipBytes: samples[0]!.jsGzipBytes,
        requests: samples[0]!.requests,
        domContentLoadedMs: median(samples.map((s) => s.domContentLoadedMs)),
        interactiveMs: median(samples.map((s) => s.interactiveMs)),
      };
      results.push(row);
      console.log(`[ui] ${screen}: ${row.jsFiles} JS files, ${kib(row.jsBytes)} KiB (${kib(row.jsGzipBytes)} KiB gzip), ${row.requests} requests, DOMContentLoaded ${row.domContentLoadedMs} ms, usable ${row.interactiveMs} ms (median of ${runs})`);
    }
    return { date: new Date().toISOString(), quick, screens: results };
  } finally {
    await browser.close();
    stack.stop();
  }
}

const kib = (n: number) => (n / 1024).toFixed(1);

/** The UI section of bench/RESULTS.md. */
export function renderUi(result: UiResult): string[] {
  return [
    "## Admin UI: first load (`npm run bench -- --ui`)",
    "",
    `Run ${result.date}${result.quick ? " (quick: one load per screen)" : ""}; Debian's Chromium through playwright-core against \`wrangler dev\` on loopback, each load in a new browser context (cold cache), median of ${result.screens[0]?.runs ?? 0} loads after one warm-up of the server. JS gzip is what a compressing CDN would send; wrangler dev sends it uncompressed. Budget: sign-in and list screens ≤ 150 KiB gzip.`,
    "",
    "| screen | JS files | JS KiB | JS KiB gzip | requests | DOMContentLoaded ms | usable ms |",
    "|---|---|---|---|---|---|---|",
    ...result.screens.map((s) => `| ${s.screen} | ${s.jsFiles} | ${kib(s.jsBytes)} | ${kib(s.jsGzipBytes)} | ${s.requests} | ${s.domContentLoadedMs} | ${s.interactiveMs} |`),
    "",
    "- The editor's weight is Monaco's editor chunk (about 1 MiB gzip: the editor, the diff editor, the JavaScript and TypeScript grammars and language service client) and the TypeScript worker (about 1.5 MiB gzip); both load only with the script page, and no css, html or json worker is built.",
    "- \"usable\": from navigation to the screen's content shown (the sign-in form; the list's rows; for the editor, Monaco's lines, the TypeScript worker started and the platform's diagnostics shown).",
    "",
  ];
}

export const UI_RESULTS = join(root, "bench", "ui-results.json");

export function readUiResult(): UiResult | null {
  return existsSync(UI_RESULTS) ? (JSON.parse(readFileSync(UI_RESULTS, "utf8")) as UiResult) : null;
}

/** Writes bench/ui-results.json and puts the UI section into bench/RESULTS.md (replacing the previous one). */
export function recordUi(result: UiResult) {
  writeFileSync(UI_RESULTS, JSON.stringify(result, null, 2) + "\n");
  const file = join(root, "bench", "RESULTS.md");
  const text = existsSync(file) ? readFileSync(file, "utf8") : "# Benchmark results\n\n## Reading\n";
  const section = renderUi(result).join("\n");
  const start = text.indexOf("## Admin UI: first load");
  let next: string;
  if (start >= 0) {
    const end = text.indexOf("\n## ", start + 1);
    next = text.slice(0, start) + section + (end < 0 ? "" : "\n" + text.slice(end + 1));
  } else {
    const reading = text.indexOf("## Reading\n");
    next = reading < 0 ? `${text.trimEnd()}\n\n${section}` : text.slice(0, reading) + section + "\n" + text.slice(reading);
  }
  writeFileSync(file, next);
}
