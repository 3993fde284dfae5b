// The Log tab: what the conversation's sandbox (its agent-server) printed, for when something
// goes wrong. Agent-influenced text, so shown as plain text with escapes removed.
import { useCallback, useEffect, useState } from "react";
import { call, errorText } from "../api";
import { plainText } from "../safe";

export function SandboxLog({ id }: { id: string }) {
  const [lines, setLines] = useState<string[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => {
    setError(null);
    call("SandboxLogsGet", { id }).then(setLines, (e) => setError(errorText(e)));
  }, [id]);
  useEffect(load, [load]);
  return (
    <div className="sandbox-log" data-testid="sandbox-log">
      <div className="buttons">
        <button onClick={load}>Refresh</button>
      </div>
      {error && <p className="warn">{error}</p>}
      {lines && lines.length === 0 && <p className="hint">Nothing yet: a sandbox's log is kept while Berth runs it.</p>}
      {lines && lines.length > 0 && <pre>{lines.map(plainText).join("\n")}</pre>}
    </div>
  );
}
