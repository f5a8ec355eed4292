import { exports } from "cloudflare:workers";

/**
 * A request to a tenant's public endpoint, as any HTTP client would send it: at
 * `/t/<slug><path>`, or with `host: true` on the tenant's own host (`<slug>.localhost<path>`).
 */
export async function hit(slug: string, path: string, init: RequestInit & { json?: unknown; host?: boolean } = {}) {
  const headers = new Headers(init.headers);
  let body = init.body;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    headers.set("content-type", "application/json");
  }
  const url = init.host ? `http://${slug}.localhost${path}` : `http://iota.test/t/${slug}${path}`;
  const res = await exports.default.fetch(new Request(url, { ...init, headers, body }));
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}
