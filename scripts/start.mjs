#!/usr/bin/env node
// `npm start`: the whole local stack on 127.0.0.1 (PORT, default 8787): creates .dev.vars with
// random secrets when missing, applies the D1 migrations locally, then runs `wrangler dev`.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { projectEnv, root } from "./project-env.mjs";

const port = process.env.PORT ?? "8787";
const wrangler = join(root, "node_modules", ".bin", "wrangler");
const env = projectEnv();
const devVars = join(root, ".dev.vars");

if (!existsSync(devVars)) {
  const adminToken = "iat_" + randomBytes(32).toString("base64url");
  const secretsKey = randomBytes(32).toString("base64");
  writeFileSync(devVars, `# Local secrets for wrangler dev, made by npm start. Never commit this file.\nADMIN_TOKEN=${adminToken}\nSECRETS_KEY=${secretsKey}\n`, {
    mode: 0o600,
  });
  console.log(`Created .dev.vars with a new ADMIN_TOKEN and SECRETS_KEY.`);
}
console.log(`The admin token is ADMIN_TOKEN in ${devVars}`);

// The admin UI is built into dist/admin (static assets) when missing or older than its sources.
if (uiIsStale()) {
  console.log("Building the admin UI…");
  const build = spawnSync(join(root, "node_modules", ".bin", "vite"), ["build", "--config", join(root, "admin", "vite.config.ts"), "--logLevel", "warn"], { cwd: root, env, stdio: "inherit" });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

const migrate = spawnSync(wrangler, ["d1", "migrations", "apply", "DB", "--local"], {
  cwd: root,
  env: { ...env, CI: "true" },
  stdio: "inherit",
});
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const dev = spawn(wrangler, ["dev", "--local", "--ip", "127.0.0.1", "--port", port, "--show-interactive-dev-session=false"], {
  cwd: root,
  env,
  stdio: "inherit",
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
dev.on("exit", (code) => process.exit(code ?? 0));

function uiIsStale() {
  const built = join(root, "dist", "admin", "index.html");
  if (!existsSync(built)) return true;
  const builtAt = statSync(built).mtimeMs;
  const newest = (path) => {
    const stat = statSync(path);
    if (!stat.isDirectory()) return stat.mtimeMs;
    return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
  };
  return Math.max(newest(join(root, "admin")), newest(join(root, "sdk"))) > builtAt;
}
