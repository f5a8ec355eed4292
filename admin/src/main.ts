import { type ComponentType, render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, loadSession, saveSession, type Session } from "./api";
import { type WhoAmI, WhoAmIContext } from "./tenant";
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
    // A function given to useState is an initializer: wrap the component, or it is called as one.
    const [component, setComponent] = useState<ComponentType<P> | null>(() => loaded);
    const [error, setError] = useState<string | null>(null);
    useEffect(() => {
      if (component) return;
      load()
        .then((c) => ((loaded = c), setComponent(() => c)))
        .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
    }, []);
    if (error) return html`<p class="error" role="alert">${error}</p>`;
    return component ? html`<${component} ...${props} />` : html`<p class="loading" role="status">Loading…</p>`;
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

/** Who is signed in (GET /api/whoami): the header shows the tenant, script pages its endpoint URLs. */
function useWhoAmIFor(session: Session | null) {
  const [who, setWho] = useState<WhoAmI | null>(null);
  useEffect(() => {
    setWho(null);
    if (!session) return;
    let live = true;
    api<WhoAmI>("/api/whoami")
      .then(({ data }) => live && setWho(data))
      .catch(() => {});
    return () => void (live = false);
  }, [session]);
  return who;
}

const NAV: Array<[string, string]> = [
  ["/overview", "Overview"],
  ["/scripts", "Scripts"],
  ["/executions", "Executions"],
  ["/tail", "Live tail"],
  ["/dead-letters", "Dead letters"],
  ["/settings", "Limits & secrets"],
];

function App() {
  const [session, setSession] = useState<Session | null>(loadSession());
  const [menuOpen, setMenuOpen] = useState(false);
  const path = useHash();
  const who = useWhoAmIFor(session);
  // A link followed closes the menu on a narrow screen.
  useEffect(() => setMenuOpen(false), [path]);
  if (!session) return html`<${SignIn} onSignedIn=${setSession} />`;

  const script = /^\/scripts\/([^/]+)(?:\/(versions|run|executions|metrics))?$/.exec(path);
  const trace = /^\/traces\/([0-9a-f]{32})$/.exec(path);
  const execution = /^\/executions\/([^/]+)$/.exec(path);
  let view;
  // Keyed by id: another script is a new page (no state, no editor, carried over from the last one).
  if (script) view = html`<${ScriptPage} id=${script[1]} tab=${script[2] ?? "editor"} key=${script[1]} />`;
  else if (trace) view = html`<${ExecutionsView} traceId=${trace[1]} key=${trace[1]} />`;
  else if (execution) view = html`<${ExecutionsView} openId=${execution[1]} key=${execution[1]} />`;
  else if (path === "/executions") view = html`<${ExecutionsView} key="all" />`;
  else if (path === "/overview") view = html`<${OverviewView} />`;
  else if (path === "/tail") view = html`<${TailView} />`;
  else if (path === "/dead-letters") view = html`<${DeadLettersView} />`;
  else if (path === "/settings") view = html`<${SettingsView} />`;
  else view = html`<${ScriptsList} />`;

  const tenant = who?.tenant.slug ?? session.tenant ?? "";
  return html`
    <${WhoAmIContext.Provider} value=${who}>
      <div class="shell">
        <header class="top">
          <strong class="brand">iota-scripts</strong>
          <span class="who" data-testid="tenant" title=${who?.tenant.name ?? ""}>${session.tenant ? "admin · " : ""}<b>${tenant || "…"}</b></span>
          <button type="button" class="menu-button" aria-expanded=${menuOpen ? "true" : "false"} aria-controls="main-nav" onClick=${() => setMenuOpen(!menuOpen)}>Menu</button>
          <nav id="main-nav" class=${`main-nav ${menuOpen ? "open" : ""}`} aria-label="Main">
            ${NAV.map(([to, label]) => html`<a class=${path.startsWith(to) ? "active" : ""} aria-current=${path.startsWith(to) ? "page" : undefined} href=${`#${to}`}>${label}</a>`)}
          </nav>
          <button type="button" class="link-button sign-out" onClick=${() => (saveSession(null), setSession(null))}>Sign out</button>
        </header>
        <main>${view}</main>
      </div>
    <//>
  `;
}

render(html`<${App} />`, document.getElementById("app")!);
