// Settings: LLM profiles (keys in the keychain), agent, sandbox, MCP servers, git identity,
// webhooks, and secrets. Saved as a whole; every invalid field is named.
import { useEffect, useState } from "react";
import { call, CommandError, errorText } from "../api";
import type { AppStatus, Delivery, SecretInfo, Settings as S } from "../generated/api";
import { invoke, isDesktop } from "../platform";
import { McpServers } from "./McpServers";

/** Non-empty lines of a text area, trimmed. */
function lines(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
}

export function Settings() {
  const [s, setS] = useState<S | null>(null);
  const [secrets, setSecrets] = useState<SecretInfo[]>([]);
  const [note, setNote] = useState<{ ok: boolean; text: string } | null>(null);
  const [secret, setSecret] = useState({ name: "", value: "", description: "" });
  const [deliveries, setDeliveries] = useState<Delivery[]>([]);
  const [status, setStatus] = useState<AppStatus | null>(null);
  useEffect(() => {
    call("SettingsGet", {}).then(setS, (e) => setNote({ ok: false, text: errorText(e) }));
    call("SecretsList", {}).then(setSecrets, () => setSecrets([]));
    call("WebhookDeliveriesList", {}).then(setDeliveries, (e) => setNote({ ok: false, text: errorText(e) }));
    call("AppStatusGet", {}).then(setStatus, (e) => setNote({ ok: false, text: errorText(e) }));
  }, []);
  if (!s) return <section>{note?.text ?? "Loading…"}</section>;
  const edit = (f: (draft: S) => void) => {
    const draft = structuredClone(s);
    f(draft);
    setS(draft);
  };
  async function saveKey(profile: string, value: string) {
    try {
      setSecrets(await call("SecretSet", { kind: "llm", name: profile, value, description: null }));
      setNote({ ok: true, text: `The key of ${profile} is in the keychain.` });
    } catch (e) {
      setNote({ ok: false, text: errorText(e) });
    }
  }
  async function test(profile: string) {
    try {
      const r = await call("LlmProfileTest", { name: profile });
      setNote({ ok: r.ok, text: r.message });
    } catch (e) {
      setNote({ ok: false, text: errorText(e) });
    }
  }
  async function save() {
    try {
      setS(await call("SettingsSave", s!));
      setNote({ ok: true, text: "Saved." });
    } catch (e) {
      const text =
        e instanceof CommandError && e.problems.length
          ? e.problems.map((p) => `${p.field}: ${p.message}`).join("\n")
          : errorText(e);
      setNote({ ok: false, text });
    }
  }
  return (
    <section className="settings">
      <h1>Settings</h1>
      <h2>LLM profiles</h2>
      {s.llm_profiles.map((p, i) => (
        <div className="profile" key={i}>
          <input
            aria-label="profile name"
            value={p.name}
            onChange={(e) =>
              edit((d) => {
                d.llm_profiles[i].name = e.target.value;
              })
            }
          />
          <input
            aria-label="model"
            value={p.model}
            onChange={(e) =>
              edit((d) => {
                d.llm_profiles[i].model = e.target.value;
              })
            }
          />
          <input
            aria-label="base URL"
            value={p.base_url ?? ""}
            placeholder="base URL"
            onChange={(e) =>
              edit((d) => {
                d.llm_profiles[i].base_url = e.target.value || null;
              })
            }
          />
          <label>
            <input
              type="radio"
              checked={s.active_profile === p.name}
              onChange={() =>
                edit((d) => {
                  d.active_profile = p.name;
                })
              }
            />{" "}
            active
          </label>
          <button
            onClick={() =>
              edit((d) => {
                d.llm_profiles.splice(i, 1);
              })
            }
          >
            Remove
          </button>
          <input
            aria-label={`API key of ${p.name}`}
            type="password"
            placeholder={secrets.some((x) => x.kind === "llm" && x.name === p.name) ? "key saved — replace" : "API key"}
            onBlur={(e) =>
              e.target.value &&
              void saveKey(p.name, e.target.value).then(() => {
                e.target.value = "";
              })
            }
          />
          <button onClick={() => void test(p.name)}>Test</button>
        </div>
      ))}
      <button
        onClick={() =>
          edit((d) => {
            d.llm_profiles.push({ name: `profile ${d.llm_profiles.length + 1}`, model: "", base_url: null });
          })
        }
      >
        Add profile
      </button>
      <h2>Agent</h2>
      <label>
        Steps per run
        <input
          type="number"
          value={s.agent.max_iterations}
          onChange={(e) =>
            edit((d) => {
              d.agent.max_iterations = Number(e.target.value);
            })
          }
        />
      </label>
      <label>
        Ask before acting
        <select
          value={s.agent.confirmation}
          onChange={(e) =>
            edit((d) => {
              d.agent.confirmation = e.target.value as S["agent"]["confirmation"];
            })
          }
        >
          <option value="never">never</option>
          <option value="risky">for risky actions</option>
          <option value="always">always</option>
        </select>
      </label>
      <label className="check">
        <input
          type="checkbox"
          checked={s.agent.condenser}
          onChange={(e) =>
            edit((d) => {
              d.agent.condenser = e.target.checked;
            })
          }
        />
        Summarize long conversations (the oldest events, by the same LLM)
      </label>
      <label>
        Summarize past (events)
        <input
          type="number"
          min={20}
          disabled={!s.agent.condenser}
          value={s.agent.condenser_max_size}
          onChange={(e) =>
            edit((d) => {
              d.agent.condenser_max_size = Number(e.target.value);
            })
          }
        />
      </label>
      <h2>Sandbox</h2>
      <label>
        Runtime
        <select
          value={s.sandbox.runtime}
          onChange={(e) =>
            edit((d) => {
              d.sandbox.runtime = e.target.value as S["sandbox"]["runtime"];
            })
          }
        >
          <option value="auto">Docker when available</option>
          <option value="docker">Docker</option>
          <option value="process">local process</option>
        </select>
      </label>
      <label>
        CPUs
        <input
          type="number"
          step="0.5"
          value={s.sandbox.cpus}
          onChange={(e) =>
            edit((d) => {
              d.sandbox.cpus = Number(e.target.value);
            })
          }
        />
      </label>
      <label>
        Memory (MiB)
        <input
          type="number"
          value={s.sandbox.memory_mb}
          onChange={(e) =>
            edit((d) => {
              d.sandbox.memory_mb = Number(e.target.value);
            })
          }
        />
      </label>
      <label>
        Pause after idle minutes
        <input
          type="number"
          value={s.sandbox.idle_pause_minutes}
          onChange={(e) =>
            edit((d) => {
              d.sandbox.idle_pause_minutes = Number(e.target.value);
            })
          }
        />
      </label>
      <h3>Local process sandboxes</h3>
      <p className="hint">
        Without Docker, the agent's commands run on this machine. Berth confines them where the system allows (Landlock
        on Linux, the macOS sandbox): they change only the workspace and cannot read your keys, tokens or other
        projects' conversations.
      </p>
      <label className="check">
        <input
          type="checkbox"
          checked={s.sandbox.confinement.enabled}
          onChange={(e) =>
            edit((d) => {
              d.sandbox.confinement.enabled = e.target.checked;
            })
          }
        />
        Confine the agent's commands
      </label>
      <label className="check">
        <input
          type="checkbox"
          checked={s.sandbox.confinement.required}
          onChange={(e) =>
            edit((d) => {
              d.sandbox.confinement.required = e.target.checked;
            })
          }
        />
        Require confinement (refuse to start where it is not available)
      </label>
      <label className="check">
        <input
          type="checkbox"
          checked={s.sandbox.confinement.network}
          onChange={(e) =>
            edit((d) => {
              d.sandbox.confinement.network = e.target.checked;
            })
          }
        />
        Let the agent's commands use the network
      </label>
      <label>
        Extra readable folders (one per line)
        <textarea
          value={s.sandbox.confinement.extra_readable.join("\n")}
          onChange={(e) =>
            edit((d) => {
              d.sandbox.confinement.extra_readable = lines(e.target.value);
            })
          }
        />
      </label>
      <label>
        Extra writable folders (one per line)
        <textarea
          value={s.sandbox.confinement.extra_writable.join("\n")}
          onChange={(e) =>
            edit((d) => {
              d.sandbox.confinement.extra_writable = lines(e.target.value);
            })
          }
        />
      </label>
      <h2>MCP servers</h2>
      <McpServers
        servers={s.mcp_servers}
        secrets={secrets}
        onChange={(servers) =>
          edit((d) => {
            d.mcp_servers = servers;
          })
        }
      />
      <h2>Git identity</h2>
      <p className="hint">
        Who the agent's commits are by, in every sandbox. Left empty, git's own configuration decides (a Docker sandbox
        has none, so its commits then fail).
      </p>
      <label>
        Name
        <input
          value={s.git.name ?? ""}
          onChange={(e) =>
            edit((d) => {
              d.git.name = e.target.value || null;
            })
          }
        />
      </label>
      <label>
        Email
        <input
          value={s.git.email ?? ""}
          onChange={(e) =>
            edit((d) => {
              d.git.email = e.target.value || null;
            })
          }
        />
      </label>
      <h2>Webhooks</h2>
      {s.webhooks.map((w, i) => (
        <div key={i}>
          <input
            aria-label="webhook URL"
            value={w.url}
            onChange={(e) =>
              edit((d) => {
                d.webhooks[i].url = e.target.value;
              })
            }
          />
          <button
            onClick={() =>
              edit((d) => {
                d.webhooks.splice(i, 1);
              })
            }
          >
            Remove
          </button>
        </div>
      ))}
      <button
        onClick={() =>
          edit((d) => {
            d.webhooks.push({ url: "https://", enabled: true });
          })
        }
      >
        Add webhook
      </button>
      {deliveries.length > 0 && (
        <details className="deliveries" data-testid="webhook-deliveries">
          <summary>Recent deliveries ({deliveries.filter((d) => !d.delivered).length} failed)</summary>
          <ul className="list">
            {deliveries.map((d, i) => (
              <li key={i} className={d.delivered ? "ok" : "warn"}>
                {d.at.slice(0, 19).replace("T", " ")} · {d.url} · {d.events} events · attempt {d.attempt} ·{" "}
                {d.delivered ? `delivered (${d.http_status})` : (d.error ?? `HTTP ${d.http_status}`)}
              </li>
            ))}
          </ul>
        </details>
      )}
      <div className="buttons">
        <button className="primary" onClick={save}>
          Save settings
        </button>
      </div>
      {note && (
        <pre className={note.ok ? "ok" : "warn"} data-testid="settings-note">
          {note.text}
        </pre>
      )}
      <h2>Secrets</h2>
      <p>Kept in your system keychain; the agent sees them as environment variables, masked in everything shown.</p>
      <ul className="list">
        {secrets.map((x) => (
          <li key={`${x.kind}:${x.name}`}>
            {x.kind} · <b>{x.name}</b> {x.description}{" "}
            <button
              onClick={() =>
                call("SecretDelete", { kind: x.kind, name: x.name }).then(setSecrets, (e) =>
                  setNote({ ok: false, text: errorText(e) }),
                )
              }
            >
              Delete
            </button>
          </li>
        ))}
      </ul>
      <div className="secret-form">
        <input
          aria-label="secret name"
          placeholder="NAME"
          value={secret.name}
          onChange={(e) => setSecret({ ...secret, name: e.target.value })}
        />
        <input
          aria-label="secret value"
          type="password"
          placeholder="value"
          value={secret.value}
          onChange={(e) => setSecret({ ...secret, value: e.target.value })}
        />
        <input
          aria-label="secret description"
          placeholder="what it is for"
          value={secret.description}
          onChange={(e) => setSecret({ ...secret, description: e.target.value })}
        />
        <button
          onClick={() =>
            call("SecretSet", {
              kind: "custom",
              name: secret.name,
              value: secret.value,
              description: secret.description || null,
            }).then(
              (l) => {
                setSecrets(l);
                setSecret({ name: "", value: "", description: "" });
              },
              (e) => setNote({ ok: false, text: errorText(e) }),
            )
          }
        >
          Add secret
        </button>
      </div>
      {status && isDesktop() && (
        <>
          <h2>Logs</h2>
          <p>
            Berth writes its log to <code>{status.logs_folder}</code> (a file a day, the last week kept).{" "}
            <button onClick={() => invoke("open_logs").catch((e) => setNote({ ok: false, text: errorText(e) }))}>
              Open the logs folder
            </button>
          </p>
        </>
      )}
    </section>
  );
}
