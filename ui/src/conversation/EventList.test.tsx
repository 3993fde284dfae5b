import { render } from "@testing-library/react";
import type { Event } from "../generated/api";
import { EventList } from "./EventList";

function message(i: number): Event {
  return {
    id: `e${i}`,
    timestamp: "2026-11-24T12:00:00",
    source: i % 2 ? "agent" : "user",
    parent_id: null,
    kind: "MessageEvent",
    llm_message: { role: "user", content: [{ type: "text", text: `message number ${i}`, cache_prompt: false }] },
    activated_skills: [],
    extended_content: [],
  } as unknown as Event;
}

describe("EventList", () => {
  it("renders only the cards in view of 10 000 events", () => {
    // jsdom has no layout: give the scroller a size so the virtualizer can work out what is in view.
    Object.defineProperty(HTMLElement.prototype, "clientHeight", { configurable: true, get: () => 800 });
    Object.defineProperty(HTMLElement.prototype, "offsetHeight", { configurable: true, get: () => 800 });
    Object.defineProperty(HTMLElement.prototype, "offsetWidth", { configurable: true, get: () => 900 });
    const events = Array.from({ length: 10_000 }, (_, i) => message(i));
    const { container } = render(<EventList events={events} />);
    const cards = container.querySelectorAll("[data-kind=message]").length;
    expect(cards).toBeGreaterThan(0);
    expect(cards).toBeLessThan(60);
    // The list is as tall as all 10 000 cards would be, so the scrollbar is right.
    const inner = container.querySelector("[data-testid=events] > div") as HTMLElement;
    expect(parseInt(inner.style.height, 10)).toBeGreaterThan(10_000 * 40);
  });
});
