// One conversation as the app tells it: its summary (status, title, usage, the actions waiting
// for the user — the app's projection, never re-derived here), its events once each by id, its
// changed files and what the agent changed in `.git/`. Loaded when the update stream opens (so
// nothing that happens in between is missed) and kept current by the stream.
//
// Events are appended in place, copied once when a view reads them, and listeners told once per
// animation frame: a burst of events (a snapshot of thousands, a fast agent) costs one copy and
// one render, not one of each per event.
import { useEffect, useState, useSyncExternalStore } from "react";
import { call, errorText, subscribe } from "../api";
import type { ChangedFile, ConversationSummary, Event, GitTamper } from "../generated/api";

export interface ConversationView {
  summary: ConversationSummary | null;
  /** Every event so far, oldest first; a new array whenever one was added. */
  events: Event[];
  changes: ChangedFile[];
  tampered: GitTamper[];
  error: string | null;
}

const EMPTY: ConversationView = { summary: null, events: [], changes: [], tampered: [], error: null };

export class ConversationStore {
  private view: ConversationView = EMPTY;
  private readonly events: Event[] = [];
  private readonly seen = new Set<string>();
  private readonly listeners = new Set<() => void>();
  private scheduled = false;
  /** Events were added since the view last copied them. */
  private fresh = false;

  constructor(readonly id: string) {}

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  // The one copy of the event list per change a view reads, not one per event added.
  snapshot = (): ConversationView => {
    if (this.fresh) {
      this.fresh = false;
      this.view = { ...this.view, events: this.events.slice() };
    }
    return this.view;
  };

  /** Shows (or clears) an error of the view's own, e.g. a failed command. */
  setError = (error: string | null) => this.update({ error });

  addEvents(list: readonly Event[]) {
    let added = false;
    for (const e of list) {
      if (this.seen.has(e.id)) continue;
      this.seen.add(e.id);
      this.events.push(e);
      added = true;
    }
    if (added) {
      this.fresh = true;
      this.update({});
    }
  }

  update(part: Partial<ConversationView>) {
    this.view = { ...this.view, ...part };
    if (this.scheduled) return;
    this.scheduled = true;
    const tell = () => {
      this.scheduled = false;
      this.listeners.forEach((l) => l());
    };
    if (typeof requestAnimationFrame === "function") requestAnimationFrame(tell);
    else queueMicrotask(tell);
  }

  /** Follows the app's updates for this conversation until the returned function is called. */
  follow(): () => void {
    const id = this.id;
    let live = true;
    const failed = (e: unknown) => live && this.update({ error: errorText(e) });
    const checkGit = () => call("GitTamperingList", { id }).then((t) => live && this.update({ tampered: t }), failed);
    const load = () => {
      call("ConversationGet", { id }).then((s) => live && this.update({ summary: s }), failed);
      call("ConversationEventsList", { id }).then((list) => live && this.addEvents(list), failed);
      call("ChangedFilesList", { id }).then((files) => live && this.update({ changes: files }), failed);
      checkGit();
    };
    const stop = subscribe((u) => {
      if (u.type === "event" && u.conversation_id === id) this.addEvents([u.event]);
      if (u.type === "conversation" && u.summary.id === id) this.update({ summary: u.summary });
      if (u.type === "changed_files" && u.changes.conversation_id === id) {
        this.update({ changes: u.changes.files });
        checkGit();
      }
    }, load);
    return () => {
      live = false;
      stop();
    };
  }
}

/** The conversation `id`, followed while the component shows it. */
export function useConversation(id: string): ConversationView & { setError: (e: string | null) => void } {
  const [store, setStore] = useState(() => new ConversationStore(id));
  if (store.id !== id) setStore(new ConversationStore(id));
  useEffect(() => store.follow(), [store]);
  const view = useSyncExternalStore(store.subscribe, store.snapshot);
  return { ...view, setError: store.setError };
}
