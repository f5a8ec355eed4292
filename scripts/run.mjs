#!/usr/bin/env node
// Runs a project binary (wrangler, …) with the project's environment (see project-env.mjs).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { projectEnv, root } from "./project-env.mjs";

const [command, ...args] = process.argv.slice(2);
const result = spawnSync(join(root, "node_modules", ".bin", command), args, { cwd: root, env: projectEnv(), stdio: "inherit" });
process.exit(result.status ?? 1);
