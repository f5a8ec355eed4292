import type { Browser, Page } from "playwright-core";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { api, freshTenant, hasBrowser, keepOnFailure, launch, newPage, signIn, stack, typeInEditor, waitForDiagnostics, watchPage } from "./browser";

// The admin UI as people use it (issue 18), in Debian's chromium against the real stack:
// every test fails on an uncaught page error or a Content-Security-Policy violation.

const DIST = join(import.meta.dirname, "..", "..", "dist", "admin", "assets");

let browser: Browser;
let page: Page;
let watched: ReturnType<typeof watchPage>;
let tenant: { slug: string; key: string };

/** Monaco's text as shown (spaces are no-break spaces there). */
const shownText = (selector: string) => (page.evaluate((s) => document.querySelector(s)?.textContent?.replace(/\u00a0/g, " ") ?? "", selector));

async function waitForText(selector: string, text: string) {
  await page.waitForFunction(({ s, t }) => (document.querySelector(s)?.textContent ?? "").replace(/\u00a0/g, " ").includes(t), { s: selector, t: text });
}

async function noHorizontalScroll() {
  const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, body: document.body.scrollWidth, viewport: innerWidth }));
  expect(widths.scroll, "the page scrolls sideways").toBeLessThanOrEqual(widths.viewport);
  expect(widths.body, "the page scrolls sideways").toBeLessThanOrEqual(widths.viewport);
}

/** Form fields on the page with no label (a <label>, aria-label or aria-labelledby); Monaco's own input excluded. */
const unlabelled = () =>
  page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLInputElement>("input, select, textarea"))
      .filter((el) => !el.closest(".monaco-editor, .monaco-diff-editor") && el.type !== "hidden")
      .filter((el) => !(el.labels?.length || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby")))
      .map((el) => el.outerHTML.slice(0, 120)),
  );

async function openPage(width = 1300, height = 900) {
  await page?.context().close();
  page = await newPage(browser);
  if (width !== 1300 || height !== 900) await page.setViewportSize({ width, height });
  watched = watchPage(page);
}

describe.skipIf(!hasBrowser())("the admin UI, walked as a user would", () => {
  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async (context) => {
    await openPage();
    tenant = await freshTenant();
    keepOnFailure(context, () => page, () => watched.lines);
  });
  afterEach(() => {
    expect(watched.violations()).toEqual([]);
  });

  it("takes a new user from sign-in to a live endpoint, and calls it", async () => {
    await signIn(page, tenant.key);
    await page.waitForSelector("text=No scripts yet.");
    await page.waitForSelector(`[data-testid=tenant] >> text=${tenant.slug}`);
    // A draft first: the page says it is not live, and its endpoint indeed answers 404.
    await page.click("text=New script");
    await page.fill("input[name=name]", "hello-draft");
    await page.fill("input[name=trigger-path]", "/draft/:name");
    await page.click("form.new-script button:has-text('Save as draft')");
    await page.waitForSelector("[data-testid=not-live] >> text=its endpoint answers 404");
    const draftUrl = (await page.textContent("[data-testid=endpoint-url]"))!;
    expect(draftUrl).toBe(`${stack().base}/t/${tenant.slug}/draft/name`);
    expect((await fetch(draftUrl)).status).toBe(404);
    await page.click("button:has-text('Activate now')");
    await page.waitForSelector("[data-testid=not-live]", { state: "detached" });
    expect(await (await fetch(draftUrl)).json()).toEqual({ hello: "name" });

    // Save & activate: live at once, its URL and a curl line copied from the page.
    await page.click("nav.main-nav >> text=Scripts");
    await page.click("text=New script");
    await page.fill("input[name=name]", "hello-live");
    await page.click("form.new-script button:has-text('Save & activate')");
    await page.waitForSelector("[data-testid=endpoint-url]");
    expect(await page.locator("[data-testid=not-live]").count()).toBe(0);
    const url = (await page.textContent("[data-testid=endpoint-url]"))!;
    expect(url).toBe(`${stack().base}/t/${tenant.slug}/hello/name`);
    await page.click("[data-testid=endpoint] button:has-text('Copy URL')");
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(url);
    await page.click("[data-testid=endpoint] button:has-text('Copy curl')");
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`curl -i '${url}'`);
    await expect(page.textContent("[data-testid=endpoint]")).resolves.toContain(`http://${tenant.slug}.localhost:`);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ hello: "name" });
  });

  it("keeps an edit across tabs, marks it unsaved, warns before leaving, and saves it with Ctrl+S", async () => {
    const script = await api("/api/scripts", { token: tenant.key, body: { name: "kept", type: "manual", source: "export default () => 1;\n" } });
    await api(`/api/scripts/${script.id}`, { method: "PUT", token: tenant.key, body: { source: "export default () => 2;\n" } });
    await signIn(page, tenant.key);
    await page.goto(`${stack().base}/#/scripts/${script.id}`);
    await page.waitForSelector("[data-testid=editor] .monaco-editor");
    expect(await page.locator("[data-testid=unsaved]").count()).toBe(0);
    const edited = "export default () => 'kept across tabs';\n";
    await typeInEditor(page, edited);
    await page.waitForSelector("[data-testid=unsaved]");
    await page.waitForSelector("nav.tabs >> text=editor •");
    // Away to the Versions tab (its diff editors torn down on the way back without an error), and back.
    await page.click("nav.tabs >> text=versions");
    await page.waitForSelector("[data-testid=diff] .monaco-diff-editor");
    await page.click("nav.tabs >> text=run");
    await page.waitForSelector("textarea[name=input]");
    await page.click("nav.tabs >> text=editor");
    await page.waitForSelector("[data-testid=editor] .monaco-editor");
    await waitForText("[data-testid=editor]", "'kept across tabs'");
    await page.waitForSelector("[data-testid=unsaved]");
    // Leaving the page asks first (the browser's own question).
    const dialog = new Promise<import("playwright-core").Dialog>((resolve) => page.once("dialog", resolve));
    await page.close({ runBeforeUnload: true });
    const asked = await dialog;
    expect(asked.type()).toBe("beforeunload");
    await asked.dismiss();
    expect(page.isClosed()).toBe(false);
    // Ctrl+S saves, and the marker goes.
    await waitForDiagnostics(page, null);
    await page.click("[data-testid=editor] .view-lines");
    await page.keyboard.press("Control+s");
    await page.waitForSelector("text=Saved as version 3.");
    await page.waitForSelector("[data-testid=unsaved]", { state: "detached" });
    expect(await api(`/api/scripts/${script.id}`, { token: tenant.key })).toMatchObject({ version: 3, source: edited });
  });

  it("resolves a conflict: yours, theirs and the base side by side, and keeps yours on top of theirs", async () => {
    const script = await api("/api/scripts", { token: tenant.key, body: { name: "contested", type: "manual", source: "export default () => 'base';\n" } });
    await signIn(page, tenant.key);
    await page.goto(`${stack().base}/#/scripts/${script.id}`);
    await page.waitForSelector("[data-testid=editor] .monaco-editor");
    await typeInEditor(page, "export default () => 'mine';\n");
    await api(`/api/scripts/${script.id}`, { method: "PUT", token: tenant.key, body: { source: "export default () => 'theirs';\n", message: "their change" } });
    await waitForDiagnostics(page, null);
    await page.click("form.save button[type=submit]");
    await page.waitForSelector("[data-testid=conflict]");
    await expect(page.textContent("[data-testid=conflict] [role=alert]")).resolves.toMatch(/version 2 .* newer than v1/);
    // What they changed (base → theirs), and yours over theirs.
    await waitForText("[data-testid=conflict-theirs]", "'base'");
    await waitForText("[data-testid=conflict-theirs]", "'theirs'");
    await waitForText("[data-testid=conflict-mine]", "'mine'");
    await page.waitForSelector("[data-testid=conflict-theirs] .line-insert, [data-testid=conflict-theirs] .char-insert");
    await page.click("button:has-text('Keep mine on top of theirs')");
    await page.waitForSelector("text=Saved yours on top of theirs as version 3.");
    await page.waitForSelector("[data-testid=editor] .monaco-editor");
    expect(await api(`/api/scripts/${script.id}`, { token: tenant.key })).toMatchObject({ version: 3, source: "export default () => 'mine';\n" });
    expect(await shownText("[data-testid=editor]")).toContain("'mine'");
  });

  it("builds an http request in the run panel beside the editor, sends it with Ctrl+Enter, and shows status, headers and body", async () => {
    const source = "export default (e) => ({ status: 201, headers: { 'x-echo': 'yes' }, body: { id: e.params.id, q: e.query, body: e.body, h: e.headers['x-test'], m: e.method } });";
    const script = await api("/api/scripts", { token: tenant.key, body: { name: "echo", type: "http", trigger: { path: "/echo/:id", methods: ["POST", "GET"] }, source } });
    await signIn(page, tenant.key);
    await page.goto(`${stack().base}/#/scripts/${script.id}`);
    await page.waitForSelector("[data-testid=editor] .monaco-editor");
    const builder = page.locator(".beside form.request-builder");
    // On a wide screen the panel sits beside the editor.
    const [editorBox, panelBox] = [await page.locator("[data-testid=editor]").boundingBox(), await builder.boundingBox()];
    expect(panelBox!.x).toBeGreaterThan(editorBox!.x + editorBox!.width - 1);
    expect(panelBox!.y).toBeLessThan(editorBox!.y + editorBox!.height);
    await builder.locator("select[name=method]").selectOption("POST");
    await builder.locator("input[name=path]").fill("/echo/42");
    await builder.locator("input[name=query]").fill("a=1&b=two");
    await builder.locator("textarea[name=headers]").fill("content-type: application/json\nx-test: hi");
    await builder.locator("textarea[name=body]").fill('{"n": 1}');
    await builder.locator("textarea[name=body]").press("Control+Enter");
    await page.waitForSelector("[data-testid=reply-status] >> text=201");
    const body = JSON.parse((await page.textContent("[data-testid=reply-body]"))!);
    expect(body).toEqual({ id: "42", q: { a: "1", b: "two" }, body: { n: 1 }, h: "hi", m: "POST" });
    await page.click("[data-testid=http-reply] summary");
    await expect(page.textContent("[data-testid=http-reply] dl.headers")).resolves.toContain("x-echo");
    await expect(page.textContent("[data-testid=http-reply]")).resolves.toContain(`curl -i -X POST '${stack().base}/t/${tenant.slug}/echo/42?a=1&b=two'`);
  });

  it("publishes an event from the run panel and follows its delivery to the execution", async () => {
    const script = await api("/api/scripts", { token: tenant.key, body: { name: "listener", type: "event", trigger: { eventTypes: ["order.*"] }, source: "export default (e) => ({ got: e.payload.n });" } });
    await signIn(page, tenant.key);
    await page.goto(`${stack().base}/#/scripts/${script.id}/run`);
    await expect(page.inputValue("input[name=event-type]")).resolves.toBe("order.test");
    await page.fill("textarea[name=payload]", '{"n": 7}');
    await page.fill("input[name=idempotency-key]", `ui-${tenant.slug}`);
    await page.click("form.event-publisher button[type=submit]");
    await page.waitForSelector("[data-testid=event-record] >> text=completed");
    await expect(page.textContent("[data-testid=event-record] table")).resolves.toContain("listener");
    await page.click("[data-testid=event-record] a:has-text('open')");
    await page.waitForSelector("[data-testid=drawer] [data-testid=execution]");
    await waitForText("[data-testid=drawer]", '"got": 7');
  });

  it("lists executions by script name with attempts, pages with cursors, and opens details in a drawer from the keyboard", async () => {
    const a = await api("/api/scripts", { token: tenant.key, body: { name: "alpha", type: "manual", source: "export default (e) => e.input;" } });
    const b = await api("/api/scripts", { token: tenant.key, body: { name: "beta", type: "manual", source: "export default (e) => e.input;" } });
    for (let i = 0; i < 50; i++) await api(`/api/scripts/${a.id}/run`, { token: tenant.key, body: { input: i } });
    await api(`/api/scripts/${b.id}/run`, { token: tenant.key, body: { input: "b" } });
    await signIn(page, tenant.key);
    await page.click("nav.main-nav >> text=Executions");
    const rows = page.locator("[data-testid=executions] tbody tr");
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=executions] tbody tr").length === 50);
    // Script names, not ids (the names load beside the rows).
    await page.waitForSelector("[data-testid=executions] tbody tr:first-child a >> text=beta");
    await expect(page.textContent("[data-testid=executions] thead")).resolves.toContain("Attempt");
    // Older, by cursor: the one left; and back.
    await page.click("button:has-text('Older →')");
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=executions] tbody tr").length === 1);
    await page.waitForSelector("[data-testid=executions] tbody tr:first-child a >> text=alpha");
    await page.click("button:has-text('← Newer')");
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=executions] tbody tr").length === 50);
    // The script chosen by name.
    await page.selectOption("select[name=script]", { label: "beta" });
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=executions] tbody tr").length === 1);
    // Keyboard: Tab reaches the row, Enter opens the drawer beside the list, Escape closes it.
    await page.focus("select[name=trigger]");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    await expect(page.evaluate(() => document.activeElement?.closest("tr")?.getAttribute("data-id") ?? null)).resolves.toBeTruthy();
    await page.keyboard.press("Enter");
    const drawer = page.locator("[data-testid=drawer]");
    await drawer.locator("[data-testid=execution]").waitFor();
    await waitForText("[data-testid=drawer]", '"b"');
    const [listBox, drawerBox] = [await page.locator("[data-testid=executions]").boundingBox(), await drawer.boundingBox()];
    expect(drawerBox!.x).toBeGreaterThanOrEqual(listBox!.x + listBox!.width);
    expect(drawerBox!.y).toBeLessThan(listBox!.y + 200);
    await page.keyboard.press("Escape");
    await drawer.waitFor({ state: "detached" });
  });

  it("links a dead letter to its replay's execution", async () => {
    await api("/api/scripts", { token: tenant.key, body: { name: "refuser", type: "event", trigger: { eventTypes: ["dl.*"] }, source: "export default () => { throw new iota.NonRetriableError('no'); };" } });
    await api("/api/events", { token: tenant.key, body: { type: "dl.one", payload: {} } });
    await signIn(page, tenant.key);
    await page.click("nav.main-nav >> text=Dead letters");
    const row = page.locator("[data-testid=dead-letters] tbody tr").first();
    await row.waitFor();
    await page.waitForSelector("[data-testid=dead-letters] tbody tr:first-child a >> text=refuser");
    await row.locator("button:has-text('Replay')").click();
    await page.waitForSelector("text=Replayed 1 dead letter.");
    // The list refreshes every 5 s; the link appears once the replay has an execution.
    await row.locator("[data-testid=replay-execution]").click();
    await page.waitForSelector("[data-testid=drawer] [data-testid=execution]");
    await waitForText("[data-testid=drawer]", "NonRetriableError");
  });

  it("shows a cron expression's next five runs as it is typed, and edits trigger and limits through forms with the JSON at hand", async () => {
    const script = await api("/api/scripts", { token: tenant.key, body: { name: "nightly", type: "scheduled", trigger: { cron: "*/5 * * * *" }, source: "export default () => 1;" } });
    await signIn(page, tenant.key);
    await page.goto(`${stack().base}/#/scripts/${script.id}`);
    await page.waitForSelector("[data-testid=editor] .monaco-editor");
    await page.fill("input[name=trigger-cron]", "0 9 * * 1");
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=next-runs] time").length === 5);
    const times = await page.locator("[data-testid=next-runs] time").evaluateAll((els) => els.map((el) => el.getAttribute("datetime")!));
    for (const t of times) expect([new Date(t).getUTCDay(), new Date(t).getUTCHours(), new Date(t).getUTCMinutes()]).toEqual([1, 9, 0]);
    expect(new Set(times).size).toBe(5);
    await page.fill("input[name=trigger-cron]", "61 * * * *");
    await page.waitForSelector("[data-testid=next-runs] .error");
    await page.fill("input[name=trigger-cron]", "0 9 * * 1");
    await page.fill("input[name=limit-timeoutMs]", "1000");
    // The JSON view shows what the forms wrote.
    await page.check("input[name=trigger-as-json]");
    await expect(page.inputValue("textarea[name=trigger]")).resolves.toContain('"cron": "0 9 * * 1"');
    await page.check("input[name=limits-as-json]");
    await expect(page.inputValue("textarea[name=limits]")).resolves.toContain('"timeoutMs": 1000');
    await page.click("form.save button[type=submit]");
    await page.waitForSelector("text=Saved as version 2.");
    expect(await api(`/api/scripts/${script.id}`, { token: tenant.key })).toMatchObject({ version: 2, trigger: { cron: "0 9 * * 1" }, limits: { timeoutMs: 1000 } });
  });

  it("opens another script's page fresh when going from one script straight to another", async () => {
    const web = await api("/api/scripts", { token: tenant.key, body: { name: "web", type: "http", trigger: { path: "/web", methods: ["GET"] }, source: "export default () => 'web';\n" } });
    const cron = await api("/api/scripts", { token: tenant.key, body: { name: "cron", type: "scheduled", trigger: { cron: "0 3 * * *" }, source: "export default () => 'cron';\n" } });
    await signIn(page, tenant.key);
    await page.goto(`${stack().base}/#/scripts/${web.id}`);
    await page.waitForSelector("input[name=trigger-path]");
    await page.evaluate((id) => (location.hash = `#/scripts/${id}`), cron.id);
    await page.waitForSelector("h2 >> text=cron");
    await expect(page.inputValue("input[name=trigger-cron]")).resolves.toBe("0 3 * * *");
    await waitForText("[data-testid=editor]", "'cron'");
    expect(await page.locator("input[name=trigger-path]").count()).toBe(0);
  });

  it("asks before destructive actions: archive waits for a yes", async () => {
    const script = await api("/api/scripts", { token: tenant.key, body: { name: "precious", type: "manual", source: "export default () => 1;" } });
    await signIn(page, tenant.key);
    await page.goto(`${stack().base}/#/scripts/${script.id}/executions`);
    await page.click("button:has-text('Archive')");
    await page.click("[role=group] button:has-text('Cancel')");
    expect((await api(`/api/scripts/${script.id}`, { token: tenant.key })).status).toBe("active");
    await page.click("button:has-text('Archive')");
    await page.click("button:has-text('Yes, archive')");
    await page.waitForSelector("button:has-text('Unarchive')");
    expect((await api(`/api/scripts/${script.id}`, { token: tenant.key })).status).toBe("archived");
  });

  it("works at 390 px: the menu folds, tables reflow, nothing scrolls sideways, Sign out is in reach", async () => {
    await openPage(390, 844);
    const script = await api("/api/scripts", { token: tenant.key, body: { name: "a-script-with-a-rather-long-name", type: "http", trigger: { path: "/a/very/long/path/for/a/small/screen/:id", methods: ["GET"] }, source: "export default () => ({ ok: true });" } });
    await api(`/api/scripts/${script.id}/run`, { token: tenant.key, body: { input: { long: "x".repeat(300) } } });
    await signIn(page, tenant.key);
    await page.waitForSelector("[data-testid=scripts] >> text=a-script-with-a-rather-long-name");
    await noHorizontalScroll();
    // The navigation folds behind Menu.
    expect(await page.isVisible("nav.main-nav >> text=Executions")).toBe(false);
    await page.click("button.menu-button");
    await page.click("nav.main-nav >> text=Executions");
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=executions] tbody tr").length === 1);
    expect(await page.isVisible("nav.main-nav >> text=Executions")).toBe(false);
    await noHorizontalScroll();
    await page.locator("[data-testid=executions] tbody tr").first().click();
    await page.waitForSelector("[data-testid=drawer] [data-testid=execution]");
    await noHorizontalScroll();
    await page.click("button[aria-label='Close details']");
    for (const [hash, ready] of [
      ["/scripts", "[data-testid=scripts] tbody tr"],
      ["/executions", "[data-testid=executions] tbody tr"],
      [`/scripts/${script.id}`, "[data-testid=editor] .monaco-editor"],
      [`/scripts/${script.id}/versions`, "[data-testid=diff] .monaco-diff-editor"],
      [`/scripts/${script.id}/run`, "form.request-builder"],
      ["/dead-letters", "text=No dead letters."],
      ["/settings", "[data-testid=usage]"],
      ["/tail", "text=Waiting for executions…"],
      ["/overview", "[data-testid=busiest]"],
    ]) {
      await page.evaluate((h) => (location.hash = h), hash);
      await page.waitForSelector(ready);
      await noHorizontalScroll();
      expect(await unlabelled(), `unlabelled fields on ${hash}`).toEqual([]);
    }
    // Sign out: on screen, and it works.
    const signOut = page.locator("button.sign-out");
    const box = (await signOut.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    expect(box.y).toBeLessThan(844);
    await signOut.click();
    await page.waitForSelector("input[name=token]");
    await noHorizontalScroll();
  });

  it("keeps sign-in and the lists under 150 KiB of compressed JavaScript, with Monaco's TypeScript worker only on editor screens", async () => {
    const scripts: string[] = [];
    page.on("request", (request) => request.url().endsWith(".js") && scripts.push(request.url()));
    await signIn(page, tenant.key);
    await page.waitForSelector("text=No scripts yet.");
    await page.click("nav.main-nav >> text=Executions");
    await page.waitForSelector("text=No executions.");
    await page.click("nav.main-nav >> text=Dead letters");
    await page.waitForSelector("text=No dead letters.");
    let compressed = 0;
    for (const url of new Set(scripts)) compressed += gzipSync(Buffer.from(await (await fetch(url)).arrayBuffer())).length;
    expect(compressed).toBeLessThanOrEqual(150 * 1024);
    expect(scripts.filter((url) => /worker|script-|tsMode/.test(url))).toEqual([]);
    // Only the languages used are built: no css, html or json language workers.
    expect(readdirSync(DIST).filter((file) => /(css|html|json)\.worker|cssMode|htmlMode|jsonMode/.test(file))).toEqual([]);
    const script = await api("/api/scripts", { token: tenant.key, body: { name: "typed", type: "manual", language: "typescript", source: "export default (): number => 1;" } });
    const workers: string[] = [];
    page.on("worker", (worker) => workers.push(worker.url()));
    const tsWorker = page.waitForEvent("worker", (worker) => /ts\.worker/.test(worker.url()));
    await page.goto(`${stack().base}/#/scripts/${script.id}`);
    await page.waitForSelector("[data-testid=editor] .monaco-editor");
    await tsWorker;
    expect(workers.filter((url) => /(css|html|json)\.worker/.test(url))).toEqual([]);
  });
});
