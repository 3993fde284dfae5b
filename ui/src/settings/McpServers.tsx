// The MCP servers of the settings: a program (stdio) or a URL (streamable HTTP) each, with its
// environment or headers, on/off, the tools the agent may use, a Test button that lists the
// server's tools or says why it cannot be used, and import of a Claude Desktop / Cursor
// `mcpServers` JSON. Credentials are custom secrets named as `${NAME}`, never typed in here.
import { useState } from "react";
import { call, errorText } from "../api";
import type { McpServer, McpTestResponse, SecretInfo } from "../generated/api";

/** `NAME=value` lines (or `Name: value` for headers) as a map. */
function pairs(text: string, sep: "=" | ":"): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const at = line.indexOf(sep);
    if (at > 0) out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

function unpairs(map: { [key: string]: string | undefined }, sep: "=" | ": "): string {
  return Object.entries(map)
    .map(([k, v]) => `${k}${sep}${v ?? ""}`)
    .join("\n");
}

const words = (text: string) => text.split(/\s+/).filter((w) => w !== "");

/**
 * A text field whose text the user owns: each change is parsed and handed on, but what shows is
 * what was typed (a trailing space or comma stays while typing).
 */
function Parsed({
  label,
  caption,
  initial,
  placeholder,
  multiline,
  onText,
}: {
  label: string;
  caption: string;
  initial: string;
  placeholder: string;
  multiline?: boolean;
  onText: (text: string) => void;
}) {
  const [text, setText] = useState(initial);
  const change = (value: string) => {
    setText(value);
    onText(value);
  };
  return (
    <label className="field">
      <span>{caption}</span>
      {multiline ? (
        <textarea aria-label={label} placeholder={placeholder} value={text} onChange={(e) => change(e.target.value)} />
      ) : (
        <input aria-label={label} placeholder={placeholder} value={text} onChange={(e) => change(e.target.value)} />
      )}
    </label>
  );
}

type Stdio = Extract<McpServer, { kind: "stdio" }>;
type Http = Extract<McpServer, { kind: "http" }>;

type Tested = { busy: true } | { busy: false; result: McpTestResponse } | { busy: false; failed: string };

function TestResult({ tested }: { tested: Tested | undefined }) {
  if (!tested) return null;
  if (tested.busy) return <p className="hint">Starting the server…</p>;
  if ("failed" in tested) return <p className="warn">{tested.failed}</p>;
  const r = tested.result;
  if ("error" in r)
    return (
      <p className="warn" data-testid="mcp-test-error">
        Not usable ({r.error_kind}): {r.error}
      </p>
    );
  return (
    <div className="ok" data-testid="mcp-test-tools">
      {r.tools.length} tools: <span className="tool-names">{r.tools.join(", ")}</span>
    </div>
  );
}

export function McpServers({
  servers,
  secrets,
  onChange,
}: {
  servers: McpServer[];
  secrets: SecretInfo[];
  onChange: (servers: McpServer[]) => void;
}) {
  const [tested, setTested] = useState<Record<string, Tested>>({});
  const [importing, setImporting] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const custom = secrets.filter((s) => s.kind === "custom");
  // Stable keys, so a field's typed text stays with its server when another is removed.
  const [keys, setKeys] = useState<string[]>(() => servers.map(() => crypto.randomUUID()));
  const keyOf = (i: number) => keys[i] ?? `server-${i}`;
  const add = (more: McpServer[]) => {
    setKeys([...keys, ...more.map(() => crypto.randomUUID())]);
    onChange([...servers, ...more]);
  };
  const remove = (i: number) => {
    setKeys(keys.filter((_, j) => j !== i));
    onChange(servers.filter((_, j) => j !== i));
  };
  const edit = (i: number, f: (m: McpServer) => McpServer) => onChange(servers.map((m, j) => (j === i ? f(m) : m)));
  const editStdio = (i: number, change: Partial<Stdio>) =>
    edit(i, (d) => (d.kind === "stdio" ? { ...d, ...change } : d));
  const editHttp = (i: number, change: Partial<Http>) => edit(i, (d) => (d.kind === "http" ? { ...d, ...change } : d));

  async function test(i: number) {
    const key = keyOf(i);
    setTested((t) => ({ ...t, [key]: { busy: true } }));
    try {
      const result = await call("McpServerTest", servers[i]);
      setTested((t) => ({ ...t, [key]: { busy: false, result } }));
    } catch (e) {
      setTested((t) => ({ ...t, [key]: { busy: false, failed: errorText(e) } }));
    }
  }
  async function importJson() {
    try {
      const found = await call("McpServersImport", { json: importing ?? "" });
      const names = new Set(servers.map((s) => s.name));
      add(found.filter((s) => !names.has(s.name)));
      setImporting(null);
      setNote(`Imported ${found.length} server(s); save the settings to keep them.`);
    } catch (e) {
      setNote(errorText(e));
    }
  }

  return (
    <div className="mcp-servers">
      <p className="hint">
        The agent gets the tools of every enabled server. Programs run inside the sandbox (Test runs them on this
        computer). To give a server a token, add it under Secrets and write <code>{"${NAME}"}</code> as the value.
      </p>
      {servers.map((m, i) => (
        <div className="mcp-server" key={keyOf(i)} data-testid="mcp-server">
          <div className="mcp-head">
            <input
              className="mcp-name"
              aria-label="MCP server name"
              placeholder="name"
              value={m.name}
              onChange={(e) => edit(i, (d) => ({ ...d, name: e.target.value }))}
            />
            <label className="inline">
              <input
                type="checkbox"
                checked={m.enabled}
                onChange={(e) => edit(i, (d) => ({ ...d, enabled: e.target.checked }))}
              />
              enabled
            </label>
            <span className="kind">{m.kind === "stdio" ? "program" : "HTTP"}</span>
          </div>
          {m.kind === "stdio" ? (
            <>
              <Parsed
                label="MCP command"
                caption="Command and arguments"
                placeholder="npx -y @modelcontextprotocol/server-filesystem /workspace"
                initial={[m.command, ...m.args].join(" ")}
                onText={(text) => {
                  const [command = "", ...args] = words(text);
                  editStdio(i, { command, args });
                }}
              />
              <Parsed
                label="MCP environment"
                caption="Environment, NAME=value per line"
                placeholder={"GITHUB_TOKEN=${GITHUB_TOKEN}"}
                multiline
                initial={unpairs(m.env, "=")}
                onText={(text) => editStdio(i, { env: pairs(text, "=") })}
              />
            </>
          ) : (
            <>
              <Parsed
                label="MCP URL"
                caption="URL (streamable HTTP)"
                placeholder="https://example.com/mcp"
                initial={m.url}
                onText={(url) => editHttp(i, { url })}
              />
              <Parsed
                label="MCP headers"
                caption="Headers, Name: value per line"
                placeholder={"X-Api-Key: ${API_KEY}"}
                multiline
                initial={unpairs(m.headers, ": ")}
                onText={(text) => editHttp(i, { headers: pairs(text, ":") })}
              />
              <label className="field">
                <span>Bearer token (a custom secret)</span>
                <select
                  aria-label="MCP bearer token"
                  value={m.bearer_secret ?? ""}
                  onChange={(e) => editHttp(i, { bearer_secret: e.target.value || null })}
                >
                  <option value="">none</option>
                  {custom.map((s) => (
                    <option key={s.name} value={s.name}>
                      {s.name}
                    </option>
                  ))}
                </select>
              </label>
            </>
          )}
          <Parsed
            label="MCP allowed tools"
            caption="Allowed tools, comma-separated (empty: all)"
            placeholder="read_file, list_directory"
            initial={m.allowed_tools.join(", ")}
            onText={(text) =>
              edit(i, (d) => ({
                ...d,
                allowed_tools: text
                  .split(",")
                  .map((t) => t.trim())
                  .filter((t) => t !== ""),
              }))
            }
          />
          <div className="mcp-actions">
            <button onClick={() => test(i)} disabled={tested[keyOf(i)]?.busy === true}>
              Test
            </button>
            <button onClick={() => remove(i)}>Remove</button>
          </div>
          <TestResult tested={tested[keyOf(i)]} />
        </div>
      ))}
      <button
        onClick={() =>
          add([{ kind: "stdio", name: "", enabled: true, command: "", args: [], env: {}, allowed_tools: [] }])
        }
      >
        Add a program (stdio)
      </button>
      <button
        onClick={() =>
          add([
            {
              kind: "http",
              name: "",
              enabled: true,
              url: "https://",
              headers: {},
              bearer_secret: null,
              allowed_tools: [],
            },
          ])
        }
      >
        Add a server (HTTP)
      </button>
      <button onClick={() => setImporting(importing === null ? "" : null)}>Import JSON…</button>
      {importing !== null && (
        <div className="import">
          <textarea
            aria-label="MCP JSON"
            placeholder={'{"mcpServers": {"name": {"command": "npx", "args": ["-y", "…"]}}}'}
            value={importing}
            onChange={(e) => setImporting(e.target.value)}
          />
          <button onClick={importJson}>Import</button>
        </div>
      )}
      {note && <p className="hint">{note}</p>}
    </div>
  );
}
