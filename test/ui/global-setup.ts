import { existsSync } from "node:fs";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startLocalStack } from "../../scripts/local-stack";
import { root } from "../../scripts/project-env.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    stack: { base: string; adminToken: string };
  }
}

/** The browser tests run against the real stack: `wrangler dev`, serving the built admin UI. */
export default async function setup(project: TestProject) {
  if (!existsSync(join(root, "dist", "admin", "index.html"))) throw new Error("the admin UI is not built: run `npm run build:ui` (npm test does)");
  const stack = await startLocalStack({ config: join(root, "wrangler.toml"), stateDir: join(root, ".wrangler", "ui-test-state") });
  project.provide("stack", { base: stack.base, adminToken: stack.adminToken });
  return () => stack.stop();
}
