// Sign in or create an account on the homeserver that serves this page.

import { type ClientStore, defaultServerName, ParleyClient } from "@parley/client";
import { type FormEvent, useState } from "react";
import { describeError } from "../errors/error-messages.ts";

interface AuthScreenProps {
  readonly store: ClientStore;
  readonly notice?: string;
  readonly onSignedIn: (client: ParleyClient) => void;
}

type Mode = "login" | "register";

export function AuthScreen({ store, notice, onSignedIn }: AuthScreenProps) {
  const [mode, setMode] = useState<Mode>("login");
  const [userName, setUserName] = useState("");
  const [password, setPassword] = useState("");
  const [inviteToken, setInviteToken] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(notice);
  const baseUrl = window.location.origin;
  const serverName = defaultServerName(baseUrl);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    const account = { baseUrl, userName: userName.trim().toLowerCase(), password };
    try {
      const client =
        mode === "login"
          ? await ParleyClient.login(account, { store })
          : await ParleyClient.register(
              inviteToken.trim() === "" ? account : { ...account, inviteToken: inviteToken.trim() },
              { store },
            );
      onSignedIn(client);
    } catch (failure) {
      setError(describeError(failure, mode));
      setBusy(false);
    }
  }

  return (
    <main className="auth">
      <form
        className="auth-card"
        onSubmit={submit}
        aria-label={mode === "login" ? "Sign in" : "Create account"}
      >
        <h1 className="brand">Parley</h1>
        <p className="muted">on {serverName}</p>
        <div className="tabs" role="tablist">
          <button
            type="button"
            role="tab"
            aria-selected={mode === "login"}
            className={mode === "login" ? "tab active" : "tab"}
            onClick={() => setMode("login")}
          >
            Sign in
          </button>
          <button
            type="button"
            role="tab"
            aria-selected={mode === "register"}
            className={mode === "register" ? "tab active" : "tab"}
            onClick={() => setMode("register")}
          >
            Create account
          </button>
        </div>
        <label>
          User name
          <input
            name="userName"
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            required
            value={userName}
            onChange={(event) => setUserName(event.target.value)}
          />
        </label>
        {userName.trim() !== "" && (
          <p className="muted small">
            Your id: {userName.trim().toLowerCase()}@{serverName}
          </p>
        )}
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete={mode === "login" ? "current-password" : "new-password"}
            minLength={mode === "register" ? 8 : undefined}
            required
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
        </label>
        {mode === "register" && (
          <label>
            Invitation code <span className="muted">(if the server asks for one)</span>
            <input
              name="inviteToken"
              autoComplete="off"
              value={inviteToken}
              onChange={(event) => setInviteToken(event.target.value)}
            />
          </label>
        )}
        {error !== undefined && (
          <p className="error-text" role="alert">
            {error}
          </p>
        )}
        <button className="primary" type="submit" disabled={busy}>
          {busy ? "Please wait…" : mode === "login" ? "Sign in" : "Create account"}
        </button>
      </form>
    </main>
  );
}
