import { useState } from "preact/hooks";
import { api, saveSession, type Session } from "../api";
import { describe, ErrorNote, html } from "../ui";

/** Sign in with a tenant key (`isk_…`), or the admin token and a tenant's slug. */
export function SignIn({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [token, setToken] = useState("");
  const [tenant, setTenant] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    const session: Session = { token: token.trim(), ...(tenant.trim() ? { tenant: tenant.trim() } : {}) };
    saveSession(session);
    setBusy(true);
    try {
      await api("/api/scripts?limit=1");
      onSignedIn(session);
    } catch (e) {
      saveSession(null);
      setError(describe(e));
    } finally {
      setBusy(false);
    }
  }

  return html`
    <form class="sign-in" onSubmit=${submit}>
      <h1>iota-scripts</h1>
      <label>API key
        <input name="token" type="password" autocomplete="off" placeholder="isk_…" value=${token} onInput=${(e: Event) => setToken((e.target as HTMLInputElement).value)} required />
      </label>
      <label>Tenant <small>(only with the admin token)</small>
        <input name="tenant" placeholder="acme" value=${tenant} onInput=${(e: Event) => setTenant((e.target as HTMLInputElement).value)} />
      </label>
      <button type="submit" disabled=${busy}>Sign in</button>
      <${ErrorNote} error=${error} />
    </form>
  `;
}
