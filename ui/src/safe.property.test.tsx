// Properties of the sanitizers, over hostile input built from the attacks a prompt-injected
// agent would write. Runs 100 cases; VITE_FC_RUNS=5000 npm test for a longer run.
import fc from "fast-check";
import { markdownHtml, terminalText } from "./safe";

const runs = Number((import.meta as unknown as { env: Record<string, string | undefined> }).env.VITE_FC_RUNS ?? 100);

const attacks = [
  "<script>alert(1)</script>",
  "[x](javascript:alert(1))",
  "[x](JaVaScRiPt:alert(1))",
  "[x](&#106;avascript:alert(1))",
  "[x](data:text/html,<script>alert(1)</script>)",
  "[x](vbscript:msgbox)",
  "[ok](https://ok.example/page)",
  "[mail](mailto:a@b.example)",
  "![i](http://evil.example/i.png)",
  '<img src=x onerror="alert(1)">',
  '<a href="javascript:alert(1)">a</a>',
  '<a href=" javascript:alert(1)">a</a>',
  '<a href="file:///etc/passwd">f</a>',
  "<svg onload=alert(1)><circle/></svg>",
  '<iframe src="https://evil.example"></iframe>',
  '<form action="https://evil.example"><input name=x></form>',
  '<div style="background:url(http://evil.example/x)">d</div>',
  '<details open ontoggle="alert(1)">d</details>',
  '<math><mi xlink:href="javascript:alert(1)">m</mi></math>',
  '<picture><source srcset="http://evil.example/x"></picture>',
  "<video src=http://evil.example/v poster=http://evil.example/p></video>",
  "<style>body{background:url(http://evil.example)}</style>",
  '<object data="http://evil.example/x"></object>',
  "<!-- <script>alert(1)</script> -->",
  "\n\n",
  "**bold** `code` ",
  "```\n<script>x</script>\n```\n",
  "> quote\n",
  "<",
  ">",
  '"',
];

const hostileMarkdown = fc
  .array(fc.oneof(fc.constantFrom(...attacks), fc.string({ maxLength: 20 })), { maxLength: 12 })
  .map((parts) => parts.join(""));

const FORBIDDEN = [
  "script",
  "img",
  "iframe",
  "svg",
  "math",
  "form",
  "input",
  "style",
  "object",
  "embed",
  "picture",
  "source",
  "video",
  "audio",
  "button",
];
const SAFE_URL = /^(?:https?:|mailto:)/i;

describe("markdownHtml over hostile input", () => {
  it("never lets script, remote resources or unsafe links through", () => {
    fc.assert(
      fc.property(hostileMarkdown, (source) => {
        const root = document.createElement("div");
        root.innerHTML = markdownHtml(source);
        for (const el of Array.from(root.querySelectorAll("*"))) {
          expect(FORBIDDEN).not.toContain(el.tagName.toLowerCase());
          for (const attr of Array.from(el.attributes)) {
            expect(attr.name.startsWith("on"), `${attr.name} on ${el.tagName}`).toBe(false);
            expect(["style", "srcset", "src", "action", "formaction", "xlink:href", "poster", "data"]).not.toContain(
              attr.name,
            );
            if (attr.name === "href") expect(attr.value).toMatch(SAFE_URL);
          }
        }
      }),
      { numRuns: runs },
    );
  });
});

describe("terminalText over hostile input", () => {
  const pieces = fc.oneof(
    fc.constantFrom(
      "\x1b[31m",
      "\x1b[0m",
      "\x1b]8;;https://evil.example\x1b\\",
      "\x1b]0;title\x07",
      "\x1bPq#0\x1b\\",
      "\x1b[2J",
      "\x1b=",
      "\x9b31m",
      "\x1b",
      "\x07",
      "é€",
    ),
    fc.string({ maxLength: 10 }),
  );
  it("keeps only colour sequences", () => {
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 16 }), (parts) => {
        const out = terminalText(parts.join(""));
        // eslint-disable-next-line no-control-regex
        const withoutColours = out.replace(/\x1b\[[0-9;]*m/g, "");
        // eslint-disable-next-line no-control-regex
        expect(withoutColours).not.toMatch(/[\x1b\x80-\x9f]/);
      }),
      { numRuns: runs },
    );
  });
});
