import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { inject, type TestContext } from "vitest";

/** Debian's chromium (`apt-get install chromium`), never a downloaded browser. IOTA_CHROMIUM moves it (to try the notice). */
export const CHROMIUM = process.env.IOTA_CHROMIUM || "/usr/bin/chromium";

/** The one command that installs it. */
export const INSTALL_BROWSER = "sudo apt-get install chromium";

/**
 * Without the browser the UI tests are skipped (test/ui/browser-notice.ts says which, and
 * how to install it) — except under CI=true, where test/ui/global-setup.ts fails the run.
 */
export const hasBrowser = () => existsSync(CHROMIUM);

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

export const stack = () => {
  const provided = inject("stack");
  if (!provided) throw new Error(`no stack: the browser (${CHROMIUM}) is missing`);
  return provided;
};

/** The API, as the admin (or a key), for setting the scene around the UI. */
export async function api(path: string, init: { method?: string; body?: unknown; token?: string; tenant?: string } = {}) {
  const { base, adminToken } = stack();
  const headers: Record<string, string> = { authorization: `Bearer ${init.token ?? adminToken}` };
  if (init.tenant) headers["x-tenant"] = init.tenant;
  if (init.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(base + path, { method: init.method ?? (init.body === undefined ? "GET" : "POST"), headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${path} → ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

let counter = 0;
/** A tenant of its own and a key with every scope. */
export async function freshTenant() {
  const slug = `ui-${Date.now().toString(36)}-${++counter}`;
  await api("/api/tenants", { body: { slug, name: slug } });
  const scopes = ["scripts:read", "scripts:write", "scripts:execute", "executions:read", "events:publish", "dlq:manage", "secrets:manage"];
  const { key } = await api(`/api/tenants/${slug}/keys`, { body: { name: "ui", scopes } });
  return { slug, key: key as string };
}

export async function signIn(page: Page, token: string, tenant?: string) {
  await page.goto(stack().base + "/");
  await page.fill("input[name=token]", token);
  if (tenant) await page.fill("input[name=tenant]", tenant);
  await page.click("button[type=submit]");
}

/**
 * How long any one wait may take before the test fails. The tests wait for states (an
 * element, a text, an attribute), never for time; this only bounds a wait for a state that
 * never comes, generously, since a loaded machine can be many times slower than an idle one.
 */
export const WAIT_MS = 60_000;

/**
 * Replaces the text of the Monaco editor on the page, as a user pasting it would (one edit,
 * so no empty text in between), and returns once the editor shows it. Typed text would get
 * Monaco's auto-closed brackets and indents; pasted text stays exact.
 *
 * Monaco applies a paste after the key event (through the browser's EditContext), so on a
 * slow machine the key press returns before the editor holds the text. A key that comes
 * too early acts on the old text: a Ctrl+Space then left the suggestion list "Loading…"
 * for good (seen with the browser's CPU throttled 6×), which is how the editing test timed
 * out on a loaded machine.
 */
export async function typeInEditor(page: Page, text: string) {
  await page.evaluate((t) => navigator.clipboard.writeText(t), text);
  await page.click("[data-testid=editor] .view-lines");
  await page.keyboard.press("Escape"); // an open suggestion list would take the keys
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Control+V");
  await page.waitForFunction((expected) => {
    // Monaco renders spaces as no-break spaces, one element per line.
    const shown = Array.from(document.querySelectorAll("[data-testid=editor] .view-line"), (line) => (line.textContent ?? "").replace(/\u00a0/g, " "));
    return expected.split("\n").every((line) => line.trim() === "" || shown.includes(line));
  }, text);
}

/**
 * Waits until the editor's platform diagnostics are for its text as it is (the list is
 * `aria-busy` from an edit until then) and one of them matches `expected`, or, for null,
 * there are none.
 */
export async function waitForDiagnostics(page: Page, expected: RegExp | null) {
  await page.waitForFunction(
    ({ source, flags }) => {
      const list = document.querySelector("ul.diagnostics");
      if (!list || list.getAttribute("aria-busy") !== "false") return false;
      const lines = Array.from(list.querySelectorAll("li"), (li) => li.textContent ?? "");
      return source === null ? lines.length === 0 : lines.some((line) => new RegExp(source, flags).test(line));
    },
    { source: expected?.source ?? null, flags: expected?.flags ?? "" },
  );
}

/** Makes the page's main thread `rate` times slower, as on a loaded machine (Chromium's DevTools throttling). */
export async function throttleCpu(page: Page, rate: number) {
  const session = await page.context().newCDPSession(page);
  await session.send("Emulation.setCPUThrottlingRate", { rate });
}

/** A page whose clipboard the tests may use (for pasting into the editor). */
export async function newPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1300, height: 900 }, permissions: ["clipboard-read", "clipboard-write"] });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  return page;
}

/**
 * Watches a page for what must never happen: an uncaught error or a Content-Security-Policy
 * violation. Returns everything the page said (kept with a screenshot when a test fails)
 * and the lines that break the rule.
 */
export function watchPage(page: Page) {
  const lines: string[] = [];
  page.on("console", (m) => lines.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => lines.push(`pageerror: ${e.stack ?? e.message}`));
  return { lines, violations: () => lines.filter((line) => /Content Security Policy|^pageerror/.test(line)) };
}

const FAILURES = join(import.meta.dirname, "..", "..", ".wrangler", "ui-failures");

/** When the test fails, keeps what the page said and a screenshot under .wrangler/ui-failures (CI has no screen to look at). */
export function keepOnFailure(context: TestContext, page: () => Page, lines: () => string[]) {
  context.onTestFailed(async () => {
    const dir = join(FAILURES, context.task.name.replace(/[^a-z0-9]+/gi, "-").slice(0, 60));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "console.txt"), lines().join("\n"));
    await page().screenshot({ path: join(dir, "page.png"), fullPage: true }).catch(() => {});
  });
}
