import { createApp } from "./http/app";
import { openDb } from "./db/client";
import { consumeBatch } from "./events/consumer";
import { purgeAuditLog } from "./services/audit";

export { TenantRunner } from "./tenant/runner";

const app = createApp();

export default {
  fetch: app.fetch,

  /** The events queue and its dead-letter queue (src/events/consumer.ts). */
  async queue(batch: MessageBatch, env: Env, _ctx: ExecutionContext) {
    await consumeBatch(batch, env);
  },

  /** Platform chores once a minute: the audit log's retention. */
  async scheduled(_controller: ScheduledController, env: Env, ctx: ExecutionContext) {
    ctx.waitUntil(purgeAuditLog(openDb(env.DB), Number(env.AUDIT_RETENTION_DAYS) || 90));
  },
} satisfies ExportedHandler<Env>;
