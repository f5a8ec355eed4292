import { createApp } from "./http/app";
import { openDb } from "./db/client";
import { purgeAuditLog } from "./services/audit";

export { TenantRunner } from "./tenant/runner";

const app = createApp();

export default {
  fetch: app.fetch,

  /** Queue consumers. Until the events issue lands, every message is retried, never dropped. */
  async queue(batch: MessageBatch, _env: Env, _ctx: ExecutionContext) {
    batch.retryAll({ delaySeconds: 30 });
  },

  /** Platform chores once a minute: the audit log's retention. */
  async scheduled(_controller: ScheduledController, env: Env, ctx: ExecutionContext) {
    ctx.waitUntil(purgeAuditLog(openDb(env.DB), Number(env.AUDIT_RETENTION_DAYS) || 90));
  },
} satisfies ExportedHandler<Env>;
