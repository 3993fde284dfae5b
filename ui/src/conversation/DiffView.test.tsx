import { render, screen } from "@testing-library/react";
import { DiffView, diffRows } from "./DiffView";

describe("diffRows", () => {
  it("puts a changed line beside its replacement and keeps the rest", () => {
    const rows = diffRows("a\nb\nc\n", "a\nB\nc\nd\n");
    expect(rows).toEqual([
      { left: "a", right: "a", kind: "same" },
      { left: "b", right: "B", kind: "changed" },
      { left: "c", right: "c", kind: "same" },
      { left: null, right: "d", kind: "added" },
    ]);
  });

  it("shows a new file as all added lines", () => {
    expect(diffRows("", "x\ny\n").map((r) => r.kind)).toEqual(["added", "added"]);
  });
});

describe("DiffView", () => {
  it("counts additions and removals for the file", () => {
    render(<DiffView path="src/app.py" before={"x = 1\ny = 2\n"} after={"x = 1\ny = 3\nz = 4\n"} />);
    expect(screen.getByText("src/app.py")).toBeTruthy();
    expect(screen.getByText("+2")).toBeTruthy();
    expect(screen.getByText("−1")).toBeTruthy();
    expect(screen.getAllByText("y = 3")).toHaveLength(1);
  });
});
