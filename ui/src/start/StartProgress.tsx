// A conversation being started: the start task's states as they happen; messages typed
// meanwhile are queued and sent when it is ready.
import { useEffect, useState } from "react";
import { call, errorText, subscribe } from "../api";
import type { StartTask } from "../generated/api";
import { go } from "../route";
import { ChatInput } from "../conversation/ChatInput";

type State = Pick<StartTask, "status" | "detail">;

export function StartProgress({ id }: { id: string }) {
  const [states, setStates] = useState<State[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const add = (t: State) => setStates((s) => (s.some((x) => x.status === t.status) ? s : [...s, t]));
    const done = (t: StartTask) => {
      add(t);
      // A moment on READY, so the user sees the start complete before the conversation opens.
      if (t.status === "READY" && t.conversation_id) timer = setTimeout(() => go(`/c/${t.conversation_id}`), 700);
    };
    const stop = subscribe(
      (u) => {
        if (u.type === "start_task" && u.task.id === id) done(u.task);
      },
      async () => {
        try {
          (await call("StartTaskHistoryGet", { id })).forEach(add);
          done(await call("StartTaskGet", { id }));
        } catch (e) {
          setError(errorText(e));
        }
      },
    );
    return () => {
      stop();
      if (timer) clearTimeout(timer);
    };
  }, [id]);
  const last = states[states.length - 1];
  return (
    <section className="start">
      <h1>Starting…</h1>
      <ol className="states" data-testid="start-states">
        {states.map((t) => (
          <li key={t.status} className={t.status === "ERROR" ? "error" : ""}>
            <b>{t.status.replace(/_/g, " ").toLowerCase()}</b> {t.detail}
          </li>
        ))}
      </ol>
      {last?.status === "ERROR" && <p className="warn">{last.detail}</p>}
      {error && <p className="warn">{error}</p>}
      <ChatInput
        placeholder="Messages sent now are delivered when the agent is ready"
        onSend={(text) => call("StartTaskSend", { id, text }).then(() => undefined)}
      />
    </section>
  );
}
