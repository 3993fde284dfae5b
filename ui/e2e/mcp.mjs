// MCP in a real browser (Debian's Chromium, driven by playwright-core) against `berth serve`:
// Settings adds a real npm MCP server and a broken one, Test lists the tools of the first and
// shows the error of the second; a conversation then calls the server's tool (its card shows the
// server's answer) and its Tools tab shows each server's health. Run by the Rust test
// src-tauri/web/tests/suite/browser.rs: `node e2e/mcp.mjs URL WORKSPACE SCREENSHOT_DIR MCP_SERVER`.
import { open } from "./browser.mjs";

const [url, workspace, shots, server] = process.argv.slice(2);
const { browser, page, shot, step } = await open(shots, 30000);

try {
  step("Settings: add a real MCP server and test it");
  // The address carries the launch token; the session keeps it for the routes after.
  await page.goto(url);
  await page.locator("input[name=where]").waitFor();
  await page.goto(url.replace(/\/\?.*$/, "/#/settings"));
  await page.getByRole("heading", { name: "Settings" }).waitFor();
  await page.getByRole("button", { name: "Add a program (stdio)" }).click();
  const first = page.getByTestId("mcp-server").nth(0);
  await first.getByLabel("MCP server name").fill("everything");
  await first.getByLabel("MCP command").fill(`${server} stdio`);
  await first.getByRole("button", { name: "Test" }).click();
  await first.getByTestId("mcp-test-tools").filter({ hasText: "echo" }).waitFor();

  step("a broken server's test says why");
  await page.getByRole("button", { name: "Add a program (stdio)" }).click();
  const second = page.getByTestId("mcp-server").nth(1);
  await second.getByLabel("MCP server name").fill("broken");
  await second.getByLabel("MCP command").fill("berth-no-such-mcp-server --stdio");
  await second.getByRole("button", { name: "Test" }).click();
  await second.getByTestId("mcp-test-error").filter({ hasText: "berth-no-such-mcp-server" }).waitFor();
  await page.getByRole("button", { name: "Save settings" }).click();
  await page.getByTestId("settings-note").filter({ hasText: "Saved." }).waitFor();
  await page.getByRole("heading", { name: "MCP servers" }).scrollIntoViewIfNeeded();
  await shot("6a-mcp-settings");

  step("a conversation calls the server's tool; its Tools tab shows each server's health");
  await page.goto(url.replace(/\/\?.*$/, "/#/"));
  await page.locator("input[name=where]").fill(workspace);
  await page.locator("textarea[name=task]").fill("Echo through MCP");
  await page.getByRole("button", { name: "Start" }).click();
  await page.waitForURL(/#\/c\//);
  await page.getByTestId("status").filter({ hasText: "finished" }).waitFor();
  await page.locator("[data-kind=mcp-result]").filter({ hasText: "Echo: through the browser" }).waitFor();
  await page.getByTestId("tools-tab").filter({ hasText: "1 failed" }).click();
  const states = page.getByTestId("mcp-state");
  await states.filter({ hasText: "everything" }).filter({ hasText: "connected" }).waitFor();
  await states.filter({ hasText: "broken" }).filter({ hasText: "berth-no-such-mcp-server" }).waitFor();
  await states.filter({ hasText: "everything" }).getByText("everything_echo").waitFor();
  await shot("6b-mcp-conversation");
  console.log("ok");
} catch (e) {
  await shot("mcp-failure").catch(() => {});
  console.error(`FAILED: ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
