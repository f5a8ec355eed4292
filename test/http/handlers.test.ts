import { describe, expect, it } from "vitest";
import { call, createScript, expectError, recordedExecution, tenantWithKey } from "../helpers/api";
import { hit } from "../helpers/endpoint";
import { eventually } from "../helpers/wait";

/** An http script of the tenant whose default export is `source`'s. */
async function httpScript(key: string, source: string, trigger: Record<string, unknown>, placement: "auto" | "cell" = "auto") {
  return createScript(key, { name: `h-${crypto.randomUUID().slice(0, 8)}`, type: "http", trigger, source, placement });
}

const ECHO = `export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    return Response.json({
      url: request.url,
      pathname: url.pathname,
      method: request.method,
      type: request.headers.get("content-type"),
      body: await request.text(),
      basePath: ctx.basePath,
      trigger: ctx.trigger,
    });
  },
};`;

describe("the handler object over HTTP (API.md §13)", () => {
  for (const placement of ["auto", "cell"] as const) {
    it(`fetch gets a web Request (URL as received, method, headers, raw body with no JSON check) and its Response is sent, placement ${placement}`, async () => {
      const { slug, key } = await tenantWithKey();
      await httpScript(key, ECHO, { path: "/hooks/:name", methods: ["POST"] }, placement);
      const res = await hit(slug, "/hooks/github?x=1", { method: "POST", body: "{not json", headers: { "content-type": "application/json" } });
      expect(res.status, res.text).toBe(200);
      expect(res.headers.get("content-type")).toBe("application/json");
      expect(res.headers.get("server-timing")).toContain(`placement;desc="${placement === "auto" ? "edge" : "cell"}"`);
      expect(res.json).toEqual({
        url: `http://iota.test/t/${slug}/hooks/github?x=1`,
        pathname: `/t/${slug}/hooks/github`,
        method: "POST",
        type: "application/json",
        body: "{not json",
        basePath: `/t/${slug}`,
        trigger: "http",
      });
      const execution = await recordedExecution(key, res.headers.get("x-iota-execution-id")!);
      expect(execution).toMatchObject({ status: "completed", trigger: "http", result: { status: 200 } });
      expect(execution.responseMs).toBeGreaterThanOrEqual(0);
    });
  }

  it("on a tenant host the URL is the host's and basePath is empty", async () => {
    const { slug, key } = await tenantWithKey();
    await httpScript(key, ECHO, { path: "/api/*", methods: ["GET"] });
    const res = await hit(slug, "/api/things?q=1", { host: true });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ url: `http://${slug}.localhost/api/things?q=1`, pathname: "/api/things", basePath: "", body: "" });
  });

  it("binary bodies cross byte-exact both ways", async () => {
    const { slug, key } = await tenantWithKey();
    await httpScript(
      key,
      `export default { async fetch(request) {
        const bytes = new Uint8Array(await request.arrayBuffer());
        return new Response(bytes.reverse(), { headers: { "content-type": "application/octet-stream" } });
      } };`,
      { path: "/bytes", methods: ["POST"] },
    );
    const sent = Uint8Array.from({ length: 1024 }, (_, i) => (i * 7) % 256);
    const { exports } = await import("cloudflare:workers");
    const res = await exports.default.fetch(new Request(`http://iota.test/t/${slug}/bytes`, { method: "POST", body: sent }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    expect([...new Uint8Array(await res.arrayBuffer())]).toEqual([...sent].reverse());
  });

  for (const placement of ["auto", "cell"] as const) {
    it(`a binary body near the 1 MiB cap reaches the handler byte-exact within the default limits, and its record says its size, placement ${placement}`, async () => {
      const { slug, key } = await tenantWithKey();
      await httpScript(
        key,
        `export default { async fetch(request) {
          const bytes = new Uint8Array(await request.arrayBuffer());
          const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
          return Response.json({ size: bytes.length, sha256: [...digest].map((b) => b.toString(16).padStart(2, "0")).join("") });
        } };`,
        { path: "/upload", methods: ["POST"] },
        placement,
      );
      // Not UTF-8 (every byte value, zeros included): a lossy text copy of it cost the whole memory limit.
      const sent = Uint8Array.from({ length: 1000 * 1024 }, (_, i) => (i * 7919) % 256);
      const expected = [...new Uint8Array(await crypto.subtle.digest("SHA-256", sent))].map((b) => b.toString(16).padStart(2, "0")).join("");
      const { exports } = await import("cloudflare:workers");
      const res = await exports.default.fetch(new Request(`http://iota.test/t/${slug}/upload`, { method: "POST", body: sent, headers: { "content-type": "application/octet-stream" } }));
      const text = await res.text();
      expect(res.status, text).toBe(200);
      expect(JSON.parse(text)).toEqual({ size: sent.length, sha256: expected });
      const execution = await recordedExecution(key, res.headers.get("x-iota-execution-id")!);
      expect((execution.input as { body: unknown }).body).toBe(`[binary body: ${sent.length} bytes]`);
    });
  }

  for (const placement of ["auto", "cell"] as const) {
    it(`a function-form script that returns a Response is answered with it (status, headers, body), placement ${placement}`, async () => {
      const { slug, key } = await tenantWithKey();
      await httpScript(key, `export default async function (event) { return new Response("hi " + event.query.name, { status: 201, headers: { "x-made": "by-function" } }); }`, { path: "/fn", methods: ["GET"] }, placement);
      const res = await hit(slug, "/fn?name=ada");
      expect(res.status, res.text).toBe(201);
      expect(res.text).toBe("hi ada");
      expect(res.headers.get("x-made")).toBe("by-function");
      const execution = await recordedExecution(key, res.headers.get("x-iota-execution-id")!);
      expect(execution).toMatchObject({ status: "completed", result: { status: 201 } });
    });
  }

  it("form data, several Set-Cookie headers, redirects and Response.json", async () => {
    const { slug, key } = await tenantWithKey();
    await httpScript(
      key,
      `export default { async fetch(request) {
        const { pathname } = new URL(request.url);
        if (pathname.endsWith("/form")) {
          const form = await request.formData();
          const headers = new Headers({ "content-type": "text/plain" });
          headers.append("set-cookie", "a=1; Path=/");
          headers.append("set-cookie", "b=2; Path=/; HttpOnly");
          const file = form.get("file");
          return new Response("hello " + form.get("name") + " (" + (typeof file === "string" ? "text" : file.size + " bytes") + ")", { headers });
        }
        if (pathname.endsWith("/go")) return Response.redirect("https://example.com/next", 303);
        return Response.json({ ok: true }, { status: 201 });
      } };`,
      { path: "/f/*", methods: ["POST", "GET"] },
      // Cold, this loads most of the web groups: more than the edge's 50 ms CPU slice on a busy test machine.
      "cell",
    );
    const form = new FormData();
    form.set("name", "Ada");
    form.set("file", new File([new Uint8Array([1, 2, 3])], "x.bin"));
    const posted = await hit(slug, "/f/form", { method: "POST", body: form });
    expect(posted.status, JSON.stringify((await recordedExecution(key, posted.headers.get("x-iota-execution-id")!)).error)).toBe(200);
    expect(posted.text).toBe("hello Ada (3 bytes)");
    expect(posted.headers.getSetCookie()).toEqual(["a=1; Path=/", "b=2; Path=/; HttpOnly"]);
    const urlencoded = await hit(slug, "/f/form", { method: "POST", body: new URLSearchParams({ name: "Bo", file: "" }) });
    expect(urlencoded.text).toBe("hello Bo (text)");

    const { exports } = await import("cloudflare:workers");
    const redirect = await exports.default.fetch(new Request(`http://iota.test/t/${slug}/f/go`, { redirect: "manual" }));
    expect(redirect.status).toBe(303);
    expect(redirect.headers.get("location")).toBe("https://example.com/next");

    const json = await hit(slug, "/f/json");
    expect(json.status).toBe(201);
    expect(json.json).toEqual({ ok: true });
    expect(json.headers.get("content-type")).toBe("application/json");
  });

  it("HEAD gets the handler's status and headers without a body", async () => {
    const { slug, key } = await tenantWithKey();
    await httpScript(key, `export default { fetch(request) { return new Response(request.method === "HEAD" ? null : "full body", { headers: { "x-method": request.method } }); } };`, { path: "/h", methods: ["GET", "HEAD"] });
    const head = await hit(slug, "/h", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("x-method")).toBe("HEAD");
    expect(head.text).toBe("");
    const get = await hit(slug, "/h");
    expect(get.text).toBe("full body");
  });

  it("env holds the tenant's secrets by name, not counted as SDK calls, and their values are redacted from the record", async () => {
    const { slug, key } = await tenantWithKey();
    expect((await call("/api/secrets/WEBHOOK_SECRET", { method: "PUT", token: key, body: { value: "whsec-very-secret-1" } })).status).toBe(204);
    expect((await call("/api/secrets/OTHER", { method: "PUT", token: key, body: { value: "other-value-123" } })).status).toBe(204);
    await httpScript(
      key,
      `export default { async fetch(request, env) {
        const body = await request.text();
        const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(env.WEBHOOK_SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
        const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(body)));
        console.log("secret is", env.WEBHOOK_SECRET);
        return Response.json({ names: Object.keys(env).sort(), mac: [...mac].map((b) => b.toString(16).padStart(2, "0")).join(""), missing: env.NOPE ?? null });
      } };`,
      { path: "/sign", methods: ["POST"] },
    );
    const res = await hit(slug, "/sign", { method: "POST", body: "payload" });
    expect(res.status, res.text).toBe(200);
    const expected = await crypto.subtle.sign("HMAC", await crypto.subtle.importKey("raw", new TextEncoder().encode("whsec-very-secret-1"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]), new TextEncoder().encode("payload"));
    expect(res.json).toEqual({ names: ["OTHER", "WEBHOOK_SECRET"], mac: [...new Uint8Array(expected)].map((b) => b.toString(16).padStart(2, "0")).join(""), missing: null });
    const execution = await recordedExecution(key, res.headers.get("x-iota-execution-id")!);
    expect(execution.sdkCalls).toBe(0);
    expect(execution.logs.map((l: { message: string }) => l.message)).toEqual(["secret is [secret]"]);
  });

  it("the response leaves before waitUntil work ends; that work's logs are in the record, which ends when it settles", async () => {
    const { slug, key } = await tenantWithKey();
    await httpScript(
      key,
      `export default { fetch(request, env, ctx) {
        ctx.waitUntil(new Promise((resolve) => setTimeout(resolve, 1500)).then(() => console.log("after the response")));
        return new Response("accepted", { status: 202 });
      } };`,
      { path: "/later", methods: ["POST"] },
      "cell",
    );
    const res = await hit(slug, "/later", { method: "POST" });
    expect(res.status).toBe(202);
    expect(res.text).toBe("accepted");
    const id = res.headers.get("x-iota-execution-id")!;
    // The response is here while the execution is still running in the cell.
    expect((await call(`/api/executions/${id}`, { token: key })).json.status).toBe("running");
    const done = await eventually(() => call(`/api/executions/${id}`, { token: key }), (r) => r.json.status !== "running", 10_000);
    expect(done.json).toMatchObject({ status: "completed", logs: [{ message: "after the response" }] });
    expect(done.json.responseMs).toBeLessThan(done.json.durationMs);
  });

  for (const placement of ["auto", "cell"] as const) {
    it(`a waitUntil failure after the response marks the record failed; the response stands (placement ${placement})`, async () => {
      const { slug, key } = await tenantWithKey();
      await httpScript(
        key,
        `export default { fetch(request, env, ctx) {
          ctx.waitUntil((async () => { await null; console.log("working"); throw new Error("late failure"); })());
          return new Response("ok");
        } };`,
        { path: "/fail-late", methods: ["GET"] },
        placement,
      );
      const res = await hit(slug, "/fail-late");
      expect(res.status, res.status === 200 ? "" : JSON.stringify((await recordedExecution(key, res.headers.get("x-iota-execution-id")!)).error)).toBe(200);
      expect(res.text).toBe("ok");
      const execution = await eventually(() => recordedExecution(key, res.headers.get("x-iota-execution-id")!), (e) => e.status !== "running", 10_000);
      expect(execution).toMatchObject({ status: "failed", error: { name: "Error", message: "late failure" }, logs: [{ message: "working" }] });
      expect(typeof execution.responseMs).toBe("number");
    });
  }

  it("a handler that throws or returns no Response is a 500 script_error, and the next request runs", async () => {
    const { slug, key } = await tenantWithKey();
    await httpScript(
      key,
      `export default { fetch(request) {
        const { pathname } = new URL(request.url);
        if (pathname.endsWith("/throw")) throw new Error("boom");
        if (pathname.endsWith("/plain")) return { status: 200 };
        return new Response("fine");
      } };`,
      { path: "/e/*", methods: ["GET"] },
    );
    expectError(await hit(slug, "/e/throw"), 500, "script_error");
    const plain = await hit(slug, "/e/plain");
    expectError(plain, 500, "script_error");
    const execution = await recordedExecution(key, plain.headers.get("x-iota-execution-id")!);
    expect(execution.error.message).toMatch(/must return a Response/);
    expect((await hit(slug, "/e/ok")).text).toBe("fine");
  });

  it("the function form gets event.rawBody and still answers invalid JSON with 400 before it runs", async () => {
    const { slug, key } = await tenantWithKey();
    await httpScript(key, `export default async (event) => ({ parsed: event.body, raw: event.rawBody })`, { path: "/fn", methods: ["POST"] });
    const ok = await hit(slug, "/fn", { method: "POST", body: '{ "a" : 1 }', headers: { "content-type": "application/json" } });
    expect(ok.json).toEqual({ parsed: { a: 1 }, raw: '{ "a" : 1 }' });
    expectError(await hit(slug, "/fn", { method: "POST", body: "{nope", headers: { "content-type": "application/json" } }), 400, "invalid_request");
  });
});

describe("the handler object for the other triggers", () => {
  it("a manual run calls run(input, env, ctx)", async () => {
    const { key } = await tenantWithKey();
    const script = await createScript(key, { name: "runner", source: `export default { run(input, env, ctx) { return { doubled: input * 2, trigger: ctx.trigger, basePath: ctx.basePath }; } };` });
    const res = await call(`/api/scripts/${script.id}/run`, { method: "POST", token: key, body: { input: 21 } });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ status: "completed", result: { doubled: 42, trigger: "manual", basePath: "" } });
  });

  it("a published event calls event(event, env, ctx), with env and waitUntil as for fetch", async () => {
    const { key } = await tenantWithKey();
    expect((await call("/api/secrets/REGION", { method: "PUT", token: key, body: { value: "eu-west-region" } })).status).toBe(204);
    const script = await createScript(key, {
      name: "on-order",
      type: "event",
      trigger: { eventTypes: ["order.*"] },
      source: `export default { event(event, env, ctx) { ctx.waitUntil(Promise.resolve().then(() => console.log("later", event.type))); return { id: event.payload.id, region: env.REGION.length, trigger: ctx.trigger }; } };`,
    });
    expect((await call("/api/events", { method: "POST", token: key, body: { type: "order.created", payload: { id: 42 } } })).status).toBe(202);
    const [execution] = await eventually(async () => (await call(`/api/executions?scriptId=${script.id}`, { token: key })).json.items, (items: any[]) => items.length === 1 && items[0].status === "completed");
    expect(execution).toMatchObject({ trigger: "event", result: { id: 42, region: 14, trigger: "event" }, logs: [{ message: "later order.created" }] });
  });

  it("a manual run of a script without run → 400 naming the handlers it has", async () => {
    const { key } = await tenantWithKey();
    const script = await httpScript(key, `export default { fetch() { return new Response("x"); }, scheduled() {} };`, { path: "/x", methods: ["GET"] });
    for (const query of ["", "?async=true"]) {
      const error = expectError(await call(`/api/scripts/${script.id}/run${query}`, { method: "POST", token: key }), 400, "invalid_request");
      expect(error.message).toContain("its handlers: fetch, scheduled");
    }
    expect((await call("/api/executions", { token: key })).json.items).toEqual([]);
  });

  it("saving a handler object without its trigger's handler → 400", async () => {
    const { key } = await tenantWithKey();
    const res = await call("/api/scripts", { method: "POST", token: key, body: { name: "no-fetch", type: "http", trigger: { path: "/n", methods: ["GET"] }, source: "export default { run() {} };" } });
    const error = expectError(res, 400, "invalid_request");
    expect(error.details[0].message).toBe("a http script's default export needs a fetch handler (it has: run)");
    const scheduled = await call("/api/scripts", { method: "POST", token: key, body: { name: "no-scheduled", type: "manual", source: "const handlers = { fetch() {} };\nexport default handlers;" } });
    expect(expectError(scheduled, 400, "invalid_request").details[0].message).toContain("needs a run handler (it has: fetch)");
  });
});
