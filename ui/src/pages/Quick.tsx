// The tray's quick prompt: a folder and a task, Start — then the main window shows it starting.
import { useState } from "react";
import { call, errorText } from "../api";

interface WindowApi {
  core: { invoke: (cmd: string, args?: unknown) => Promise<unknown> };
  window: { getCurrentWindow: () => { close: () => Promise<void> } };
}

export function Quick() {
  const [where, setWhere] = useState("");
  const [task, setTask] = useState("");
  const [error, setError] = useState<string | null>(null);
  async function start() {
    try {
      const t = await call("StartConversation", { repository: { kind: "local_folder", path: where.trim() }, task: task.trim() || null, profile: null, setup_script: "run" });
      const shell = (window as unknown as { __TAURI__?: WindowApi }).__TAURI__;
      if (shell) {
        await shell.core.invoke("show_main", { path: `/start/${t.id}` });
        await shell.window.getCurrentWindow().close();
      } else {
        window.location.hash = `/start/${t.id}`;
      }
    } catch (e) {
      setError(errorText(e));
    }
  }
  return (
    <section className="quick">
      <input name="where" value={where} onChange={(e) => setWhere(e.target.value)} placeholder="Folder, e.g. /home/me/project" autoFocus />
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
      <button className="primary" onClick={start} disabled={!where.trim()}>Start</button>
      {error && <p className="warn">{error}</p>}
    </section>
  );
}
