// Agent output is attacker input: a prompt-injected agent writes markdown, links and terminal
// escape sequences meant to take over the window. Everything it wrote reaches the page through
// here.
// - Markdown: marked renders, DOMPurify (the maintained HTML sanitizer) keeps only harmless
//   elements, links only to http(s) and mailto, and no images (a remote image is a zero-click
//   leak) or forms.
// - Links open in the system browser after the user confirms; the window itself never navigates.
// - Terminal text keeps its colours (SGR) and loses every other escape sequence: OSC 8 links,
//   title changes, clipboard writes, cursor games.
import DOMPurify from "dompurify";
import { marked } from "marked";
import { invoke, isDesktop } from "./platform";

const SAFE_URL = /^(?:https?:|mailto:)/i;

const purifier = DOMPurify(window);
purifier.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {
    const href = node.getAttribute("href") ?? "";
    if (!SAFE_URL.test(href)) node.removeAttribute("href");
    node.setAttribute("rel", "noopener noreferrer");
    node.setAttribute("target", "_blank");
  }
});

/** The markdown as sanitized HTML. */
export function markdownHtml(source: string): string {
  const html = marked.parse(source, { async: false }) as string;
  return purifier.sanitize(html, {
    ALLOWED_URI_REGEXP: SAFE_URL,
    FORBID_TAGS: [
      "img",
      "picture",
      "source",
      "video",
      "audio",
      "iframe",
      "object",
      "embed",
      "form",
      "input",
      "button",
      "style",
      "svg",
      "math",
    ],
    FORBID_ATTR: ["style", "srcset"],
  });
}

/** Opens an http(s) or mailto link in the system browser once the user agrees; never in the app. */
export async function openLink(url: string): Promise<void> {
  if (!SAFE_URL.test(url)) return;
  if (!window.confirm(`Open this link in your browser?\n\n${url}`)) return;
  if (isDesktop()) await invoke("open_link", { url });
  else window.open(url, "_blank", "noopener,noreferrer");
}

/** A click on a link inside agent output: opened through `openLink`, never followed. */
export function onLinkClick(e: React.MouseEvent<HTMLElement>) {
  const a = (e.target as HTMLElement).closest("a");
  if (!a) return;
  e.preventDefault();
  const href = a.getAttribute("href");
  if (href) void openLink(href);
}

// CSI (ESC [ … final), OSC (ESC ] … BEL or ST), DCS/SOS/PM/APC (ESC P/X/^/_ … ST), other
// escapes (ESC, intermediates, a final byte: ESC =, ESC ( B…), a lone ESC, and C1 controls:
// matching control characters is the point here.
const ESCAPES =
  // eslint-disable-next-line no-control-regex
  /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[PX^_][^\x1b]*(?:\x1b\\)?|\x1b[ -/]*[0-~]|\x1b|[\x80-\x9f]/g;

/** Terminal text with its colours and without any other escape sequence. */
export function terminalText(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(ESCAPES, (seq) => (/^\x1b\[[0-9;]*m$/.test(seq) ? seq : ""));
}

/** Text with every terminal escape and control character gone (tabs and newlines stay): for
 * output shown as plain text, where a colour code would only be noise. */
export function plainText(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(ESCAPES, "").replace(/[\x00-\x08\x0b-\x1f\x7f]/g, "");
}
