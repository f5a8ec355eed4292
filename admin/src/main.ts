import { type ComponentType, render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { loadSession, saveSession, type Session } from "./api";
import "./style.css";
import { html } from "./ui";
import { DeadLettersView } from "./views/dead-letters";
import { ExecutionsView } from "./views/executions";
import { ScriptsList } from "./views/scripts";
import { SettingsView } from "./views/settings";
import { TailView } from "./views/tail";
import { SignIn } from "./views/sign-in";

/**
 * The script page (Monaco and its TypeScript worker, megabytes) and the charts load on
 * demand: signing in and the lists never wait for them.
 */
function lazy<P>(load: () => Promise<ComponentType<P>>): ComponentType<P> {
  let loaded: ComponentType<P> | null = null;
  return (props: P) => {
    const [component, setComponent] = useState<ComponentType<P> | null>(loaded);
    const [error, setError] = useState<string | null>(null);
    useEffect(() => {
      if (component) return;
      load()
        .then((c) => ((loaded = c), setComponent(() => c)))
        .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
    }, []);
    if (error) return html`<p class="error" role="alert">${error}</p>`;
    return component ? html`<${component} ...${props} />` : html`<p>Loading…</p>`;
  };
}

const ScriptPage = lazy(async () => (await import("./views/script")).ScriptPage);
const OverviewView = lazy(async () => (await import("./views/overview")).OverviewView);

function useHash(): string {
  const [hash, setHash] = useState(location.hash.slice(1) || "/scripts");
  useEffect(() => {
    const listener = () => setHash(location.hash.slice(1) || "/scripts");
    addEventListener("hashchange", listener);
    return () => removeEventListener("hashchange", listener);
  }, []);
  return hash;
}

function App() {
  const [session, setSession] = useState<Session | null>(loadSession());
  const path = useHash();
  if (!session) return html`<${SignIn} onSignedIn=${setSession} />`;

  const script = /^\/scripts\/([^/]+)(?:\/(versions|run|executions|metrics))?$/.exec(path);
  const trace = /^\/traces\/([0-9a-f]{32})$/.exec(path);
  let view;
  if (script) view = html`<${ScriptPage} id=${script[1]} tab=${script[2] ?? "editor"} />`;
  else if (trace) view = html`<${ExecutionsView} traceId=${trace[1]} key=${trace[1]} />`;
  else if (path === "/executions") view = html`<${ExecutionsView} />`;
  else if (path === "/overview") view = html`<${OverviewView} />`;
  else if (path === "/tail") view = html`<${TailView} />`;
  else if (path === "/dead-letters") view = html`<${DeadLettersView} />`;
  else if (path === "/settings") view = html`<${SettingsView} />`;
  else view = html`<${ScriptsList} />`;

  const link = (to: string, label: string) => html`<a class=${path.startsWith(to) ? "active" : ""} href=${`#${to}`}>${label}</a>`;
  return html`
    <div class="shell">
      <nav class="top">
        <strong>iota-scripts</strong>
        ${link("/overview", "Overview")} ${link("/scripts", "Scripts")} ${link("/executions", "Executions")} ${link("/tail", "Live tail")} ${link("/dead-letters", "Dead letters")} ${link("/settings", "Limits & secrets")}
        <span class="who">${session.tenant ? `admin · ${session.tenant}` : "tenant key"}</span>
        <button class="link-button" onClick=${() => (saveSession(null), setSession(null))}>Sign out</button>
      </nav>
      <main>${view}</main>
    </div>
  `;
}

render(html`<${App} />`, document.getElementById("app")!);
