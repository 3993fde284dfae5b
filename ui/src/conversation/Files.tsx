// The Files tab: the workspace's folders, a file's text, and a download.
import { useEffect, useState } from "react";
import { call, errorText } from "../api";
import type { FileEntry, FilePreview } from "../generated/api";
import { download } from "../platform";

/** `changed` moves when the watcher reports changes: the listing follows. */
export function Files({ id, changed }: { id: string; changed: unknown }) {
  const [dir, setDir] = useState("");
  const [tick, setTick] = useState(0);
  const [entries, setEntries] = useState<FileEntry[]>([]);
  const [preview, setPreview] = useState<FilePreview | null>(null);
  const [note, setNote] = useState<string | null>(null);
  useEffect(() => {
    call("FilesList", { id, path: dir }).then(setEntries, (e) => setNote(errorText(e)));
  }, [id, dir, tick, changed]);
  const crumbs = dir ? dir.split("/") : [];
  async function saveCopy(path: string) {
    try {
      const saved = await download(`/api/file/${encodeURIComponent(id)}?path=${encodeURIComponent(path)}`, () =>
        call("FileSaveCopy", { id, path }),
      );
      if (saved) setNote(`Saved to ${saved}`);
    } catch (e) {
      setNote(errorText(e));
    }
  }
  return (
    <div className="files-tab" data-testid="files">
      <div className="crumbs">
        <button
          onClick={() => {
            setDir("");
            setPreview(null);
            setTick((t) => t + 1);
          }}
        >
          workspace
        </button>
        {crumbs.map((c, i) => (
          <button
            key={i}
            onClick={() => {
              setDir(crumbs.slice(0, i + 1).join("/"));
              setPreview(null);
            }}
          >
            / {c}
          </button>
        ))}
      </div>
      <ul className="files">
        {entries.map((e) => (
          <li key={e.path}>
            {e.is_dir ? (
              <a
                href="#"
                onClick={(ev) => {
                  ev.preventDefault();
                  setDir(e.path);
                  setPreview(null);
                }}
              >
                {e.name}/
              </a>
            ) : (
              <a
                href="#"
                onClick={(ev) => {
                  ev.preventDefault();
                  call("FileRead", { id, path: e.path }).then(setPreview, (err) => setNote(errorText(err)));
                }}
              >
                {e.name}
              </a>
            )}
            {!e.is_dir && <span className="size">{e.size} B</span>}
          </li>
        ))}
      </ul>
      {preview && (
        <div className="preview">
          <div className="diff-head">
            {preview.path} <button onClick={() => void saveCopy(preview.path)}>Download</button>
          </div>
          {preview.text !== null ? (
            <pre data-testid="file-text">{preview.text}</pre>
          ) : (
            <p>Binary or large file ({preview.size} bytes): download it to look.</p>
          )}
        </div>
      )}
      {note && <p className="hint">{note}</p>}
    </div>
  );
}
