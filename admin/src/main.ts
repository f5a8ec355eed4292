import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { loadSession, saveSession, type Session } from "./api";
import "./style.css";
import { html } from "./ui";
import { DeadLettersView } from "./views/dead-letters";
import { ExecutionsView } from "./views/executions";
import { ScriptPage } from "./views/script";
import { ScriptsList } from "./views/scripts";
import { SettingsView } from "./views/settings";
import { SignIn } from "./views/sign-in";

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

  const script = /^\/scripts\/([^/]+)(?:\/(versions|run|executions))?$/.exec(path);
  let view;
  if (script) view = html`<${ScriptPage} id=${script[1]} tab=${script[2] ?? "editor"} />`;
  else if (path === "/executions") view = html`<${ExecutionsView} />`;
  else if (path === "/dead-letters") view = html`<${DeadLettersView} />`;
  else if (path === "/settings") view = html`<${SettingsView} />`;
  else view = html`<${ScriptsList} />`;

  const link = (to: string, label: string) => html`<a class=${path.startsWith(to) ? "active" : ""} href=${`#${to}`}>${label}</a>`;
  return html`
    <div class="shell">
      <nav class="top">
        <strong>iota-scripts</strong>
        ${link("/scripts", "Scripts")} ${link("/executions", "Executions")} ${link("/dead-letters", "Dead letters")} ${link("/settings", "Limits & secrets")}
        <span class="who">${session.tenant ? `admin · ${session.tenant}` : "tenant key"}</span>
        <button class="link-button" onClick=${() => (saveSession(null), setSession(null))}>Sign out</button>
      </nav>
      <main>${view}</main>
    </div>
  `;
}

render(html`<${App} />`, document.getElementById("app")!);
