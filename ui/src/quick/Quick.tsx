// The tray's quick prompt: a folder and a task, Start — then the main window shows it starting.
import { useState } from "react";
import { call, errorText } from "../api";
import { closeWindow, invoke, isDesktop } from "../platform";

export function Quick() {
  const [where, setWhere] = useState("");
  const [task, setTask] = useState("");
  const [error, setError] = useState<string | null>(null);
  async function start() {
    try {
      const t = await call("ConversationStart", {
        repository: { kind: "local_folder", path: where.trim() },
        task: task.trim() || null,
        profile: null,
        setup_script: "run",
      });
      if (isDesktop()) {
        await invoke("show_main", { path: `/start/${t.id}` });
        await closeWindow();
      } else {
        window.location.hash = `/start/${t.id}`;
      }
    } catch (e) {
      setError(errorText(e));
    }
  }
  return (
    <section className="quick">
      <input
        name="where"
        value={where}
        onChange={(e) => setWhere(e.target.value)}
        placeholder="Folder, e.g. /home/me/project"
        autoFocus
      />
      <textarea
        name="task"
        value={task}
        onChange={(e) => setTask(e.target.value)}
        placeholder="What should the agent do? (Enter starts)"
        rows={3}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey) {
            e.preventDefault();
            void start();
          }
        }}
      />
      <button className="primary" onClick={start} disabled={!where.trim()}>
        Start
      </button>
      {error && <p className="warn">{error}</p>}
    </section>
  );
}
