// The conversation's events as a virtualized list: only the cards in view are rendered, so
// 10 000 events scroll as smoothly as 10. Follows the newest event unless the user scrolled up.
import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useRef } from "react";
import type { Event } from "../generated/api";
import { EventCard } from "./EventCard";

export function EventList({ events }: { events: Event[] }) {
  const parent = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const virtualizer = useVirtualizer({
    count: events.length,
    getScrollElement: () => parent.current,
    estimateSize: () => 80,
    overscan: 8,
    getItemKey: (i) => events[i].id,
  });
  useEffect(() => {
    if (atBottom.current && events.length > 0) virtualizer.scrollToIndex(events.length - 1, { align: "end" });
  }, [events.length, virtualizer]);
  return (
    <div
      className="events"
      ref={parent}
      data-testid="events"
      onScroll={(e) => {
        const el = e.currentTarget;
        atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
      }}
    >
      <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
        {virtualizer.getVirtualItems().map((row) => (
          <div
            key={row.key}
            data-index={row.index}
            ref={virtualizer.measureElement}
            style={{ position: "absolute", top: 0, left: 0, right: 0, transform: `translateY(${row.start}px)` }}
          >
            <EventCard event={events[row.index]} />
          </div>
        ))}
      </div>
    </div>
  );
}
