// Enter sends, Shift+Enter starts a new line.
import { useState } from "react";
import { errorText } from "../api";

/** A file's content as base64, for UploadFile. */
async function base64Of(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export function ChatInput({
  onSend,
  onFile,
  placeholder,
  disabled,
}: {
  onSend: (text: string) => Promise<void>;
  /** Files dropped or pasted go to the workspace; answers the name written. */
  onFile?: (name: string, base64: string) => Promise<string>;
  placeholder?: string;
  disabled?: boolean;
}) {
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [uploaded, setUploaded] = useState<string[]>([]);
  async function take(files: FileList | null) {
    if (!onFile || !files) return;
    for (const f of Array.from(files)) {
      try {
        const name = await onFile(f.name, await base64Of(f));
        setUploaded((u) => [...u, name]);
        setText((t) => (t ? `${t} ` : "") + `\`${name}\``);
      } catch (e) {
        setError(errorText(e));
      }
    }
  }
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
    <div
      className="chat"
      onDragOver={(e) => onFile && e.preventDefault()}
      onDrop={(e) => {
        if (!onFile) return;
        e.preventDefault();
        void take(e.dataTransfer.files);
      }}
    >
      {uploaded.length > 0 && (
        <p className="hint" data-testid="uploaded">
          In the workspace now: {uploaded.join(", ")}
        </p>
      )}
      <textarea
        onPaste={(e) => {
          if (onFile && e.clipboardData.files.length > 0) {
            e.preventDefault();
            void take(e.clipboardData.files);
          }
        }}
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
