import { describe, expect, it } from "vitest";
import type { ScriptResponse } from "../../src/sandbox/realm";
import { expectHealthy, newSandbox, run } from "./helpers";

/** A fetch request as the platform hands it to the sandbox. */
function request(body: string | Uint8Array | null, headers: Array<[string, string]> = [], method = "POST") {
  return { url: "https://acme.example.com/hooks/github?x=1", method, headers, body: typeof body === "string" ? new TextEncoder().encode(body) : body };
}

/** Runs a handler-object script for a trigger; answers the result and the Response it handed over. */
async function runHandler(source: string, trigger: string, options: { body?: string | Uint8Array | null; headers?: Array<[string, string]>; event?: unknown; env?: Record<string, string> } = {}) {
  const sandbox = newSandbox();
  let response: ScriptResponse | null = null;
  const env = options.env ?? {};
  const result = await run(sandbox, source, {
    ctx: { trigger },
    event: options.event ?? {},
    call: {
      request: trigger === "http" ? request(options.body ?? null, options.headers) : undefined,
      env: { names: Object.keys(env), read: (name) => env[name] },
      basePath: "",
      onResponse: (r) => (response = r),
    },
  });
  return { result, response: response as ScriptResponse | null, sandbox };
}

describe("the handler object", () => {
  it("fetch receives a web Request with the URL, method, headers and raw body, and its Response is handed over", async () => {
    const { result, response } = await runHandler(
      `export default { async fetch(request, env, ctx) {
        const body = await request.text();
        return Response.json({ url: request.url, method: request.method, type: request.headers.get("content-type"), body, basePath: ctx.basePath });
      } };`,
      "http",
      { body: '{"a": 1 }', headers: [["content-type", "application/json"]] },
    );
    expect(result.status, JSON.stringify(result.error)).toBe("completed");
    expect(response!.status).toBe(200);
    expect(JSON.parse(response!.body as string)).toEqual({ url: "https://acme.example.com/hooks/github?x=1", method: "POST", type: "application/json", body: '{"a": 1 }', basePath: "" });
    expect(result.result).toEqual({ status: 200 });
    expect(result.responseMs).toBeGreaterThanOrEqual(0);
  });

  it("request bytes arrive exactly and a Uint8Array response body leaves exactly", async () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const { result, response } = await runHandler(
      `export default { async fetch(request) {
        const got = await request.bytes();
        return new Response(got.reverse(), { headers: { "content-type": "application/octet-stream" } });
      } };`,
      "http",
      { body: bytes },
    );
    expect(result.status, JSON.stringify(result.error)).toBe("completed");
    expect([...(response!.body as Uint8Array)]).toEqual([...bytes].reverse());
  });

  it("several Set-Cookie headers stay separate", async () => {
    const { response } = await runHandler(
      `export default { fetch() {
        const headers = new Headers();
        headers.append("set-cookie", "a=1; Path=/");
        headers.append("set-cookie", "b=2; Path=/");
        return new Response("ok", { headers });
      } };`,
      "http",
    );
    expect(response!.headers.filter(([name]) => name === "set-cookie")).toEqual([["set-cookie", "a=1; Path=/"], ["set-cookie", "b=2; Path=/"]]);
  });

  it("env reads a secret by name and ctx.waitUntil work runs after the response, inside the execution", async () => {
    const { result, response } = await runHandler(
      `export default { fetch(request, env, ctx) {
        ctx.waitUntil((async () => { await null; console.log("later", env.TOKEN.length); })());
        ctx.passThroughOnException();
        return new Response(Object.keys(env).join(","));
      } };`,
      "http",
      { env: { TOKEN: "s3cr3t-value", OTHER: "x" } },
    );
    expect(result.status, JSON.stringify(result.error)).toBe("completed");
    expect(response!.body).toBe("TOKEN,OTHER");
    expect(result.logs.map((l) => l.message)).toEqual(["later 12"]);
  });

  it("a waitUntil failure after the response fails the execution; the response stands", async () => {
    const { result, response } = await runHandler(
      `export default { fetch(request, env, ctx) {
        ctx.waitUntil(Promise.reject(new RangeError("late failure")));
        return new Response("ok", { status: 201 });
      } };`,
      "http",
    );
    expect(response!.status).toBe(201);
    expect(result.status).toBe("failed");
    expect(result.error).toMatchObject({ name: "RangeError", message: "late failure" });
  });

  it("scheduled, event and run get their trigger's argument", async () => {
    const source = `export default {
      scheduled(controller) { return { scheduled: controller.cron }; },
      event(event) { return { event: event.type }; },
      run(input, env, ctx) { return { run: input, trigger: ctx.trigger }; },
    };`;
    expect((await runHandler(source, "scheduled", { event: { scheduledTime: 1, cron: "* * * * *" } })).result.result).toEqual({ scheduled: "* * * * *" });
    expect((await runHandler(source, "event", { event: { type: "order.created" } })).result.result).toEqual({ event: "order.created" });
    expect((await runHandler(source, "manual", { event: { input: 42 } })).result.result).toEqual({ run: 42, trigger: "manual" });
  });

  it("a missing handler fails naming the handlers the object has", async () => {
    const { result } = await runHandler("const h = { run() {} }; export default h;", "http");
    expect(result.status).toBe("failed");
    expect(result.error?.message).toMatch(/no fetch handler .*its handlers: run/);
  });

  it("a fetch handler that answers something other than a Response fails", async () => {
    const { result, response } = await runHandler("export default { fetch() { return { status: 200 }; } };", "http");
    expect(response).toBeNull();
    expect(result.status).toBe("failed");
    expect(result.error).toMatchObject({ name: "TypeError" });
    expect(result.error?.message).toMatch(/must return a Response/);
  });

  it("the function form still gets event and ctx", async () => {
    const sandbox = newSandbox();
    const result = await run(sandbox, "export default (event, ctx) => ({ n: event.n, basePath: ctx.basePath ?? null })", { event: { n: 3 }, ctx: { trigger: "http" } });
    expect(result.result).toEqual({ n: 3, basePath: null });
    await expectHealthy(sandbox);
  });
});
