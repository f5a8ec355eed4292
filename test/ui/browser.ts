import { chromium, type Browser, type Page } from "playwright-core";
import { inject } from "vitest";

/** Debian's chromium (`apt-get install chromium`), never a downloaded browser. */
export const CHROMIUM = "/usr/bin/chromium";

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

export const stack = () => inject("stack");

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

/** Replaces the text of the Monaco editor on the page, as a user pasting it would. */
export async function typeInEditor(page: Page, text: string) {
  await page.click("[data-testid=editor] .view-lines");
  await page.keyboard.press("Escape"); // an open suggestion list would take the keys
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  // Typed text gets Monaco's auto-closed brackets and indents; pasted text stays exact.
  await page.evaluate((t) => navigator.clipboard.writeText(t), text);
  await page.keyboard.press("Control+V");
}

/** A page whose clipboard the tests may use (for pasting into the editor). */
export async function newPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1300, height: 900 }, permissions: ["clipboard-read", "clipboard-write"] });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  return page;
}
