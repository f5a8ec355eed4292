import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { api, freshTenant, hasBrowser, keepOnFailure, launch, newPage, signIn, stack, watchPage } from "./browser";

// The admin UI's observability screens (API.md §15) in Debian's chromium, against wrangler dev:
// charts, the overview, the live tail and traces, under the UI's Content-Security-Policy.


let browser: Browser;
let page: Page;
let watched: ReturnType<typeof watchPage>;
let tenant: { slug: string; key: string };


const FLAKY = "export default (e) => { console.log('ran', e.input); if (e.input === 'fail') throw new Error('asked to'); return 'ok'; };";

async function scriptWithRuns(name: string, inputs: string[]) {
  const script = await api("/api/scripts", { token: tenant.key, body: { name, type: "manual", source: FLAKY } });
  const runs = [];
  for (const input of inputs) runs.push(await api(`/api/scripts/${script.id}/run`, { token: tenant.key, body: { input } }));
  return { script, runs };
}

describe.skipIf(!hasBrowser())("observability in the admin UI", () => {
  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async (context) => {
    await page?.context().close();
    page = await newPage(browser);
    tenant = await freshTenant();
    watched = watchPage(page);
    keepOnFailure(context, () => page, () => watched.lines);
  });
  afterEach(() => {
    expect(watched.violations()).toEqual([]);
  });

  it("charts a script's invocations, errors and latency percentiles", async () => {
    const { script } = await scriptWithRuns("charted", ["a", "b", "fail"]);
    await signIn(page, tenant.key);
    await page.waitForSelector("text=Overview");
    await page.goto(`${stack().base}/#/scripts/${script.id}/metrics`);
    await page.waitForSelector("[data-testid=chart-invocations] canvas");
    await page.waitForSelector("[data-testid=chart-latency] canvas");
    await page.waitForFunction(() => document.querySelector("[data-testid=metrics-totals]")?.textContent?.includes("3 invocations · 1 errors"));
    // The legend names the series.
    await expect(page.locator("[data-testid=chart-latency]").textContent()).resolves.toMatch(/p50[\s\S]*p95[\s\S]*p99/);
    // Another window answers too (by hour).
    await page.selectOption("select[aria-label=window]", "3");
    await page.waitForFunction(() => document.querySelector(".metrics .hint")?.textContent?.includes("by hour"));
    await page.waitForFunction(() => document.querySelector("[data-testid=metrics-totals]")?.textContent?.includes("3 invocations"));
  });

  it("shows the tenant overview: the busiest and the most failing scripts", async () => {
    await scriptWithRuns("busy-one", ["a", "b", "c"]);
    await scriptWithRuns("failing-one", ["fail", "fail"]);
    await signIn(page, tenant.key);
    await page.click("text=Overview");
    await page.waitForSelector("[data-testid=chart-invocations] canvas");
    await page.waitForSelector("[data-testid=busiest] >> text=busy-one");
    await page.waitForFunction(() => document.querySelector("[data-testid=busiest] tbody tr")?.textContent?.startsWith("busy-one"));
    await page.waitForFunction(() => document.querySelector("[data-testid=failing] tbody tr")?.textContent?.startsWith("failing-one"));
    expect(await page.locator("[data-testid=failing] tbody tr").count()).toBe(1);
  });

  it("tails executions live, with filters, pause and clear", async () => {
    const { script } = await scriptWithRuns("tailed", []);
    await signIn(page, tenant.key);
    await page.click("text=Live tail");
    await page.waitForSelector("[data-testid=tail-state][data-state=live]");
    const first = await api(`/api/scripts/${script.id}/run`, { token: tenant.key, body: { input: "hello" } });
    await page.waitForSelector(`tr[data-execution="${first.id}"] >> text=ran hello`);
    // Failures only: a completed run does not show, a failed one does.
    await page.selectOption("select[aria-label='tail status']", "failed,timeout");
    await page.waitForSelector("[data-testid=tail-state][data-state=live]");
    const ok = await api(`/api/scripts/${script.id}/run`, { token: tenant.key, body: { input: "fine" } });
    const failed = await api(`/api/scripts/${script.id}/run`, { token: tenant.key, body: { input: "fail" } });
    await page.waitForSelector(`tr[data-execution="${failed.id}"] >> text=asked to`);
    expect(await page.locator(`tr[data-execution="${ok.id}"]`).count()).toBe(0);
    // Paused: what arrives is held, then shown on resume.
    await page.click("button:has-text('Pause')");
    const held = await api(`/api/scripts/${script.id}/run`, { token: tenant.key, body: { input: "fail" } });
    await page.waitForSelector("button:has-text('Resume (1 new)')");
    expect(await page.locator(`tr[data-execution="${held.id}"]`).count()).toBe(0);
    await page.click("button:has-text('Resume')");
    await page.waitForSelector(`tr[data-execution="${held.id}"]`);
    await page.click("button:has-text('Clear')");
    await page.waitForSelector("text=Waiting for executions…");
  });

  it("links an execution to its trace: the executions of that trace", async () => {
    const { runs } = await scriptWithRuns("traced", ["x"]);
    await signIn(page, tenant.key);
    await page.click("text=Executions");
    await page.locator("[data-testid=executions] tbody tr").first().locator("td").first().click();
    await page.click("[data-testid=trace-link]");
    await page.waitForFunction((id) => location.hash === `#/traces/${id}`, runs[0].traceId);
    await page.waitForSelector(`h2 >> text=${runs[0].traceId}`);
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=executions] tbody tr").length === 1);
  });

  it("keeps Monaco out of the sign-in and list screens: the editor loads with the script page", async () => {
    const loaded: string[] = [];
    page.on("request", (request) => loaded.push(request.url()));
    await signIn(page, tenant.key);
    await page.waitForSelector("text=No scripts yet.");
    expect(loaded.filter((url) => /editor\.api|ts\.worker|uPlot/.test(url))).toEqual([]);
  });
});
