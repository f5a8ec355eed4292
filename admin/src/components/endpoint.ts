/** Where an http script answers: its public URLs, with copy buttons for the URL and a curl line. */
import type { Script } from "../api";
import { useWhoAmI } from "../tenant";
import { CopyButton, html } from "../ui";

/** The trigger's path with `:params` filled with their own names (`/hello/:name` → `/hello/name`). */
export function examplePath(script: Pick<Script, "trigger">): string {
  const path = typeof script.trigger.path === "string" ? script.trigger.path : "/";
  return path.replace(/:([A-Za-z0-9_]+)/g, "$1").replace(/\*$/, "");
}

export function firstMethod(script: Pick<Script, "trigger">): string {
  const methods = Array.isArray(script.trigger.methods) ? (script.trigger.methods as string[]) : [];
  return methods[0] ?? "GET";
}

/** A shell-safe curl command for a request. */
export function curlLine(method: string, url: string, headers: Array<[string, string]> = [], body?: string): string {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const parts = ["curl", "-i"];
  if (method !== "GET") parts.push("-X", method);
  parts.push(quote(url));
  for (const [name, value] of headers) parts.push("-H", quote(`${name}: ${value}`));
  if (body) parts.push("--data-raw", quote(body));
  return parts.join(" ");
}

export function EndpointUrls({ script }: { script: Script }) {
  const who = useWhoAmI();
  if (script.type !== "http" || !who) return null;
  const path = examplePath(script);
  const url = who.endpoints.path + path;
  const method = firstMethod(script);
  const curl = curlLine(method, url, method === "GET" || method === "HEAD" ? [] : [["content-type", "application/json"]], method === "GET" || method === "HEAD" ? undefined : "{}");
  return html`
    <div class="endpoint" data-testid="endpoint">
      <div class="endpoint-row">
        <span class="endpoint-label">Public URL</span>
        <code data-testid="endpoint-url">${url}</code>
        <${CopyButton} text=${url} label="Copy URL" />
        <${CopyButton} text=${curl} label="Copy curl" />
      </div>
      ${who.endpoints.host && html`<div class="endpoint-row"><span class="endpoint-label">Tenant host</span><code>${who.endpoints.host + path}</code></div>`}
      <pre class="curl" aria-label="curl command">${curl}</pre>
    </div>
  `;
}
