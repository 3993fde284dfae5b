// The Terminal tab: the agent's shell as it ran (its commands and their output, from the
// events) in xterm.js, and a prompt where the user runs commands of their own in the sandbox.
import { Terminal as XTerm } from "@xterm/xterm";
import "@xterm/xterm/css/xterm.css";
import { useEffect, useRef, useState } from "react";
import { call, errorText } from "../api";
import type { Content, Event } from "../generated/api";
import { openLink, terminalText } from "../safe";

const text = (content: Array<Content>) => content.map((c) => ("text" in c ? c.text : "")).join("\n");

/** What the agent's terminal showed, line by line, for the events so far. */
export function transcript(events: Event[]): string[] {
  const lines: string[] = [];
  for (const e of events) {
    if (e.kind === "ActionEvent" && e.action?.kind === "TerminalAction") lines.push(`$ ${e.action.command}`);
    if (e.kind === "ObservationEvent" && e.observation.kind === "TerminalObservation")
      lines.push(...terminalText(text(e.observation.content)).split("\n"));
  }
  return lines;
}

export function Terminal({ id, events, readOnly }: { id: string; events: Event[]; readOnly: boolean }) {
  const host = useRef<HTMLDivElement>(null);
  const term = useRef<XTerm | null>(null);
  const written = useRef(0);
  const [command, setCommand] = useState("");
  const lines = transcript(events);

  useEffect(() => {
    if (!host.current) return;
    // Links the output still shows go through the same confirmation as any other.
    const t = new XTerm({
      convertEol: true,
      fontSize: 12,
      rows: 24,
      cols: 90,
      disableStdin: true,
      linkHandler: { activate: (_e, uri) => void openLink(uri) },
    });
    t.open(host.current);
    term.current = t;
    written.current = 0;
    return () => t.dispose();
  }, [id]);

  useEffect(() => {
    const t = term.current;
    if (!t) return;
    for (const line of lines.slice(written.current)) t.writeln(line);
    written.current = lines.length;
  }, [lines]);

  async function run() {
    const c = command.trim();
    if (!c || !term.current) return;
    setCommand("");
    term.current.writeln(`\x1b[1;34myou$\x1b[0m ${c}`);
    try {
      const r = await call("SandboxCommandRun", { id, text: c });
      term.current.writeln(terminalText(r.output.replace(/\n$/, "")));
      if (r.exit_code !== 0) term.current.writeln(`\x1b[31m[exit ${r.exit_code}]\x1b[0m`);
    } catch (e) {
      term.current.writeln(`\x1b[31m${terminalText(errorText(e))}\x1b[0m`);
    }
  }

  return (
    <div className="terminal" data-testid="terminal">
      <div ref={host} />
      {!readOnly && (
        <input
          name="terminal-command"
          placeholder="Run a command in the sandbox (Enter)"
          value={command}
          onChange={(e) => setCommand(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter") void run();
          }}
        />
      )}
    </div>
  );
}
