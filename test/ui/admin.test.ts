import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { api, freshTenant, hasBrowser, keepOnFailure, launch, newPage, signIn, stack, throttleCpu, typeInEditor, waitForDiagnostics, watchPage } from "./browser";

// The admin UI (API.md §12) in Debian's chromium, against the real stack under wrangler dev.


let browser: Browser;
let watched: ReturnType<typeof watchPage>;
let page: Page;
let tenant: { slug: string; key: string };


async function createScriptInUi(name: string, type = "manual", language?: "typescript") {
  await page.click("text=New script");
  await page.fill("input[name=name]", name);
  await page.selectOption("select[name=type]", type);
  if (language) await page.selectOption("form.new-script select[name=language]", language);
  await page.click("form.new-script button[type=submit]");
  await page.waitForSelector("[data-testid=editor] .monaco-editor");
}

/** Edits a new script with IntelliSense and the platform's diagnostics, and saves it with a message. */
async function editAndSave() {
  await signIn(page, tenant.key);
  await createScriptInUi("greeter");
  // IntelliSense: the SDK's members, from sdk/iota.d.ts.
  await typeInEditor(page, "export default async (event) => {\n  return iota.");
  await page.keyboard.press("Control+Space");
  // The list fills once Monaco's TypeScript worker answers (slow to start on a busy machine).
  await page.waitForFunction(() => {
    const rows = Array.from(document.querySelectorAll(".suggest-widget .monaco-list-row"), (row) => row.getAttribute("aria-label") ?? row.textContent ?? "");
    return ["db", "events", "http", "log", "secrets"].every((name) => rows.some((row) => row.startsWith(name)));
  });
  // Diagnostics from POST /api/scripts/validate, listed once they are for this text, and inline.
  await waitForDiagnostics(page, /^Line 2, column 15: SyntaxError/);
  await page.waitForSelector("[data-testid=editor] .squiggly-error");
  // A valid script clears them; saving makes version 2 with its message.
  await typeInEditor(page, 'export default async (event) => {\n  console.log("greeting", event.input);\n  return { hello: event.input };\n};\n');
  await waitForDiagnostics(page, null);
  await page.fill("input[name=message]", "greet the input");
  await page.click("form.save button[type=submit]");
  await page.waitForSelector("text=Saved as version 2.");
  const versions = await api(`/api/scripts?limit=1`, { token: tenant.key });
  expect(versions.items[0]).toMatchObject({ name: "greeter", version: 2 });
}

describe.skipIf(!hasBrowser())("the admin UI", () => {
  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async (context) => {
    // The previous page closes here, not in afterEach: failure screenshots are taken after afterEach.
    await page?.context().close();
    page = await newPage(browser);
    tenant = await freshTenant();
    watched = watchPage(page);
    keepOnFailure(context, () => page, () => watched.lines);
  });

  // Every screen works under the UI's Content-Security-Policy, without uncaught errors.
  afterEach(() => {
    expect(watched.violations()).toEqual([]);
  });

  it("is served with a Content-Security-Policy that allows only its own bundle", async () => {
    const res = await fetch(stack().base + "/");
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(res.headers.get("content-security-policy")).toMatch(/script-src 'self';.*frame-ancestors 'none'/);
    const html = await res.text();
    const bundle = /src="(\/assets\/index-[^"]+\.js)"/.exec(html)?.[1];
    expect((await fetch(stack().base + bundle)).headers.get("cache-control")).toContain("immutable");
  });

  it("signs in with a key, refuses a wrong one, and signs in as the admin for a tenant", async () => {
    await signIn(page, "isk_not-a-real-key");
    await expect(page.locator("[role=alert]").textContent()).resolves.toContain("invalid or revoked token");
    await signIn(page, tenant.key);
    await page.waitForSelector("text=No scripts yet.");
    await page.click("text=Sign out");
    await signIn(page, stack().adminToken, tenant.slug);
    await page.waitForSelector(`text=admin · ${tenant.slug}`);
  });

  it("edits with IntelliSense for iota and the platform's diagnostics, and saves with a message", editAndSave);

  // A loaded machine, made repeatable: with the old editor helper a Ctrl+Space that came
  // before Monaco had applied the paste left the suggestions "Loading…" for good (a timeout).
  it("edits the same way when the browser is slow (CPU throttled 4×)", async () => {
    await throttleCpu(page, 4);
    await editAndSave();
  });

  it("writes a TypeScript script: picks the language, sees TypeScript diagnostics at their positions, saves and runs it", async () => {
    await signIn(page, tenant.key);
    await createScriptInUi("typed", "manual", "typescript");
    await page.waitForSelector("h2 >> text=TypeScript");
    // IntelliSense for iota in TypeScript mode too.
    await typeInEditor(page, "type In = { n: number };\nexport default async (event: Iota.ManualEvent<In>): Promise<unknown> => {\n  return iota.");
    await page.keyboard.press("Control+Space");
    await page.waitForFunction(() => {
      const rows = Array.from(document.querySelectorAll(".suggest-widget .monaco-list-row"), (row) => row.getAttribute("aria-label") ?? row.textContent ?? "");
      return ["db", "events", "http", "log"].every((name) => rows.some((row) => row.startsWith(name)));
    });
    // The platform's diagnostics for TypeScript: a refused construct and a syntax error, at the TypeScript's line and column.
    await typeInEditor(page, "type In = { n: number };\nenum Color { Red }\nexport default () => Color.Red;\n");
    await waitForDiagnostics(page, /^Line 2, column 1: enum is not supported/);
    await page.waitForSelector("[data-testid=editor] .squiggly-error");
    await typeInEditor(page, "type In = { n: number };\nexport default (event: Iota.ManualEvent<In>): number => event.input.n *;\n");
    await waitForDiagnostics(page, /^Line 2, column 72: SyntaxError/);
    // Valid TypeScript saves as a TypeScript version, and runs.
    await typeInEditor(page, "type In = { n: number };\nexport default (event: Iota.ManualEvent<In>): number => event.input.n * 2;\n");
    await waitForDiagnostics(page, null);
    await page.click("form.save button[type=submit]");
    await page.waitForSelector("text=Saved as version 2.");
    const [script] = (await api("/api/scripts", { token: tenant.key })).items;
    expect(script).toMatchObject({ name: "typed", version: 2, language: "typescript" });
    await page.click("nav.tabs >> text=run");
    await page.fill("textarea[name=input]", '{"n": 21}');
    await page.click(".run button[type=submit]");
    const execution = page.locator("[data-testid=execution]");
    await execution.waitFor();
    await expect(execution.textContent()).resolves.toMatch(/completed[\s\S]*42/);
  });

  it("completes the handler object, web globals, the tenant's modules and the allowed packages in TypeScript", async () => {
    await api("/api/scripts", { token: tenant.key, method: "POST", body: { name: "money", type: "module", language: "typescript", source: "export function total(lines: number[]): number {\n  return lines.reduce((a, b) => a + b, 0);\n}\nexport const currency = \"EUR\";\n" } });
    await signIn(page, tenant.key);
    await createScriptInUi("shop", "http", "typescript");
    const head = 'import * as money from "./money";\nimport { z } from "zod";\nexport default {\n  async fetch(request: Request, env: Iota.Env, ctx: ExecutionContext): Promise<Response> {\n    ';
    /** Types `text` at the end of the handler and waits until the suggestions include `expected`. */
    const suggests = async (text: string, expected: string[]) => {
      await typeInEditor(page, head + text);
      await page.keyboard.press("Control+Space");
      await page.waitForFunction((names) => {
        const rows = Array.from(document.querySelectorAll(".suggest-widget .monaco-list-row"), (row) => row.getAttribute("aria-label") ?? row.textContent ?? "");
        return names.every((name) => rows.some((row) => row.startsWith(name)));
      }, expected);
    };
    // The list shows a dozen rows at a time: a first letter narrows it to the names looked for.
    await suggests("money.", ["currency", "total"]);
    await suggests("z.ob", ["object"]);
    await suggests("request.h", ["headers"]);
    await suggests("request.fo", ["formData"]);
    await suggests("crypto.subtle.d", ["digest"]);
    await suggests("ctx.b", ["basePath"]);
    await suggests("ctx.w", ["waitUntil"]);
  });

  it("refuses a save over someone else's newer version (412) and keeps the edit in a conflict view", async () => {
    await signIn(page, tenant.key);
    await createScriptInUi("contested");
    const [script] = (await api("/api/scripts", { token: tenant.key })).items;
    await api(`/api/scripts/${script.id}`, { method: "PUT", token: tenant.key, body: { source: "export default () => 'theirs';" } });
    await typeInEditor(page, "export default () => 'mine';\n");
    await page.click("form.save button[type=submit]");
    await page.waitForSelector("[data-testid=conflict] >> text=Someone saved this script since you started editing");
    await page.waitForFunction(() => document.querySelector("[data-testid=conflict-mine]")?.textContent?.replace(/\u00a0/g, " ").includes("'mine'"));
  });

  it("shows versions side by side in a diff and restores one", async () => {
    await signIn(page, tenant.key);
    const script = await api("/api/scripts", { token: tenant.key, body: { name: "versioned", type: "manual", source: "export default () => 1;\n" } });
    await api(`/api/scripts/${script.id}`, { method: "PUT", token: tenant.key, body: { source: "export default () => 2;\n", message: "two", limits: { timeoutMs: 1000 } } });
    await page.goto(`${stack().base}/#/scripts/${script.id}/versions`);
    await page.waitForSelector("[data-testid=diff] .monaco-diff-editor");
    await page.waitForSelector("text=limits changed");
    // Monaco computes the diff in a worker, then marks the inserted text.
    await page.waitForSelector("[data-testid=diff] .line-insert, [data-testid=diff] .char-insert");
    // Monaco renders spaces as no-break spaces.
    await page.waitForFunction(() => document.querySelector("[data-testid=diff]")?.textContent?.replace(/\u00a0/g, " ").includes("=> 2"));
    await page.click("tr:has-text('v1') button:has-text('Restore')");
    await page.click("button:has-text('Yes, restore')");
    await page.waitForSelector("text=v3");
    const restored = await api(`/api/scripts/${script.id}`, { token: tenant.key });
    expect(restored).toMatchObject({ version: 3, source: "export default () => 1;\n" });
  });

  it("runs a script from the run panel: JSON input in, result, logs and timing out", async () => {
    await signIn(page, tenant.key);
    const script = await api("/api/scripts", { token: tenant.key, body: { name: "doubler", type: "manual", source: "export default (e) => { console.log('doubling', e.input.n); return { doubled: e.input.n * 2 }; };" } });
    await page.goto(`${stack().base}/#/scripts/${script.id}/run`);
    await page.fill("textarea[name=input]", '{"n": 21}');
    await page.click(".run button[type=submit]");
    const execution = page.locator("[data-testid=execution]");
    await execution.waitFor();
    await expect(execution.textContent()).resolves.toMatch(/completed[\s\S]*"doubled": 42[\s\S]*doubling 21/);
    await expect(execution.locator(".timing").textContent()).resolves.toMatch(/\d+ ms · CPU [\d.]+ ms · memory [\d.]+ KiB/);
  });

  it("lists executions, refreshing every 5 s, with filters and details", async () => {
    await signIn(page, tenant.key);
    const script = await api("/api/scripts", { token: tenant.key, body: { name: "ticker", type: "manual", source: "export default (e) => { if (e.input === 'fail') throw new Error('asked to'); return 'ok'; };" } });
    await api(`/api/scripts/${script.id}/run`, { token: tenant.key, body: { input: "first" } });
    await page.click("text=Executions");
    const rows = page.locator("[data-testid=executions] tbody tr");
    await rows.first().waitFor();
    expect(await rows.count()).toBe(1);
    // A new execution appears without reloading the page.
    await api(`/api/scripts/${script.id}/run`, { token: tenant.key, body: { input: "fail" } });
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=executions] tbody tr").length === 2);
    await page.selectOption("select[aria-label=status]", "failed");
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=executions] tbody tr").length === 1);
    await rows.first().locator("td").first().click();
    await expect(page.locator("[data-testid=execution]").textContent()).resolves.toContain("asked to");
  });

  it("replays dead letters: one, the selected ones, all of a script; and deletes one", async () => {
    await signIn(page, tenant.key);
    const script = await api("/api/scripts", { token: tenant.key, body: { name: "rejecter", type: "event", trigger: { eventTypes: ["ui.*"] }, source: "export default () => { throw new iota.NonRetriableError('no'); };" } });
    for (let i = 0; i < 3; i++) await api("/api/events", { token: tenant.key, body: { type: "ui.test", payload: { i } } });
    await page.click("text=Dead letters");
    const rows = page.locator("[data-testid=dead-letters] tbody tr");
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=dead-letters] tbody tr").length === 3);
    await rows.first().locator("button:has-text('Replay')").click();
    await page.waitForSelector("text=Replayed 1 dead letter.");
    await rows.nth(1).locator("input[type=checkbox]").check();
    await rows.nth(2).locator("input[type=checkbox]").check();
    await page.click("text=Replay selected (2)");
    await page.waitForSelector("text=Replayed 2 dead letters.");
    // A replay still going is not started again: wait until the three have failed once more.
    const replaysEnded = async () => {
      const items: Array<{ replayExecutionId: string | null }> = (await api("/api/dead-letters?replayed=true", { token: tenant.key })).items;
      return items.length === 3 && items.every((d) => d.replayExecutionId !== null);
    };
    await expect.poll(replaysEnded, { timeout: 15_000 }).toBe(true);
    await page.selectOption(".filters select[name=script]", { label: "rejecter" });
    await page.click("text=Replay all for this script");
    await page.waitForSelector("text=Replayed 3 dead letters.");
    const replayed = await api("/api/dead-letters?replayed=true", { token: tenant.key });
    expect(replayed.items).toHaveLength(3);
    // A dead letter's event type opens its payload.
    await rows.first().locator("button.link-button").click();
    await page.waitForFunction(() => /"i": \d/.test(document.querySelector("pre.json")?.textContent ?? ""));
    await rows.first().locator("button:has-text('Delete')").click();
    await rows.first().locator("button:has-text('Yes, delete')").click();
    await page.waitForSelector("text=Deleted.");
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=dead-letters] tbody tr").length === 2);
  });

  it("shows the tenant's limits and usage, and manages secrets by name without showing values", async () => {
    await signIn(page, tenant.key);
    await page.click("text=Limits & secrets");
    await page.waitForSelector("[data-testid=usage]");
    await expect(page.locator("[data-testid=usage]").textContent()).resolves.toContain("of 1200");
    await page.fill("input[name=secret-name]", "PAYMENT_KEY");
    await page.fill("input[name=secret-value]", "sk_live_do_not_show");
    await page.click("text=Set secret");
    await page.waitForSelector("[data-testid=secrets] >> text=PAYMENT_KEY");
    await expect(page.content()).resolves.not.toContain("sk_live_do_not_show");
    await page.click("[data-testid=secrets] button:has-text('Delete')");
    await page.click("[data-testid=secrets] button:has-text('Yes, delete')");
    await page.waitForFunction(() => !document.querySelector("[data-testid=secrets]")?.textContent?.includes("PAYMENT_KEY"));
  });
});
