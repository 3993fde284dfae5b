import { useEffect, useState } from "react";
import { call, errorText } from "./api";
import type { AppStatus } from "./generated/api";
import { go, useRoute } from "./route";
import { Conversation } from "./conversation/Conversation";
import { Home } from "./home/Home";
import { Settings } from "./settings/Settings";
import { Setup } from "./setup/Setup";
import { StartProgress } from "./start/StartProgress";
import { Quick } from "./quick/Quick";
import { listenToShell } from "./links";

export function App() {
  const route = useRoute();
  const [status, setStatus] = useState<AppStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  useEffect(() => {
    call("AppStatusGet", {}).then(setStatus, (e) => setError(errorText(e)));
  }, [route.page]);
  useEffect(() => listenToShell(setNotice), []);
  if (error) return <div className="fatal">Berth cannot reach its app: {error}</div>;
  if (!status) return <div className="loading">Loading…</div>;
  const needsSetup = status.needs_setup && route.page !== "settings";
  if (route.page === "quick") return <Quick />;
  return (
    <div className="app">
      <header className="top">
        <a href="#/" className="brand">
          Berth
        </a>
        <nav>
          <a href="#/">Home</a>
          <a href="#/settings">Settings</a>
        </nav>
        <span className="sandbox" title={status.sandbox_note ?? ""}>
          {status.sandbox_kind === "docker" ? "Docker sandboxes" : "Process sandboxes"}
        </span>
      </header>
      <main>
        {notice && (
          <p className="warn" onClick={() => setNotice(null)}>
            {notice}
          </p>
        )}
        {needsSetup || route.page === "setup" ? (
          <Setup
            status={status}
            onDone={() => {
              setStatus({ ...status, needs_setup: false });
              go("/");
            }}
          />
        ) : route.page === "settings" ? (
          <Settings />
        ) : route.page === "start" ? (
          <StartProgress id={route.id} />
        ) : route.page === "conversation" ? (
          <Conversation id={route.id} />
        ) : (
          <Home key={route.page === "home" ? (route.key ?? "") : ""} />
        )}
      </main>
    </div>
  );
}
