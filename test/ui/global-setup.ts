import { existsSync } from "node:fs";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startLocalStack } from "../../scripts/local-stack";
import { root } from "../../scripts/project-env.mjs";
import { CHROMIUM, hasBrowser, INSTALL_BROWSER } from "./browser";

declare module "vitest" {
  export interface ProvidedContext {
    /** null: the browser is missing, and the UI tests are skipped. */
    stack: { base: string; adminToken: string } | null;
  }
}

/** The browser tests run against the real stack: `wrangler dev`, serving the built admin UI. */
export default async function setup(project: TestProject) {
  if (!hasBrowser()) {
    if (/^(true|1)$/i.test(process.env.CI ?? "")) throw new Error(`CI=true and the UI tests' browser is missing (${CHROMIUM}): a missing browser fails CI, never skips. Install it: ${INSTALL_BROWSER}`);
    project.provide("stack", null);
    return;
  }
  if (!existsSync(join(root, "dist", "admin", "index.html"))) throw new Error("the admin UI is not built: run `npm run build:ui` (npm test does)");
  const stack = await startLocalStack({ config: join(root, "wrangler.toml"), stateDir: join(root, ".wrangler", "ui-test-state") });
  project.provide("stack", { base: stack.base, adminToken: stack.adminToken });
  return () => stack.stop();
}
