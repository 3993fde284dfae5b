// Hash routes (`#/c/ID`): the same in the Tauri webview and in a browser against web mode.
import { useEffect, useState } from "react";

export type Route =
  | { page: "home"; key?: string }
  | { page: "quick" }
  | { page: "setup" }
  | { page: "settings" }
  | { page: "start"; id: string }
  | { page: "conversation"; id: string };

export function parse(hash: string): Route {
  const [, page, id] = hash.replace(/^#/, "").split("/");
  if (page === "c" && id) return { page: "conversation", id: decodeURIComponent(id) };
  if (page === "start" && id) return { page: "start", id: decodeURIComponent(id) };
  if (page === "settings") return { page: "settings" };
  if (page === "setup") return { page: "setup" };
  if (page === "quick") return { page: "quick" };
  // A fresh new-conversation form (a link just prefilled it).
  if (page === "new") return { page: "home", key: id };
  return { page: "home" };
}

export function go(path: string) {
  window.location.hash = path;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(window.location.hash));
  useEffect(() => {
    const on = () => setRoute(parse(window.location.hash));
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return route;
}
