// A conversation: its events as cards, the agent's status with pause/resume, the confirmation
// prompt, the chat input, and the side panel (Changes, Terminal, Files, Tasks, Tools, Log). Archived conversations are read
// only and can be continued in a new sandbox.
import { useCallback, useEffect, useMemo, useState } from "react";
import { call, errorText } from "../api";
import { go } from "../route";
import { ChatInput } from "./ChatInput";
import { DiffView } from "./DiffView";
import { isVisible } from "./EventCard";
import { EventList } from "./EventList";
import { Terminal } from "./Terminal";
import { Files } from "./Files";
import { SandboxLog } from "./SandboxLog";
import { McpPanel, useMcpServers } from "./McpPanel";
import { useConversation } from "./store";

export function Conversation({ id }: { id: string }) {
  const { summary: conv, events, changes, tampered, error, setError } = useConversation(id);
  const [tab, setTab] = useState<"changes" | "terminal" | "files" | "tasks" | "tools" | "log">("changes");
  const mcp = useMcpServers(id, conv?.archived ?? true);

  const visible = useMemo(() => events.filter(isVisible), [events]);
  // Which actions wait, and what the conversation used, are the app's to say (the summary).
  const pending = conv?.pending_actions ?? [];
  const act = useCallback(
    async (f: () => Promise<unknown>) => {
      try {
        setError(null);
        await f();
      } catch (e) {
        setError(errorText(e));
      }
    },
    [setError],
  );
  const confirm = useCallback(
    (accept: boolean) =>
      act(() => call("ConversationConfirm", { id, accept, reason: accept ? null : "Rejected by the user" })),
    [act, id],
  );

  useEffect(() => {
    if (pending.length === 0) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.altKey && e.key.toLowerCase() === "y") confirm(true);
      if (e.altKey && e.key.toLowerCase() === "n") confirm(false);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [pending.length, confirm]);

  const edits = events.flatMap((e) =>
    e.kind === "ObservationEvent" &&
    e.observation.kind === "FileEditorObservation" &&
    e.observation.new_content != null &&
    e.observation.command !== "view"
      ? [
          {
            id: e.id,
            path: e.observation.path ?? "",
            before: e.observation.old_content ?? "",
            after: e.observation.new_content,
          },
        ]
      : [],
  );
  const tasks = [...events]
    .reverse()
    .find((e) => e.kind === "ObservationEvent" && e.observation.kind === "TaskTrackerObservation");
  const usage = conv?.metrics;

  if (!conv) return <section>{error ? <p className="warn">{error}</p> : "Loading…"}</section>;
  const running = conv.status === "running";
  return (
    <section className="conversation">
      <div className="main-col">
        <div className="conv-head">
          <h1>{conv.title ?? "(untitled)"}</h1>
          <span className={`status ${conv.status ?? ""}`} data-testid="status">
            {conv.status ?? "idle"}
          </span>
          {conv.confinement && (
            <span
              className={`confinement ${conv.confinement.confined ? "confined" : "unconfined"}`}
              data-testid="confinement"
              title={conv.confinement.state.kind === "landlock" ? conv.confinement.state.notes.join("\n") : undefined}
            >
              {conv.confinement.summary}
            </span>
          )}
          {usage && (
            <span className="metrics" data-testid="metrics">
              ${usage.cost.toFixed(4)} · {(usage.prompt_tokens + usage.completion_tokens).toLocaleString()} tokens
            </span>
          )}
          {!conv.archived &&
            (running ? (
              <button onClick={() => act(() => call("ConversationPause", { id }))}>Pause</button>
            ) : conv.status === "paused" ? (
              <button onClick={() => act(() => call("ConversationResume", { id }))}>Resume</button>
            ) : null)}
        </div>
        {tampered.length > 0 && (
          <div className="warn git-tamper" data-testid="git-tampering">
            <b>The agent changed your repository's git settings:</b>{" "}
            {tampered.map((t) => `${t.path} (${t.change})`).join(", ")}. Your own git runs what these say (a hook, an
            fsmonitor, a filter) the next time you use it in this folder: read them before you run git here.
          </div>
        )}
        <EventList events={visible} />
        {pending.length > 0 && (
          <div className="confirm" data-testid="confirm">
            <b>The agent waits for your confirmation</b>
            {pending.map((a) => (
              <div key={a.action_id} className="pending">
                <code>
                  {a.action.kind === "TerminalAction"
                    ? `$ ${a.action.command}`
                    : `${a.tool_name} ${JSON.stringify(a.action)}`}
                </code>
                <span className={`risk ${a.security_risk}`}>{a.security_risk.toLowerCase()} risk</span>
              </div>
            ))}
            <button className="primary" onClick={() => confirm(true)}>
              Confirm (Alt+Y)
            </button>
            <button onClick={() => confirm(false)}>Reject (Alt+N)</button>
          </div>
        )}
        {error && <p className="warn">{error}</p>}
        {conv.archived ? (
          <div className="archived-bar">
            This conversation's sandbox is gone; it is read only.{" "}
            <button
              onClick={() =>
                act(async () => {
                  const t = await call("ConversationContinue", { id, message: null });
                  go(`/start/${t.id}`);
                })
              }
            >
              Continue in a new sandbox
            </button>
          </div>
        ) : (
          <ChatInput
            onSend={(text) => call("ConversationSend", { id, text }).then(() => undefined)}
            onFile={(name, base64) => call("FileUpload", { id, name, base64 })}
          />
        )}
      </div>
      <aside className="side">
        <div className="tabs">
          <button className={tab === "changes" ? "on" : ""} onClick={() => setTab("changes")}>
            Changes
          </button>
          <button className={tab === "terminal" ? "on" : ""} onClick={() => setTab("terminal")}>
            Terminal
          </button>
          <button className={tab === "files" ? "on" : ""} onClick={() => setTab("files")}>
            Files
          </button>
          <button className={tab === "tasks" ? "on" : ""} onClick={() => setTab("tasks")}>
            Tasks
          </button>
          <button className={tab === "tools" ? "on" : ""} onClick={() => setTab("tools")} data-testid="tools-tab">
            Tools{mcp.failed > 0 && <span className="badge failed">{mcp.failed} failed</span>}
          </button>
          <button className={tab === "log" ? "on" : ""} onClick={() => setTab("log")}>
            Log
          </button>
        </div>
        {tab === "log" ? (
          <SandboxLog id={id} />
        ) : tab === "tools" ? (
          <McpPanel mcp={mcp} archived={conv.archived} />
        ) : tab === "files" ? (
          <Files id={id} changed={changes} />
        ) : tab === "terminal" ? (
          <Terminal id={id} events={events} readOnly={conv.archived} />
        ) : tab === "changes" ? (
          <div data-testid="changes">
            <ul className="files" data-testid="changed-files">
              {changes.map((f) => (
                <li key={f.path}>
                  <span className={`fstatus ${f.status}`}>{f.status}</span> {f.path}
                </li>
              ))}
            </ul>
            {edits.map((e) => (
              <DiffView key={e.id} path={e.path} before={e.before} after={e.after} />
            ))}
          </div>
        ) : tasks && tasks.kind === "ObservationEvent" && tasks.observation.kind === "TaskTrackerObservation" ? (
          <ul className="tasks">
            {tasks.observation.task_list.map((t, i) => (
              <li key={i} className={t.status}>
                {t.title}
              </li>
            ))}
          </ul>
        ) : (
          <p>No task list yet.</p>
        )}
      </aside>
    </section>
  );
}
