// One event of a conversation as a card: messages as markdown, the agent's thoughts, commands
// with their output, file edits as diffs, task lists, MCP tool calls with their text and images,
// errors. Events a reader does not need (state snapshots, metrics) render nothing.
import type { Content, Event } from "../generated/api";
import { markdownHtml, onLinkClick, plainText } from "../safe";
import { DiffView } from "./DiffView";

const text = (content: Array<Content>) => content.map((c) => ("text" in c ? c.text : "")).join("\n");

function Markdown({ source }: { source: string }) {
  // The agent's words: raw HTML in them is shown as text; what marked makes of the rest is
  // sanitized, and its links open in the system browser.
  const html = markdownHtml(source.replace(/</g, "&lt;"));
  return <div className="markdown" onClick={onLinkClick} dangerouslySetInnerHTML={{ __html: html }} />;
}

/** Images an MCP tool returned: only raster `data:` URLs, which cannot run anything. */
const SAFE_IMAGE = /^data:image\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+$/;

function McpResult({ content, isError }: { content: Array<Content>; isError: boolean }) {
  // The first block is OpenHands' "[Tool 'x' executed.]": the card says which tool already.
  const blocks = content.slice(1);
  return (
    <div className={`card output mcp ${isError ? "error" : ""}`} data-kind="mcp-result">
      {blocks.map((c, i) =>
        "text" in c ? (
          <pre key={i}>{plainText(c.text)}</pre>
        ) : (
          c.image_urls
            .filter((u) => SAFE_IMAGE.test(u))
            .map((u, j) => <img key={`${i}-${j}`} src={u} alt="an image the tool returned" className="mcp-image" />)
        ),
      )}
    </div>
  );
}

export function isVisible(e: Event): boolean {
  switch (e.kind) {
    case "MessageEvent":
    case "ActionEvent":
    case "ObservationEvent":
    case "AgentErrorEvent":
    case "ConversationErrorEvent":
    case "UserRejectObservation":
    case "PauseEvent":
      return true;
    default:
      return false;
  }
}

export function EventCard({ event }: { event: Event }) {
  switch (event.kind) {
    case "MessageEvent": {
      const who = event.source === "user" ? "You" : "Agent";
      return (
        <div className={`card message ${event.source}`} data-kind="message">
          <div className="who">{who}</div>
          <Markdown source={text(event.llm_message.content)} />
        </div>
      );
    }
    case "ActionEvent": {
      const thought = event.thought
        .map((t) => t.text)
        .join("\n")
        .trim();
      const action = event.action;
      let body: React.ReactNode = <code>{event.tool_call.arguments}</code>;
      if (action?.kind === "TerminalAction") body = <pre className="command">$ {action.command}</pre>;
      else if (action?.kind === "FileEditorAction")
        body = (
          <div className="edit">
            {action.command} {action.path}
          </div>
        );
      else if (action?.kind === "FinishAction") body = <Markdown source={action.message} />;
      else if (action?.kind === "ThinkAction") body = <div className="thought">{action.thought}</div>;
      else if (action?.kind === "MCPToolAction")
        body = <pre className="mcp-args">{JSON.stringify(action.data, null, 2)}</pre>;
      return (
        <div className="card action" data-kind="action">
          <div className="who">
            Agent · {event.tool_name}
            {event.security_risk !== "UNKNOWN" && (
              <span className={`risk ${event.security_risk}`}>{event.security_risk} risk</span>
            )}
          </div>
          {thought && <div className="thought">{thought}</div>}
          {event.summary && <div className="summary">{event.summary}</div>}
          {body}
        </div>
      );
    }
    case "ObservationEvent": {
      const o = event.observation;
      if (o.kind === "TerminalObservation") {
        return (
          <div className={`card output ${o.is_error ? "error" : ""}`} data-kind="output">
            <pre>{text(o.content)}</pre>
            {o.exit_code !== undefined && o.exit_code !== null && <div className="exit">exit {o.exit_code}</div>}
          </div>
        );
      }
      if (
        o.kind === "FileEditorObservation" &&
        o.new_content !== null &&
        o.new_content !== undefined &&
        o.command !== "view"
      ) {
        return (
          <div className="card edit" data-kind="edit">
            <DiffView path={o.path} before={o.old_content ?? ""} after={o.new_content} />
          </div>
        );
      }
      if (o.kind === "MCPToolObservation") return <McpResult content={o.content} isError={o.is_error} />;
      if (o.kind === "TaskTrackerObservation") {
        return (
          <div className="card tasks" data-kind="tasks">
            <ul>
              {o.task_list.map((t, i) => (
                <li key={i} className={t.status}>
                  {t.status === "done" ? "✓" : t.status === "in_progress" ? "…" : "○"} {t.title}
                </li>
              ))}
            </ul>
          </div>
        );
      }
      const content = "content" in o && Array.isArray(o.content) ? text(o.content as Array<Content>) : "";
      return (
        <div className="card output" data-kind="output">
          <pre>{content}</pre>
        </div>
      );
    }
    case "AgentErrorEvent":
      return (
        <div className="card error" data-kind="error">
          {event.error}
        </div>
      );
    case "ConversationErrorEvent":
      return (
        <div className="card error" data-kind="error">
          {event.code}: {event.detail}
        </div>
      );
    case "UserRejectObservation":
      return (
        <div className="card rejected" data-kind="rejected">
          Rejected: {event.rejection_reason}
        </div>
      );
    case "PauseEvent":
      return (
        <div className="card paused" data-kind="paused">
          Paused
        </div>
      );
    default:
      return null;
  }
}
