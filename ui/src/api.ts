// The one door to the app: a command goes through Tauri IPC in the desktop window, or through
// web mode's HTTP (`POST /api/call`, the token cookie set by the address `berth serve` printed).
// Types come from src/generated/api.ts, generated from the Rust types.
import type { ApiError, AppUpdate, ErrorCode, Request, Responses } from "./generated/api";
import { invoke, isDesktop, listenDesktop } from "./platform";

export type Command = Request["command"];
export type ArgsOf<K extends Command> = Extract<Request, { command: K }>["args"];

/** The app's error codes, and one of the UI's own: an answer it could not read. */
export type CommandErrorCode = ErrorCode | "bad_response";

export class CommandError extends Error {
  readonly code: CommandErrorCode;
  readonly problems: NonNullable<ApiError["problems"]>;
  constructor(error: Omit<ApiError, "code"> & { code: CommandErrorCode }) {
    super(error.message);
    this.code = error.code;
    this.problems = error.problems ?? [];
  }
}

export async function call<K extends Command>(command: K, args: ArgsOf<K>): Promise<Responses[K]> {
  if (isDesktop()) {
    try {
      return (await invoke("call", { request: { command, args } })) as Responses[K];
    } catch (e) {
      throw new CommandError(e as ApiError);
    }
  }
  const response = await fetch("/api/call", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ command, args }),
    credentials: "same-origin",
  });
  const body = await response
    .json()
    .catch(() => ({ code: "bad_response" as const, message: response.statusText, problems: [] }));
  if (!response.ok) throw new CommandError(body as ApiError);
  return body as Responses[K];
}

/**
 * Every update of the app (start tasks, events, changed files) until the returned function is
 * called. `onOpen` runs each time the stream is (re)connected: updates from then on arrive, so
 * that is when a view loads its snapshot — loading earlier could miss what happens in between.
 * It runs again on a `resync` (the app dropped updates this view fell behind on).
 */
export function subscribe(onUpdate: (update: AppUpdate) => void, onOpen?: () => void): () => void {
  const handle = (update: AppUpdate) => (update.type === "resync" ? onOpen?.() : onUpdate(update));
  return listen(handle, onOpen);
}

function listen(onUpdate: (update: AppUpdate) => void, onOpen?: () => void): () => void {
  if (isDesktop()) {
    let stop: (() => void) | undefined;
    let stopped = false;
    listenDesktop("update", (payload) => onUpdate(payload as AppUpdate)).then((un) => {
      if (stopped) un();
      else {
        stop = un;
        onOpen?.();
      }
    });
    return () => {
      stopped = true;
      stop?.();
    };
  }
  const source = new EventSource("/api/updates");
  source.addEventListener("open", () => onOpen?.());
  source.addEventListener("update", (e) => onUpdate(JSON.parse((e as MessageEvent<string>).data)));
  return () => source.close();
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
