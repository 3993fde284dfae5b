// The user's path through Berth in a real browser (Debian's Chromium, driven by playwright-core)
// against `berth serve` with a scripted LLM: first-run setup, a conversation on a fixture folder
// (start states, command output, the edit in Changes), confirmation (one confirmed, one
// rejected), full-text search, and a reload. Run by the Rust test src-tauri/web/tests/suite/browser.rs,
// which starts the app and the LLM: `node e2e/flow.mjs URL LLM_URL WORKSPACE SCREENSHOT_DIR`.
import { open } from "./browser.mjs";

const [url, llmUrl, workspace, shots] = process.argv.slice(2);
const { browser, page, shot, step } = await open(shots, 20000);

try {
  step("first run: LLM setup, test connection");
  await page.goto(url);
  await page.getByRole("heading", { name: "Set up Berth" }).waitFor();
  await page.locator("input[name=model]").fill("openai/scripted");
  await page.locator("input[name=base_url]").fill(llmUrl);
  await page.locator("input[name=api_key]").fill("sk-e2e-key");
  await page
    .getByText("Agents run as local processes", { exact: false })
    .or(page.getByText("Docker is running"))
    .first()
    .waitFor();
  await page.getByRole("button", { name: "Test connection" }).click();
  await page.getByTestId("setup-message").filter({ hasText: "answered in" }).waitFor();
  await shot("1-setup");
  await page.getByRole("button", { name: "Save and continue" }).click();

  step("start a conversation on the fixture folder and watch its start states");
  await page.getByRole("heading", { name: "New conversation" }).waitFor();
  await page.locator("input[name=where]").fill(workspace);
  await page.locator("textarea[name=task]").fill("Write the notes file and show the output");
  await page.getByRole("button", { name: "Start" }).click();
  for (const state of ["working", "waiting for sandbox", "preparing repository", "starting conversation", "ready"]) {
    await page.getByTestId("start-states").getByText(state, { exact: true }).waitFor();
  }
  await shot("1b-start");
  await page.waitForURL(/#\/c\//);
  const conversationUrl = page.url();

  step("the command's output and the edit in Changes");
  await page.getByTestId("events").getByText("e2e-output-42").first().waitFor();
  await page.getByTestId("status").filter({ hasText: "finished" }).waitFor();
  await page.getByTestId("changed-files").getByText("notes.md").waitFor();
  await page.getByTestId("changes").getByText("Berth was here").first().waitFor();
  await page.getByTestId("metrics").filter({ hasText: "tokens" }).waitFor();
  // A process sandbox on this kernel: its commands run under Landlock, and the header says so.
  await page.getByTestId("confinement").filter({ hasText: "Confined: Landlock ABI" }).waitFor();
  await page.getByTestId("git-tampering").getByText(".git/config (added)", { exact: false }).waitFor();
  await shot("2-conversation");

  step("the agent's hostile markdown: no script link, no remote image, links ask and open outside");
  const events = page.getByTestId("events");
  await events.getByText("run me").waitFor();
  if ((await events.locator('a[href^="javascript" i]').count()) !== 0)
    throw new Error("a javascript: link was rendered");
  if ((await events.locator("img").count()) !== 0) throw new Error("an image from agent output was rendered");
  await events.getByText("run me").click();
  const asked = [];
  page.once("dialog", (d) => {
    asked.push(d.message());
    void d.dismiss();
  });
  const before = page.url();
  await events.getByRole("link", { name: "docs" }).click();
  await page.waitForTimeout(300);
  if (!asked.some((m) => m.includes("https://example.invalid/docs")))
    throw new Error(`no confirmation before opening the link: ${asked}`);
  if (page.url() !== before || (await page.title()) === "pwned")
    throw new Error(`the page left the app: ${page.url()}`);

  step("the Terminal tab: the agent's shell, and a command of the user's own in the sandbox");
  await page.getByRole("button", { name: "Terminal" }).click();
  await page.getByTestId("terminal").getByText("e2e-output-42").first().waitFor();
  await page.locator("input[name=terminal-command]").fill("echo user-typed-$((1+1)) && pwd");
  await page.locator("input[name=terminal-command]").press("Enter");
  await page.getByTestId("terminal").getByText("user-typed-2").first().waitFor();
  await page.getByTestId("terminal").getByText(workspace).first().waitFor();
  await shot("2b-terminal");

  step("Files: browse and preview; a dropped file lands in the workspace");
  await page.getByRole("button", { name: "Files" }).click();
  await page.getByTestId("files").getByText("notes.md").click();
  await page.getByTestId("file-text").filter({ hasText: "Berth was here" }).waitFor();
  const dropped = await page.evaluateHandle(() => {
    const d = new DataTransfer();
    d.items.add(new File(["dropped by the e2e test\n"], "dropped.txt", { type: "text/plain" }));
    return d;
  });
  await page.locator(".chat").dispatchEvent("drop", { dataTransfer: dropped });
  await page.getByTestId("uploaded").filter({ hasText: "dropped.txt" }).waitFor();
  await page.getByRole("button", { name: "workspace" }).click();
  await page.getByTestId("files").getByText("dropped.txt").click();
  await page.getByTestId("file-text").filter({ hasText: "dropped by the e2e test" }).waitFor();
  await page.locator("textarea[name=message]").fill("");

  step("Log: what the sandbox's agent-server printed");
  await page.getByRole("button", { name: "Log", exact: true }).click();
  await page.getByTestId("sandbox-log").filter({ hasText: "berth-agent-server listening" }).waitFor();
  await shot("2c-log");

  step("the dark theme follows the system's");
  await page.getByRole("button", { name: "Changes" }).click();
  await page.emulateMedia({ colorScheme: "dark" });
  const dark = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  if (dark !== "rgb(17, 20, 24)") throw new Error(`the dark theme did not apply: ${dark}`);
  await shot("2d-dark");
  await page.emulateMedia({ colorScheme: "light" });

  step("confirmation mode, unconfined: confirm one action, reject another");
  await page.goto(url.replace(/\/\?.*$/, "/#/settings"));
  await page.getByRole("heading", { name: "Settings" }).waitFor();
  await page.getByLabel("Ask before acting").selectOption("always");
  // And run unconfined, as on a machine without Landlock: the conversation must say so plainly.
  await page.getByLabel("Confine the agent's commands", { exact: true }).uncheck();
  // A webhook nobody answers: Settings lists the failed deliveries later.
  await page.getByRole("button", { name: "Add webhook" }).click();
  await page.getByLabel("webhook URL").fill("http://127.0.0.1:9/hook");
  await page.getByRole("button", { name: "Save settings" }).click();
  await page.getByTestId("settings-note").filter({ hasText: "Saved." }).waitFor();
  // Long conversations are summarized unless the user turns it off (the agent gets the setting).
  if (!(await page.getByLabel("Summarize long conversations", { exact: false }).isChecked()))
    throw new Error("the condenser is off by default");
  await page.getByRole("heading", { name: "Agent", exact: true }).scrollIntoViewIfNeeded();
  await shot("3a-settings");
  await page.goto(url.replace(/\/\?.*$/, "/#/"));
  await page.locator("input[name=where]").fill(workspace);
  await page.locator("textarea[name=task]").fill("Run two commands");
  await page.getByRole("button", { name: "Start" }).click();
  await page.waitForURL(/#\/c\//);
  await page.getByTestId("confirm").getByText("echo confirmed-once").waitFor();
  await page
    .getByTestId("confinement")
    .filter({ hasText: "Not confined: confinement is turned off in Settings" })
    .waitFor();
  await shot("3-confirm");
  await page.getByRole("button", { name: "Confirm (Alt+Y)" }).click();
  await page.getByTestId("events").getByText("confirmed-once", { exact: true }).waitFor();
  await page.getByTestId("confirm").getByText("rm -rf build").waitFor();
  await page.keyboard.press("Alt+n");
  await page.getByTestId("events").getByText("Rejected:", { exact: false }).waitFor();
  await page.getByTestId("status").filter({ hasText: "idle" }).waitFor();

  step("Settings lists the webhook's failed deliveries");
  await page.goto(url.replace(/\/\?.*$/, "/#/settings"));
  await page.getByTestId("webhook-deliveries").locator("summary").click();
  await page.getByTestId("webhook-deliveries").getByText("http://127.0.0.1:9/hook", { exact: false }).first().waitFor();
  await page.getByTestId("webhook-deliveries").scrollIntoViewIfNeeded();
  await shot("3b-deliveries");

  step("full-text search finds the first conversation");
  await page.goto(url.replace(/\/\?.*$/, "/#/"));
  await page.locator("input[name=search]").fill("e2e-output-42");
  await page.getByTestId("search-results").getByText("Write the notes file", { exact: false }).first().waitFor();
  await shot("4-search");

  step("rename from the list");
  await page.locator("input[name=search]").fill("");
  const row = page.getByTestId("recent").locator("li").filter({ hasText: "Write the notes file" });
  await row.getByRole("button", { name: "Rename" }).click();
  await page.getByLabel("new title").fill("Notes for the e2e test");
  await page.getByLabel("new title").press("Enter");
  await page.getByTestId("recent").getByText("Notes for the e2e test").waitFor();

  step("a reload shows the same conversation");
  await page.goto(conversationUrl);
  await page.reload();
  await page.getByTestId("events").getByText("e2e-output-42").first().waitFor();
  await page.getByTestId("status").filter({ hasText: "finished" }).waitFor();
  await page.getByRole("heading", { name: "Notes for the e2e test" }).waitFor();
  await page.getByTestId("changed-files").getByText("notes.md").waitFor();
  await shot("5-reload");
  console.log("ok");
} catch (e) {
  await shot("failure").catch(() => {});
  // What the app holds for the page's conversation, to tell a UI fault from an app fault.
  const id = decodeURIComponent(page.url().split("#/c/")[1] ?? "");
  if (id) {
    const dump = await page
      .evaluate(async (id) => {
        const ask = (command) =>
          fetch("/api/call", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ command, args: { id } }),
          }).then((r) => r.json());
        return {
          conversation: await ask("ConversationGet"),
          events: (await ask("ConversationEventsList")).map?.((e) => e.kind),
        };
      }, id)
      .catch((err) => String(err));
    console.error(JSON.stringify(dump));
  }
  console.error(`FAILED: ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
