// What every browser flow starts with: Debian's Chromium through playwright-core, with the flags
// this closed network needs, one page, and helpers for screenshots and step lines.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";

export async function open(shots, timeout) {
  mkdirSync(shots, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.BERTH_CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(timeout);
  const shot = (name) => page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
  const step = (what) => console.log(`- ${what}`);
  return { browser, page, shot, step };
}
