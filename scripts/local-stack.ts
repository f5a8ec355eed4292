/**
 * The whole stack under `wrangler dev` on a free loopback port, with its own state folder
 * and a fresh admin token: what the benchmark and the browser tests run against.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { projectEnv, root } from "./project-env.mjs";

export interface LocalStack {
  base: string;
  adminToken: string;
  secretsKey: string;
  stop: () => void;
  /** SIGKILL to wrangler and workerd: a crash, nothing flushed, nothing shut down. */
  kill: () => void;
}

export interface LocalStackOptions {
  config: string;
  stateDir: string;
  /** Start on the state a previous stack left (default: a clean state). */
  keepState?: boolean;
  /** The admin token and secrets key to use (default: fresh ones); a restart on kept state passes the first stack's. */
  adminToken?: string;
  secretsKey?: string;
  /** More `--var`s, e.g. RETRY_BASE_SECONDS. */
  vars?: Record<string, string>;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts `wrangler dev -c <config>` with its state in `stateDir` (clean unless `keepState`), and waits for /health. */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const wrangler = join(root, "node_modules", ".bin", "wrangler");
  if (!options.keepState) rmSync(options.stateDir, { recursive: true, force: true });
  const env = projectEnv({ CI: "true" });
  const migrate = spawnSync(wrangler, ["d1", "migrations", "apply", "DB", "--local", "-c", options.config, "--persist-to", options.stateDir], { cwd: root, env, stdio: "pipe" });
  if (migrate.status !== 0) throw new Error(`migrations failed: ${migrate.stderr}`);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const adminToken = options.adminToken ?? "stack-admin-" + randomBytes(12).toString("hex");
  const args = ["dev", "-c", options.config, "--local", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", options.stateDir, "--show-interactive-dev-session=false"];
  const secretsKey = options.secretsKey ?? randomBytes(32).toString("base64");
  args.push("--var", `ADMIN_TOKEN:${adminToken}`, "--var", `SECRETS_KEY:${secretsKey}`);
  for (const [name, value] of Object.entries(options.vars ?? {})) args.push("--var", `${name}:${value}`);
  const child: ChildProcess = spawn(wrangler, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const signal = (name: NodeJS.Signals) => () => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      child.kill(name);
    }
  };
  const stop = signal("SIGTERM");
  const kill = signal("SIGKILL");
  let exited = false;
  child.on("exit", () => (exited = true));
  const until = Date.now() + 90_000;
  while (Date.now() < until && !exited) {
    try {
      if ((await fetch(`${base}/health`)).ok) return { base, adminToken, secretsKey, stop, kill };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  stop();
  throw new Error(`wrangler dev did not come up:\n${output.slice(-3000)}`);
}
