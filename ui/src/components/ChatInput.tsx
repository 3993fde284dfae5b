// Enter sends, Shift+Enter starts a new line.
import { useState } from "react";
import { errorText } from "../api";

export function ChatInput({ onSend, placeholder, disabled }: { onSend: (text: string) => Promise<void>; placeholder?: string; disabled?: boolean }) {
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  async function send() {
    const t = text.trim();
    if (!t) return;
    setText("");
    try {
      await onSend(t);
      setError(null);
    } catch (e) {
      setText(t);
      setError(errorText(e));
    }
  }
  return (
    <div className="chat">
      <textarea
        name="message"
        value={text}
        disabled={disabled}
        placeholder={placeholder ?? "Message the agent (Enter sends, Shift+Enter for a new line)"}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey) {
            e.preventDefault();
            void send();
          }
        }}
        rows={2}
      />
      {error && <p className="warn">{error}</p>}
    </div>
  );
}
