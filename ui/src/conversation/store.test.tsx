import type { Event } from "../generated/api";
import { ConversationStore } from "./store";

const event = (i: number) => ({ id: `e${i}`, kind: "MessageEvent" }) as unknown as Event;
const frame = () => new Promise((r) => setTimeout(r, 50));

describe("ConversationStore", () => {
  it("keeps each event once and tells its views once for a burst", async () => {
    const store = new ConversationStore("c1");
    let told = 0;
    store.subscribe(() => told++);
    const snapshot = Array.from({ length: 5000 }, (_, i) => event(i));
    store.addEvents(snapshot);
    // Live events that the snapshot already held, and new ones, one at a time.
    for (let i = 4990; i < 5100; i++) store.addEvents([event(i)]);
    await frame();
    expect(told).toBe(1);
    const events = store.snapshot().events;
    expect(events.length).toBe(5100);
    expect(new Set(events.map((e) => e.id)).size).toBe(5100);
    expect(events[5099].id).toBe("e5099");
  });

  it("hands views a new array only when an event was added", async () => {
    const store = new ConversationStore("c1");
    store.addEvents([event(1)]);
    const before = store.snapshot().events;
    store.addEvents([event(1)]);
    expect(store.snapshot().events).toBe(before);
    store.addEvents([event(2)]);
    expect(store.snapshot().events).not.toBe(before);
  });
});
