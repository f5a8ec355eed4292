import { describe, expect, it } from "vitest";
import { fetchHost, type SeenRequest, testInternet } from "./fetch-host";
import { evaluate, newSandbox, run, thrown } from "./helpers";

describe("Headers (realm-side)", () => {
  const sandbox = newSandbox();

  it("compares names without case, combines values, keeps each Set-Cookie", async () => {
    const result = await evaluate(
      sandbox,
      `const h = new Headers({ "Content-Type": "text/plain", "X-Multi": "a" });
      h.append("x-multi", " b ");
      h.append("Set-Cookie", "a=1");
      h.append("set-cookie", "b=2");
      return {
        type: h.get("CONTENT-TYPE"), multi: h.get("x-multi"), cookie: h.get("set-cookie"), cookies: h.getSetCookie(),
        has: [h.has("content-type"), h.has("nope")], missing: h.get("nope"),
        entries: [...h], keys: [...h.keys()],
        fromPairs: [...new Headers([["B", "2"], ["a", "1"]])], copy: new Headers(h).get("x-multi"),
      };`,
    );
    expect(result).toEqual({
      type: "text/plain",
      multi: "a, b",
      cookie: "a=1, b=2",
      cookies: ["a=1", "b=2"],
      has: [true, false],
      missing: null,
      entries: [["content-type", "text/plain"], ["set-cookie", "a=1"], ["set-cookie", "b=2"], ["x-multi", "a, b"]],
      keys: ["content-type", "set-cookie", "set-cookie", "x-multi"],
      fromPairs: [["a", "1"], ["b", "2"]],
      copy: "a, b",
    });
  });

  it("refuses invalid names and values", async () => {
    for (const call of [`new Headers({ "bad name": "x" })`, `new Headers().set("x", "a\\nb")`, `new Headers().set("x", "\\u20ac")`, `new Headers([["a"]])`, `new Headers().append("x")`]) {
      expect((await thrown(sandbox, `${call};`))[0], call).toBe("TypeError");
    }
  });
});

describe("Response and Request (realm-side, bodies read once)", () => {
  const sandbox = newSandbox();

  it("new Response: status, headers, text body with its content type", async () => {
    const result = await evaluate(
      sandbox,
      `const r = new Response("ok");
      const custom = new Response("gone", { status: 404, statusText: "Not Here", headers: { "x-a": "1" } });
      return [r.status, r.ok, r.statusText, r.type, r.url, r.redirected, r.headers.get("content-type"), r.bodyUsed, await r.text(), r.bodyUsed,
        custom.status, custom.ok, custom.statusText, custom.headers.get("x-a"), new Response().body, await new Response(null).text()];`,
    );
    expect(result).toEqual([200, true, "", "default", "", false, "text/plain;charset=UTF-8", false, "ok", true, 404, false, "Not Here", "1", null, ""]);
  });

  it("reads a body once, as text, JSON, bytes, an ArrayBuffer or a Blob; clone reads twice", async () => {
    const result = await evaluate(
      sandbox,
      `const r = new Response('{"a":[1,"é"]}');
      const copy = r.clone();
      const json = await r.json();
      let again;
      try { await r.text(); } catch (e) { again = e.name; }
      const bytes = await copy.bytes();
      const binary = new Response(new Uint8Array([0, 255, 128]));
      const buffer = await binary.arrayBuffer();
      const blob = await new Response("blob text", { headers: { "content-type": "text/x-custom" } }).blob();
      return [json, again, bytes.length, bytes instanceof Uint8Array, [...new Uint8Array(buffer)], binary.headers.get("content-type"), blob.type, blob.size, await blob.text()];`,
    );
    expect(result).toEqual([{ a: [1, "é"] }, "TypeError", 14, true, [0, 255, 128], null, "text/x-custom", 9, "blob text"]);
  });

  it("Response.json, Response.redirect, Response.error", async () => {
    const result = await evaluate(
      sandbox,
      `const j = Response.json({ ok: true }, { status: 202, headers: { "x-b": "2" } });
      const r = Response.redirect("https://example.com/next", 301);
      let immutable, badStatus, badUrl;
      try { r.headers.set("x", "y"); } catch (e) { immutable = e.name; }
      try { Response.redirect("https://example.com/", 200); } catch (e) { badStatus = e.name; }
      try { Response.redirect("/relative"); } catch (e) { badUrl = e.name; }
      const e = Response.error();
      return [j.status, j.headers.get("content-type"), j.headers.get("x-b"), await j.json(), r.status, r.headers.get("location"), Response.redirect("https://a.example/").status,
        immutable, badStatus, badUrl, e.type, e.status];`,
    );
    expect(result).toEqual([202, "application/json", "2", { ok: true }, 301, "https://example.com/next", 302, "TypeError", "RangeError", "TypeError", "error", 0]);
  });

  it("refuses bad statuses and bodies on null-body statuses", async () => {
    expect((await thrown(sandbox, `new Response("x", { status: 99 });`))[0]).toBe("RangeError");
    expect((await thrown(sandbox, `new Response("x", { status: 600 });`))[0]).toBe("RangeError");
    expect((await thrown(sandbox, `new Response("x", { status: 204 });`))[0]).toBe("TypeError");
    expect(await evaluate(sandbox, `return new Response(null, { status: 204 }).status;`)).toBe(204);
  });

  it("body is a minimal stream: readable once, and new Response(res.body, res) passes a body on", async () => {
    const result = await evaluate(
      sandbox,
      `const original = new Response("streamed", { status: 201, headers: { "x-c": "3" } });
      const proxied = new Response(original.body, original);
      const reader = new Response("abc").body.getReader();
      const first = await reader.read(), second = await reader.read();
      const chunks = [];
      for await (const chunk of new Response("xyz").body) chunks.push(chunk.length);
      return [await proxied.text(), proxied.status, proxied.headers.get("x-c"), original.bodyUsed, [...first.value], first.done, second.done, chunks, typeof ReadableStream];`,
    );
    expect(result).toEqual(["streamed", 201, "3", true, [97, 98, 99], false, true, [3], "undefined"]);
  });

  it("caps the bodies a script builds at outputBytes", async () => {
    const limits = { outputBytes: 1000 };
    expect(await evaluate(sandbox, `return (await new Response("x".repeat(1000)).text()).length;`, { limits })).toBe(1000);
    expect(await thrown(sandbox, `new Response("x".repeat(1001));`, { limits })).toEqual(["RangeError", expect.stringContaining("outputBytes")]);
    expect((await thrown(sandbox, `new Response("€".repeat(334));`, { limits }))[0]).toBe("RangeError");
    expect((await thrown(sandbox, `new Response(new Uint8Array(1001));`, { limits }))[0]).toBe("RangeError");
    expect((await thrown(sandbox, `Response.json("x".repeat(1000));`, { limits }))[0]).toBe("RangeError");
    expect((await thrown(sandbox, `new Request("https://a.example/", { method: "POST", body: "x".repeat(1001) });`, { limits }))[0]).toBe("RangeError");
  });

  it("Request: URL, method, headers, body, clone, signal", async () => {
    const result = await evaluate(
      sandbox,
      `const r = new Request("https://Example.com/a/../b?q=1", { method: "post", headers: { "X-Y": "z" }, body: JSON.stringify({ n: 1 }) });
      const copy = r.clone();
      const moved = new Request(r, { headers: { a: "b" } });
      const controller = new AbortController();
      const withSignal = new Request("https://example.com/", { signal: controller.signal });
      controller.abort("stop");
      return [r.url, r.method, r.headers.get("x-y"), r.headers.get("content-type"), await copy.json(), r.bodyUsed, await moved.text(), moved.headers.get("x-y"), moved.method,
        new Request("https://e.example/", { method: "patch" }).method, withSignal.signal.aborted, withSignal.signal.reason, new Request("https://e.example/").signal.aborted,
        new Request(new URL("https://u.example/x")).url];`,
    );
    expect(result).toEqual(["https://example.com/b?q=1", "POST", "z", "text/plain;charset=UTF-8", { n: 1 }, true, '{"n":1}', null, "POST", "patch", true, "stop", false, "https://u.example/x"]);
    for (const call of [`new Request("/relative")`, `new Request("https://a.example/", { method: "GET", body: "x" })`, `new Request("https://a.example/", { method: "CONNECT" })`, `new Request("https://a.example/", { method: "bad method" })`]) {
      expect((await thrown(sandbox, `${call};`))[0], call).toBe("TypeError");
    }
  });
});

describe("Blob, File and FormData", () => {
  const sandbox = newSandbox();

  it("Blob and File hold bytes, slice and read them", async () => {
    const result = await evaluate(
      sandbox,
      `const b = new Blob(["héllo", new Uint8Array([32]), new Blob(["world"])], { type: "Text/Plain" });
      const f = new File(["abc"], "a.txt", { type: "text/plain", lastModified: 42 });
      return [b.size, b.type, await b.text(), await b.slice(1, 3).text(), await b.slice(-5).text(), [...await b.slice(0, 2).bytes()], f.name, f.lastModified, f.size, f instanceof Blob,
        new Blob(["a\\r\\nb"], { endings: "native" }).size, new Blob().size, new Blob(["x"], { type: "bad\\u0001" }).type];`,
    );
    expect(result).toEqual([12, "text/plain", "héllo world", "é", "world", [104, 195], "a.txt", 42, 3, true, 3, 0, ""]);
  });

  it("FormData: entries, Blobs become Files, and it round-trips through a multipart body (host-parsed)", async () => {
    const result = await evaluate(
      sandbox,
      `const form = new FormData();
      form.append("name", "ada");
      form.append("name", "grace");
      form.append("upload", new Blob([new Uint8Array([1, 2, 3])], { type: "application/x-bin" }));
      form.append("named", new Blob(["t"]), "n.txt");
      form.set("quote", 'a "b"\\nc');
      const request = new Request("https://a.example/", { method: "POST", body: form });
      const type = request.headers.get("content-type");
      const parsed = await request.formData();
      const upload = parsed.get("upload");
      return [form.getAll("name"), form.get("upload").name, form.has("named"), type.startsWith("multipart/form-data; boundary="),
        parsed.getAll("name"), upload.name, upload.type, [...await upload.bytes()], await parsed.get("named").text(), parsed.get("quote"), [...parsed.keys()].length];`,
    );
    expect(result).toEqual([["ada", "grace"], "blob", true, true, ["ada", "grace"], "blob", "application/x-bin", [1, 2, 3], "t", 'a "b"\r\nc', 5]);
  });

  it("parses urlencoded bodies and URLSearchParams bodies; refuses what is not form data", async () => {
    const result = await evaluate(
      sandbox,
      `const a = await new Response("a=1&b=x+y", { headers: { "content-type": "application/x-www-form-urlencoded" } }).formData();
      const p = new Response(new URLSearchParams({ q: "é" }));
      const type = p.headers.get("content-type");
      const b = await p.formData();
      let refused;
      try { await new Response("{}", { headers: { "content-type": "application/json" } }).formData(); } catch (e) { refused = e.name; }
      return [a.get("a"), a.get("b"), type, b.get("q"), refused];`,
    );
    expect(result).toEqual(["1", "x y", "application/x-www-form-urlencoded;charset=UTF-8", "é", "TypeError"]);
  });
});

describe("fetch (iota.http underneath)", () => {
  const sandbox = newSandbox();

  it("GETs and POSTs with bytes both ways, byte-exact", async () => {
    const seen: SeenRequest[] = [];
    const host = fetchHost(testInternet, seen);
    const result = await run(
      sandbox,
      `export default async () => {
        const got = await fetch("https://echo.test/path?q=1", { headers: { "X-Token": "t", host: "evil.example" } });
        const echoed = await got.json();
        const posted = await (await fetch(new Request("https://echo.test/up", { method: "PUT", body: new Uint8Array([0, 255, 10, 13]) }))).json();
        const bytes = await fetch("https://bytes.test/");
        return { status: got.status, ok: got.ok, type: got.headers.get("content-type"), url: got.url, method: echoed.method, token: echoed.headers["x-token"],
          posted: [posted.method, posted.bodyBytes], bytes: [...new Uint8Array(await bytes.arrayBuffer())], responseType: got.type };
      };`,
      { host },
    );
    expect(result.status, JSON.stringify(result.error)).toBe("completed");
    expect(result.result).toEqual({
      status: 200,
      ok: true,
      type: "application/json",
      url: "https://echo.test/path?q=1",
      method: "GET",
      token: "t",
      posted: ["PUT", [0, 255, 10, 13]],
      bytes: [0, 1, 2, 253, 254, 255],
      responseType: "default",
    });
    expect(result.sdkCalls).toBe(3);
    // The platform's own headers are left out, not sent as the script wrote them.
    expect(seen[0]!.headers.host).toBeUndefined();
  });

  it("answers every Set-Cookie, the status text, immutable headers; follows redirects", async () => {
    const result = await run(
      sandbox,
      `export default async () => {
        const r = await fetch("https://cookies.test/");
        let immutable;
        try { r.headers.set("x", "y"); } catch (e) { immutable = e.name; }
        const redirected = await fetch("https://redirect.test/");
        const manual = await fetch("https://redirect.test/", { redirect: "manual" });
        return [r.status, r.statusText, r.headers.getSetCookie(), await r.text(), immutable, redirected.redirected, redirected.url, manual.status, manual.headers.get("location")];
      };`,
      { host: fetchHost(testInternet) },
    );
    expect(result.result).toEqual([201, "Made", ["a=1; Path=/", "b=2; HttpOnly"], "cookies", "TypeError", true, "https://echo.test/landed", 302, "https://echo.test/landed"]);
  });

  it("sends FormData as multipart, parsed by the server", async () => {
    const result = await evaluate(
      sandbox,
      `const form = new FormData();
      form.append("a", "1");
      form.append("f", new File(["xyz"], "x.txt", { type: "text/plain" }));
      return (await fetch("https://form.test/", { method: "POST", body: form })).json();`,
      { host: fetchHost(testInternet) },
    );
    expect(result).toEqual([["a", "1"], ["f", "file:x.txt:text/plain:3"]]);
  });

  it("throws NetworkPolicyError for refused addresses, TypeError when the network fails, ResponseTooLargeError past 1 MiB", async () => {
    const host = fetchHost(testInternet);
    const errors = await evaluate(
      sandbox,
      `const attempt = async (url) => { try { await fetch(url); return "fetched"; } catch (e) { return [e.name, e instanceof iota.NetworkPolicyError, e instanceof TypeError]; } };
      return [await attempt("http://127.0.0.1/"), await attempt("http://169.254.169.254/latest/meta-data/"), await attempt("http://[::1]/"), await attempt("https://fails.test/"), await attempt("https://big.test/"),
        await attempt("https://redirect.test/?to=" + encodeURIComponent("http://10.0.0.1/")), await attempt("not a url")];`,
      { host },
    );
    expect(errors).toEqual([
      ["NetworkPolicyError", true, false],
      ["NetworkPolicyError", true, false],
      ["NetworkPolicyError", true, false],
      ["TypeError", false, true],
      ["ResponseTooLargeError", false, false],
      ["NetworkPolicyError", true, false],
      ["TypeError", false, true],
    ]);
  });

  it("rejects with the signal's reason when aborted, before or during the request", async () => {
    const result = await evaluate(
      sandbox,
      `const before = new AbortController(); before.abort();
      let early;
      try { await fetch("https://echo.test/", { signal: before.signal }); } catch (e) { early = e.name; }
      let timedOut;
      try { await fetch("https://slow.test/?ms=200", { signal: AbortSignal.timeout(20) }); } catch (e) { timedOut = [e.name, e instanceof DOMException]; }
      return [early, timedOut];`,
      { host: fetchHost(testInternet) },
    );
    expect(result).toEqual(["AbortError", ["TimeoutError", true]]);
  });

  it("counts toward sdkCallsPerExecution like iota.http", async () => {
    const result = await run(sandbox, `export default async () => { for (let i = 0; i < 3; i++) await fetch("https://echo.test/"); };`, {
      host: fetchHost(testInternet),
      limits: { sdkCallsPerExecution: 2 },
    });
    expect(result).toMatchObject({ status: "failed", error: { name: "QuotaExceededError" } });
  });

  it("without an http host, fails with the host's answer", async () => {
    expect((await thrown(sandbox, `await fetch("https://echo.test/");`))[0]).toBe("NotImplementedError");
  });
});
