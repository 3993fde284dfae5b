// The Tools tab: the conversation's MCP servers as its sandbox runs them — connected or failed
// and why, and the tools each gives the agent. Server names, errors and tool descriptions come
// from the servers (and, through them, maybe from the agent), so they are shown as plain text.
import { useCallback, useEffect, useState } from "react";
import { call, errorText } from "../api";
import type { McpServerState } from "../generated/api";
import { plainText } from "../safe";

/** The conversation's MCP servers, fetched once and on `reload`. */
export function useMcpServers(id: string, archived: boolean) {
  const [servers, setServers] = useState<McpServerState[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(() => {
    if (archived) return;
    setError(null);
    call("ConversationMcpServersGet", { id }).then(setServers, (e) => setError(errorText(e)));
  }, [id, archived]);
  useEffect(reload, [reload]);
  const failed = servers?.filter((s) => s.status === "failed").length ?? 0;
  return { servers, error, reload, failed };
}

export function McpPanel({ mcp, archived }: { mcp: ReturnType<typeof useMcpServers>; archived: boolean }) {
  const { servers, error, reload } = mcp;
  if (archived) return <p className="hint">The sandbox is gone: its MCP servers are stopped.</p>;
  return (
    <div className="mcp-panel" data-testid="mcp-panel">
      <div className="buttons">
        <button onClick={reload}>Refresh</button>
      </div>
      {error && <p className="warn">{error}</p>}
      {servers && servers.length === 0 && (
        <p className="hint">No MCP servers. Add them in Settings; new conversations get their tools.</p>
      )}
      {servers?.map((s) => (
        <div key={s.name} className={`mcp-state ${s.status}`} data-testid="mcp-state">
          <div className="row">
            <b>{plainText(s.name)}</b> <span className="kind">{s.transport}</span>{" "}
            <span className={`health ${s.status}`}>{s.status === "connected" ? "connected" : "failed"}</span>
          </div>
          {s.status === "failed" && <p className="warn">{plainText(s.error)}</p>}
          {s.tools.length > 0 && (
            <ul className="mcp-tools">
              {s.tools.map((t) => (
                <li key={t.name} title={t.description ? plainText(t.description) : undefined}>
                  <code>{plainText(t.name)}</code>
                  {t.read_only ? (
                    <span className="badge">read-only</span>
                  ) : t.destructive ? (
                    <span className="badge failed">may change things</span>
                  ) : null}
                </li>
              ))}
            </ul>
          )}
        </div>
      ))}
    </div>
  );
}
