import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { join } from "node:path";
import { defineConfig } from "vitest/config";
import { outbound } from "./test/outbound.ts";

const root = import.meta.dirname;

// Two projects over the same tests where it matters:
// - workers: everything, inside workerd with the real bindings from wrangler.toml (D1,
//   Queues, Durable Objects); the catalogue's migrations are applied by test/setup.ts.
// - node: the sandbox (src/sandbox knows nothing of Workers), so its guarantees hold in
//   both runtimes.
// - ui: the admin UI in a real browser against `wrangler dev` (needs /usr/bin/chromium;
//   without it the UI tests are skipped with a notice at the end, and under CI=true fail).
export default defineConfig({
  test: {
    // The notice at the end names the UI tests skipped for want of a browser (test/ui/browser-notice.ts).
    reporters: ["default", "./test/ui/browser-notice.ts"],
    projects: [
      {
        plugins: [
          cloudflareTest(async () => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              outboundService: outbound,
              bindings: {
                ADMIN_TOKEN: "test-admin-token",
                // Retries at once, so whole retry sequences fit in a test; the 2 s base is tested on its own.
                RETRY_BASE_SECONDS: "0",
                SECRETS_KEY: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
                TEST_MIGRATIONS: await readD1Migrations(join(root, "migrations")),
              },
            },
          })),
        ],
        resolve: { alias: { "#quickjs-wasm": join(root, "src/lib/quickjs-wasm.ts") } },
        test: {
          name: "workers",
          include: ["test/**/*.test.ts"],
          exclude: ["test/node/**", "test/ui/**"],
          setupFiles: ["./test/setup.ts"],
        },
      },
      {
        resolve: { alias: { "#quickjs-wasm": join(root, "test/sandbox/wasm-node.ts") } },
        test: {
          name: "node",
          environment: "node",
          include: ["test/sandbox/**/*.test.ts", "test/node/**/*.test.ts"],
        },
      },
      {
        // The admin UI in Debian's chromium, against the whole stack under `wrangler dev`.
        test: {
          name: "ui",
          environment: "node",
          include: ["test/ui/**/*.test.ts"],
          globalSetup: ["./test/ui/global-setup.ts"],
          // Tests wait for states, not time; these bounds only end a hang (test/ui/browser.ts WAIT_MS).
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
