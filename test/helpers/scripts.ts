import { expect } from "vitest";
import { call, createScript } from "./api";

/**
 * Runs `body` (the inside of an async default function) as a manual script of the tenant
 * and answers the execution record. The script's `event.input` is `input`.
 */
export async function runScript(key: string, body: string, input: unknown = null, extra: Record<string, unknown> = {}) {
  const script = await createScript(key, { name: `s-${crypto.randomUUID().slice(0, 8)}`, source: `export default async (event, ctx) => {\n${body}\n};`, ...extra });
  const res = await call(`/api/scripts/${script.id}/run`, { method: "POST", token: key, body: { input } });
  expect(res.status, res.text).toBe(200);
  return res.json as { status: string; result: any; error: { name: string; message: string } | null; logs: Array<{ message: string }>; sdkCalls: number; id: string };
}

/** Like runScript, but the script must complete; answers its result. */
export async function resultOf(key: string, body: string, input: unknown = null) {
  const execution = await runScript(key, body, input);
  expect(execution.status, JSON.stringify(execution.error)).toBe("completed");
  return execution.result;
}
