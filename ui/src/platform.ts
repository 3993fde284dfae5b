// The one place that knows where the UI runs: in the desktop window (Tauri's IPC and events,
// through the `__TAURI__` global the app injects) or in a browser against `berth serve` (HTTP).
// Everything else asks here instead of looking at `window.__TAURI__` itself.

interface TauriGlobal {
  core: { invoke: (cmd: string, args?: unknown) => Promise<unknown> };
  event: { listen: (name: string, cb: (e: { payload: unknown }) => void) => Promise<() => void> };
  window: { getCurrentWindow: () => { close: () => Promise<void> } };
}

function tauri(): TauriGlobal | undefined {
  return (window as unknown as { __TAURI__?: TauriGlobal }).__TAURI__;
}

/** True in the desktop app's window. */
export function isDesktop(): boolean {
  return tauri() !== undefined;
}

/** Calls a desktop shell command (`call`, `take_links`, `show_main`, `open_link`). */
export function invoke(command: string, args?: unknown): Promise<unknown> {
  const t = tauri();
  if (!t) return Promise.reject(new Error(`${command} needs the desktop app`));
  return t.core.invoke(command, args);
}

/** Listens to a desktop shell event; in a browser there are none, and the stop does nothing. */
export function listenDesktop(name: string, onEvent: (payload: unknown) => void): Promise<() => void> {
  const t = tauri();
  if (!t) return Promise.resolve(() => {});
  return t.event.listen(name, (e) => onEvent(e.payload));
}

/**
 * Hands the user a file the app makes. In a browser, the browser downloads `url` (web mode
 * serves it); in the desktop app, `save` writes it (to Downloads) and says where — the answer
 * is that path, or `null` when the browser took over.
 */
export async function download(url: string, save: () => Promise<string>): Promise<string | null> {
  if (!isDesktop()) {
    window.location.href = url;
    return null;
  }
  return save();
}

/** Closes this window (desktop); a browser tab is the user's to close. */
export async function closeWindow(): Promise<void> {
  await tauri()?.window.getCurrentWindow().close();
}
