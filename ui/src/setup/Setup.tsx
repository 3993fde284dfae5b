// First run: choose an LLM (a detected Ollama or LM Studio is offered), put its key in the
// keychain, test the connection; learn where agents will run.
import { useEffect, useState } from "react";
import { call, CommandError, errorText } from "../api";
import type { AppStatus, LocalServer } from "../generated/api";

export function Setup({ status, onDone }: { status: AppStatus; onDone: () => void }) {
  const [model, setModel] = useState("anthropic/claude-sonnet-4-5");
  const [baseUrl, setBaseUrl] = useState("");
  const [key, setKey] = useState("");
  const [local, setLocal] = useState<LocalServer[]>([]);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    call("LocalLlmsDetect", {}).then(setLocal, () => setLocal([]));
  }, []);

  async function save(): Promise<boolean> {
    const settings = await call("SettingsGet", {});
    const profile = { name: "default", model: model.trim(), base_url: baseUrl.trim() || null };
    settings.llm_profiles = [...settings.llm_profiles.filter((p) => p.name !== "default"), profile];
    settings.active_profile = "default";
    try {
      await call("SettingsSave", settings);
    } catch (e) {
      const problems = e instanceof CommandError ? e.problems.map((p) => `${p.field}: ${p.message}`).join("; ") : "";
      setMessage({ ok: false, text: problems || errorText(e) });
      return false;
    }
    if (key) await call("SecretSet", { kind: "llm", name: "default", value: key, description: null });
    return true;
  }

  async function test() {
    setBusy(true);
    setMessage(null);
    try {
      if (await save()) {
        const r = await call("LlmProfileTest", { name: "default" });
        setMessage({ ok: r.ok, text: r.message });
      }
    } catch (e) {
      setMessage({ ok: false, text: errorText(e) });
    } finally {
      setBusy(false);
    }
  }

  async function finish() {
    setBusy(true);
    try {
      if (await save()) onDone();
    } catch (e) {
      setMessage({ ok: false, text: errorText(e) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="setup">
      <h1>Set up Berth</h1>
      <h2>Your LLM</h2>
      {local.map((s) => (
        <div className="local" key={s.base_url}>
          Found {s.kind === "ollama" ? "Ollama" : "LM Studio"} at {s.base_url}:{" "}
          {s.models.slice(0, 5).map((m) => (
            <button
              key={m}
              onClick={() => {
                setModel(m);
                setBaseUrl(s.base_url);
              }}
            >
              {m}
            </button>
          ))}
        </div>
      ))}
      <label>
        Model (provider/model)
        <input name="model" value={model} onChange={(e) => setModel(e.target.value)} />
      </label>
      <label>
        Base URL (for local or self-hosted servers)
        <input name="base_url" value={baseUrl} onChange={(e) => setBaseUrl(e.target.value)} placeholder="https://…" />
      </label>
      <label>
        API key (kept in your system keychain)
        <input name="api_key" type="password" value={key} onChange={(e) => setKey(e.target.value)} />
      </label>
      {status.keychain_problem && <p className="warn">{status.keychain_problem}</p>}
      <div className="buttons">
        <button onClick={test} disabled={busy}>
          Test connection
        </button>
        <button className="primary" onClick={finish} disabled={busy}>
          Save and continue
        </button>
      </div>
      {message && (
        <p className={message.ok ? "ok" : "warn"} data-testid="setup-message">
          {message.text}
        </p>
      )}
      <h2>Where agents run</h2>
      <p data-testid="sandbox-info">
        {status.sandbox_kind === "docker"
          ? "Docker is running: each conversation gets its own container."
          : (status.sandbox_note ?? "Agents run as local processes on this machine, with your user's rights.")}
      </p>
    </section>
  );
}
