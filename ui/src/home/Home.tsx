// Start a conversation on a folder or a git URL; recent conversations, searchable.
import { useEffect, useState } from "react";
import { call, errorText } from "../api";
import type { ConversationSummary, SearchHit } from "../generated/api";
import { download } from "../platform";
import { go } from "../route";
import { takePrefill } from "../links";

/** Rows enough to show the whole task (a link's task must not hide below the fold), up to 30. */
function taskRows(task: string): number {
  const lines = task.split("\n").reduce((n, line) => n + Math.max(1, Math.ceil(line.length / 90)), 0);
  return Math.min(30, Math.max(4, lines));
}

export function Home() {
  const [prefill] = useState(takePrefill);
  const [where, setWhere] = useState(() => {
    const r = prefill?.repository;
    return r ? (r.kind === "git_url" ? r.url : r.path) : "";
  });
  const [task, setTask] = useState(prefill?.task ?? "");
  // A repository from a link is someone else's code: its setup script runs only if the user says so.
  const [runSetup, setRunSetup] = useState(!prefill);
  const [error, setError] = useState<string | null>(null);
  const [recent, setRecent] = useState<ConversationSummary[]>([]);
  const [query, setQuery] = useState("");
  const [hits, setHits] = useState<SearchHit[] | null>(null);

  useEffect(() => {
    call("ConversationsList", { offset: 0, limit: 50, sort: "recently_updated" }).then(
      (p) => setRecent(p.items),
      (e) => setError(errorText(e)),
    );
  }, []);

  async function start() {
    setError(null);
    const target = where.trim();
    const fromLink = prefill?.repository;
    try {
      const repository =
        fromLink && (fromLink.kind === "git_url" ? fromLink.url : fromLink.path) === target
          ? fromLink
          : await call("RepositoryParse", { text: target });
      const t = await call("ConversationStart", {
        repository,
        task: task.trim() || null,
        profile: null,
        setup_script: runSetup ? "run" : "skip",
      });
      go(`/start/${t.id}`);
    } catch (e) {
      setError(errorText(e));
    }
  }

  const [renaming, setRenaming] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const refresh = () =>
    call("ConversationsList", { offset: 0, limit: 50, sort: "recently_updated" }).then((p) => setRecent(p.items));

  async function rename(id: string, title: string) {
    try {
      await call("ConversationRename", { id, text: title });
      setRenaming(null);
      await refresh();
    } catch (e) {
      setError(errorText(e));
    }
  }

  async function remove(id: string, title: string | null) {
    if (!window.confirm(`Delete "${title ?? "(untitled)"}", its sandbox and its history?`)) return;
    try {
      setRecent((await call("ConversationDelete", { id })).items);
    } catch (e) {
      setError(errorText(e));
    }
  }

  async function exportZip(id: string) {
    try {
      const saved = await download(`/api/export/${encodeURIComponent(id)}`, () =>
        call("ConversationExport", { id, path: "" }),
      );
      if (saved) setNote(`Saved to ${saved}`);
    } catch (e) {
      setError(errorText(e));
    }
  }

  async function search(q: string) {
    setQuery(q);
    if (!q.trim()) return setHits(null);
    try {
      setHits(await call("ConversationsSearch", { query: q, limit: 50 }));
    } catch (e) {
      setError(errorText(e));
    }
  }

  return (
    <section className="home">
      <h1>New conversation</h1>
      {prefill && (
        <p className="from-link" data-testid="from-link">
          Filled in from a link
          {prefill.issue
            ? ` to GitHub issue #${prefill.issue.number} of ${prefill.issue.owner}/${prefill.issue.repo}`
            : ""}
          . Check it, then click Start.
        </p>
      )}
      <label>
        Folder or git URL
        <input
          name="where"
          value={where}
          onChange={(e) => setWhere(e.target.value)}
          placeholder="/home/me/project or https://github.com/org/repo"
        />
      </label>
      <label>
        Task
        {prefill?.task && (
          <span className="link-badge" data-testid="task-from-link">
            from the link — read all of it: a link can carry instructions meant for the agent
          </span>
        )}
        <textarea
          name="task"
          value={task}
          onChange={(e) => setTask(e.target.value)}
          placeholder="Fix the failing test"
          rows={taskRows(task)}
        />
        <span className="hint" data-testid="task-count">
          {task.length} characters
        </span>
      </label>
      {prefill && (
        <label className="check">
          <input type="checkbox" name="run-setup" checked={runSetup} onChange={(e) => setRunSetup(e.target.checked)} />
          <span>
            Run the repository's setup script (<code>.openhands/setup.sh</code>) before the agent starts. It came
            through a link: in a process sandbox it runs as you, unconfined.
          </span>
        </label>
      )}
      <button className="primary" onClick={start} disabled={!where.trim()}>
        Start
      </button>
      {error && <p className="warn">{error}</p>}
      {note && <p className="ok">{note}</p>}
      <h2>Conversations</h2>
      <input
        name="search"
        className="search"
        value={query}
        onChange={(e) => search(e.target.value)}
        placeholder="Search messages, commands, outputs…"
      />
      {hits ? (
        <ul className="list" data-testid="search-results">
          {hits.length === 0 && <li>Nothing found.</li>}
          {hits.map((h, i) => (
            <li key={i}>
              <a href={`#/c/${h.conversation_id}`}>{h.title ?? "(untitled)"}</a>{" "}
              <span className="snippet">{h.snippet}</span>
            </li>
          ))}
        </ul>
      ) : (
        <ul className="list" data-testid="recent">
          {recent.map((c) => (
            <li key={c.id}>
              {renaming === c.id ? (
                <input
                  aria-label="new title"
                  autoFocus
                  defaultValue={c.title ?? ""}
                  onKeyDown={(e) => {
                    if (e.key === "Enter") void rename(c.id, e.currentTarget.value);
                    if (e.key === "Escape") setRenaming(null);
                  }}
                />
              ) : (
                <a href={`#/c/${c.id}`}>{c.title ?? "(untitled)"}</a>
              )}
              <span className={`status ${c.status ?? ""}`}>{c.status ?? ""}</span>
              {c.archived && <span className="archived">archived</span>}
              <span className="actions">
                <button onClick={() => setRenaming(c.id)}>Rename</button>
                <button onClick={() => void exportZip(c.id)}>Export</button>
                <button onClick={() => void remove(c.id, c.title)}>Delete</button>
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
