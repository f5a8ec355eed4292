import { exports } from "cloudflare:workers";

/** A request to a tenant's public endpoint, as any HTTP client would send it. */
export async function hit(slug: string, path: string, init: RequestInit & { json?: unknown } = {}) {
  const headers = new Headers(init.headers);
  let body = init.body;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    headers.set("content-type", "application/json");
  }
  const res = await exports.default.fetch(new Request(`http://iota.test/t/${slug}${path}`, { ...init, headers, body }));
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}
