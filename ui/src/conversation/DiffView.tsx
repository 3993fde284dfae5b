// A side-by-side diff of two texts: removed lines on the left, added on the right, unchanged
// lines on both. Lines are compared with the `diff` package (Myers' algorithm).
import { diffLines } from "diff";

export interface DiffRow {
  left: string | null;
  right: string | null;
  kind: "same" | "removed" | "added" | "changed";
}

/** Pairs removed and added runs into rows, so a changed line sits beside its replacement. */
export function diffRows(before: string, after: string): DiffRow[] {
  const rows: DiffRow[] = [];
  const split = (v: string) => v.replace(/\n$/, "").split("\n");
  const parts = diffLines(before, after);
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (!part.added && !part.removed) {
      for (const line of split(part.value)) rows.push({ left: line, right: line, kind: "same" });
    } else if (part.removed && parts[i + 1]?.added) {
      const old = split(part.value);
      const neu = split(parts[i + 1].value);
      for (let j = 0; j < Math.max(old.length, neu.length); j++) {
        rows.push({
          left: old[j] ?? null,
          right: neu[j] ?? null,
          kind: old[j] !== undefined && neu[j] !== undefined ? "changed" : old[j] !== undefined ? "removed" : "added",
        });
      }
      i++;
    } else if (part.removed) {
      for (const line of split(part.value)) rows.push({ left: line, right: null, kind: "removed" });
    } else {
      for (const line of split(part.value)) rows.push({ left: null, right: line, kind: "added" });
    }
  }
  return rows;
}

export function DiffView({ path, before, after }: { path?: string | null; before: string; after: string }) {
  const rows = diffRows(before, after);
  const added = rows.filter((r) => r.kind === "added" || r.kind === "changed").length;
  const removed = rows.filter((r) => r.kind === "removed" || r.kind === "changed").length;
  return (
    <div className="diff" data-testid="diff">
      {path && (
        <div className="diff-head">
          <span className="path">{path}</span> <span className="plus">+{added}</span>{" "}
          <span className="minus">−{removed}</span>
        </div>
      )}
      <table>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i} className={r.kind}>
              <td className="left">{r.left ?? ""}</td>
              <td className="right">{r.right ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
