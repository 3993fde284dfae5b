// The desktop shell's own events: `navigate` (tray menu, quick prompt) and `deep_link` (a
// berth:// link from the OS or a second launch). A link only opens or prefills — the user
// still clicks Start.
import { call, errorText } from "./api";
import type { DeepLink } from "./generated/api";
import { invoke, isDesktop, listenDesktop } from "./platform";
import { go } from "./route";

const PREFILL = "berth.prefill";

export type Prefill = Extract<DeepLink, { action: "prefill" }>;

/** The prefill a link left for the new-conversation form (taken once). */
export function takePrefill(): Prefill | null {
  const raw = sessionStorage.getItem(PREFILL);
  sessionStorage.removeItem(PREFILL);
  return raw ? (JSON.parse(raw) as Prefill) : null;
}

export async function openLink(link: string): Promise<string | null> {
  try {
    const action = await call("DeepLinkParse", { link });
    if (action.action === "open_conversation") {
      go(`/c/${action.id}`);
    } else {
      sessionStorage.setItem(PREFILL, JSON.stringify(action));
      go(`/new/${Date.now()}`);
    }
    return null;
  } catch (e) {
    return `This link was not opened: ${errorText(e)}`;
  }
}

/** Listens to the shell (in the desktop app only); `onRefused` hears about links refused. */
export function listenToShell(onRefused: (why: string) => void): () => void {
  if (!isDesktop()) return () => {};
  const drain = async () => {
    const links = (await invoke("take_links")) as string[];
    for (const link of links) {
      const refused = await openLink(link);
      if (refused) onRefused(refused);
    }
  };
  const stops: Array<Promise<() => void>> = [
    listenDesktop("navigate", (payload) => go(String(payload))),
    listenDesktop("deep_link", () => void drain()),
  ];
  void drain();
  return () => stops.forEach((s) => s.then((stop) => stop()));
}
