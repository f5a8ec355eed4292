// The internet, as the tests see it: every outbound fetch from workerd lands here (wired as
// miniflare's outboundService in vitest.config.ts), so no test sends traffic anywhere else.
import { Response, type Request } from "miniflare";

export async function outbound(request: Request): Promise<Response> {
  const url = new URL(request.url);
  switch (url.hostname) {
    case "echo.test":
      return Response.json({
        method: request.method,
        url: request.url,
        headers: Object.fromEntries(request.headers),
        body: request.method === "GET" || request.method === "HEAD" ? null : await request.text(),
      });
    case "slow.test":
      await new Promise((resolve) => setTimeout(resolve, Number(url.searchParams.get("ms") ?? "1000")));
      return new Response("slow");
    case "big.test": {
      // 2 MiB in 64 KiB chunks, without a content-length: only streaming reveals the size.
      const chunk = new Uint8Array(64 * 1024).fill(120);
      let sent = 0;
      const body = new ReadableStream({
        pull(controller) {
          if (sent >= 32) return controller.close();
          sent++;
          controller.enqueue(chunk);
        },
      });
      return new Response(body as unknown as ConstructorParameters<typeof Response>[0]);
    }
    case "redirect.test":
      return new Response(null, { status: Number(url.searchParams.get("status") ?? "302"), headers: { location: url.searchParams.get("to") ?? "/" } });
    case "chain.test": {
      const n = Number(url.pathname.slice(1) || "0");
      return n === 0 ? new Response("end of chain") : new Response(null, { status: 302, headers: { location: `https://chain.test/${n - 1}` } });
    }
    default:
      return new Response(`no such host in the test internet: ${url.hostname}`, { status: 502 });
  }
}
