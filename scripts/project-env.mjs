// Keeps wrangler's config, logs and caches inside the project, and its metrics off, for every
// command the project runs (npm start, the tests, the bench).
import { join } from "node:path";

export const root = join(import.meta.dirname, "..");

export function projectEnv(extra = {}) {
  return {
    ...process.env,
    XDG_CONFIG_HOME: join(root, ".config"),
    XDG_DATA_HOME: join(root, ".data"),
    XDG_CACHE_HOME: join(root, ".cache"),
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_LOG_PATH: join(root, ".wrangler", "logs"),
    ...extra,
  };
}
