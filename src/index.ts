import { createApp } from "./http/app";
import { openDb } from "./db/client";
import { consumeBatch } from "./events/consumer";
import { purgeCatalogue } from "./services/retention";

export { TenantRunner } from "./tenant/runner";

const app = createApp();

export default {
  fetch: app.fetch,

  /** The events queue and its dead-letter queue (src/events/consumer.ts). */
  async queue(batch: MessageBatch, env: Env, _ctx: ExecutionContext) {
    await consumeBatch(batch, env);
  },

  /** Platform chores once a minute: retention of the audit log and rejected messages. */
  async scheduled(_controller: ScheduledController, env: Env, ctx: ExecutionContext) {
    ctx.waitUntil(purgeCatalogue(openDb(env.DB), env));
  },
} satisfies ExportedHandler<Env>;
