import { subscribe } from "./api";

/** The browser's EventSource, as web mode uses it, with updates the test sends. */
class FakeSource {
  static last: FakeSource | null = null;
  listeners = new Map<string, ((e: unknown) => void)[]>();
  closed = false;
  constructor(public url: string) {
    FakeSource.last = this;
  }
  addEventListener(type: string, f: (e: unknown) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), f]);
  }
  emit(type: string, data?: unknown) {
    for (const f of this.listeners.get(type) ?? []) f({ data: JSON.stringify(data) });
  }
  close() {
    this.closed = true;
  }
}

describe("subscribe", () => {
  it("reloads the view's snapshot when the app says updates were missed", () => {
    vi.stubGlobal("EventSource", FakeSource);
    const updates: unknown[] = [];
    let loads = 0;
    const stop = subscribe(
      (u) => updates.push(u),
      () => loads++,
    );
    const source = FakeSource.last!;
    source.emit("open");
    expect(loads).toBe(1);
    const changed = { type: "changed_files", changes: { conversation_id: "c", files: [] } };
    source.emit("update", changed);
    source.emit("update", { type: "resync", missed: 12 });
    expect(loads).toBe(2);
    expect(updates).toEqual([changed]);
    stop();
    expect(source.closed).toBe(true);
    vi.unstubAllGlobals();
  });
});
