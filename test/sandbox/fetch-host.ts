import type { HostApi } from "../../src/sandbox/host";
import { type OutboundContext, planRequest, send } from "../../src/host/http-client";

/** A Headers object as a plain record (forEach: iteration is not typed in every tsconfig here). */
function record(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => (out[name] = value));
  return out;
}

/** What a fake server sees of one request. */
export interface SeenRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

/**
 * A host whose `http.fetch` is the real iota.http client (address guard, redirects, caps)
 * over a fake network: `serve` answers every request that passes the guard; nothing leaves
 * the process.
 */
export function fetchHost(serve: (request: Request) => Response | Promise<Response>, seen: SeenRequest[] = []): HostApi {
  const network: typeof fetch = async (input, init) => {
    const request = new Request(input as string, init);
    const body = new Uint8Array(await request.arrayBuffer());
    seen.push({ url: request.url, method: request.method, headers: record(request.headers), body });
    if (request.signal.aborted) throw request.signal.reason;
    return serve(new Request(request.url, { method: request.method, headers: request.headers, body: body.byteLength > 0 ? body : null }));
  };
  const context = (remainingMs: number): OutboundContext => ({ remainingMs, allowedHosts: null, fetch: network, count: () => {} });
  return {
    functions: {
      "http.fetch": (args, info) => send(planRequest(args, null, context(info.remainingMs), info.bytes), context(info.remainingMs)),
      "http.get": (args, info) => send(planRequest(args, "GET", context(info.remainingMs), info.bytes), context(info.remainingMs)),
    },
  };
}

/** A small fake internet: echo.test echoes the request as JSON, cookies.test sets two cookies, big.test answers 2 MiB. */
export function testInternet(request: Request): Response | Promise<Response> {
  const url = new URL(request.url);
  switch (url.hostname) {
    case "echo.test":
      return request.arrayBuffer().then((body) =>
        Response.json({ method: request.method, url: request.url, headers: record(request.headers), bodyBytes: [...new Uint8Array(body)] }),
      );
    case "bytes.test":
      return new Response(new Uint8Array([0, 1, 2, 253, 254, 255]), { headers: { "content-type": "application/octet-stream" } });
    case "cookies.test": {
      const headers = new Headers({ "content-type": "text/plain" });
      headers.append("set-cookie", "a=1; Path=/");
      headers.append("set-cookie", "b=2; HttpOnly");
      return new Response("cookies", { status: 201, statusText: "Made", headers });
    }
    case "redirect.test":
      return new Response(null, { status: 302, headers: { location: url.searchParams.get("to") ?? "https://echo.test/landed" } });
    case "big.test":
      return new Response(new Uint8Array(2 * 1024 * 1024));
    case "form.test":
      return request.formData().then((form) => {
        const entries: [string, string][] = [];
        form.forEach((value, name) => entries.push([name, typeof value === "string" ? value : `file:${(value as File).name}:${value.type}:${value.size}`]));
        return Response.json(entries);
      });
    case "fails.test":
      throw new TypeError("connection refused");
    case "slow.test":
      return new Promise<Response>((resolve) => setTimeout(() => resolve(new Response("slow")), Number(url.searchParams.get("ms") ?? "1000")));
    default:
      return new Response("no such host", { status: 502 });
  }
}
