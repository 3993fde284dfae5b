import { render, screen } from "@testing-library/react";
import type { Event } from "../generated/api";
import { EventCard, isVisible } from "./EventCard";

const base = { id: "e1", timestamp: "2026-11-24T12:00:00", parent_id: null };

describe("EventCard", () => {
  it("renders a user message as markdown, without running its HTML", () => {
    const e = {
      ...base,
      source: "user",
      kind: "MessageEvent",
      llm_message: {
        role: "user",
        content: [{ type: "text", text: "Fix **the test** <img src=x onerror=alert(1)>", cache_prompt: false }],
      },
      activated_skills: [],
      extended_content: [],
    } as unknown as Event;
    const { container } = render(<EventCard event={e} />);
    expect(container.querySelector("strong")?.textContent).toBe("the test");
    expect(container.querySelector("img")).toBeNull();
    expect(screen.getByText("You")).toBeTruthy();
  });

  it("shows a command and its output with the exit code", () => {
    const action = {
      ...base,
      source: "agent",
      kind: "ActionEvent",
      thought: [{ type: "text", text: "Let me look", cache_prompt: false }],
      thinking_blocks: [],
      action: { kind: "TerminalAction", command: "ls -la", is_input: false, reset: false },
      tool_name: "terminal",
      tool_call_id: "c1",
      tool_call: { id: "c1", name: "terminal", arguments: "{}", origin: "completion" },
      llm_response_id: "r1",
      security_risk: "HIGH",
      summary: "list files",
    } as unknown as Event;
    const output = {
      ...base,
      id: "e2",
      source: "environment",
      kind: "ObservationEvent",
      tool_name: "terminal",
      tool_call_id: "c1",
      action_id: "e1",
      observation: {
        kind: "TerminalObservation",
        content: [{ type: "text", text: "total 0", cache_prompt: false }],
        is_error: false,
        command: "ls -la",
        exit_code: 2,
        timeout: false,
        metadata: { exit_code: 2, pid: -1 },
      },
    } as unknown as Event;
    render(
      <>
        <EventCard event={action} />
        <EventCard event={output} />
      </>,
    );
    expect(screen.getByText("$ ls -la")).toBeTruthy();
    expect(screen.getByText("Let me look")).toBeTruthy();
    expect(screen.getByText("HIGH risk")).toBeTruthy();
    expect(screen.getByText("total 0")).toBeTruthy();
    expect(screen.getByText("exit 2")).toBeTruthy();
  });

  it("shows a file edit as a diff", () => {
    const edit = {
      ...base,
      source: "environment",
      kind: "ObservationEvent",
      tool_name: "file_editor",
      tool_call_id: "c2",
      action_id: "e1",
      observation: {
        kind: "FileEditorObservation",
        content: [],
        is_error: false,
        command: "str_replace",
        path: "/w/a.py",
        prev_exist: true,
        old_content: "a = 1\n",
        new_content: "a = 2\n",
      },
    } as unknown as Event;
    render(<EventCard event={edit} />);
    expect(screen.getByTestId("diff")).toBeTruthy();
    expect(screen.getByText("a = 2")).toBeTruthy();
  });

  it("hides state snapshots", () => {
    const state = {
      ...base,
      source: "environment",
      kind: "ConversationStateUpdateEvent",
      key: "stats",
      value: {},
    } as unknown as Event;
    expect(isVisible(state)).toBe(false);
    const { container } = render(<EventCard event={state} />);
    expect(container.textContent).toBe("");
  });

  it("shows an MCP tool's text and raster images, never other image URLs", () => {
    const result = {
      ...base,
      source: "environment",
      kind: "ObservationEvent",
      tool_name: "everything_get-tiny-image",
      tool_call_id: "c3",
      action_id: "a3",
      observation: {
        kind: "MCPToolObservation",
        tool_name: "everything_get-tiny-image",
        is_error: false,
        content: [
          { type: "text", text: "[Tool 'everything_get-tiny-image' executed.]", cache_prompt: false },
          { type: "text", text: "A tiny image:\u001b[31m", cache_prompt: false },
          { type: "image", image_urls: ["data:image/png;base64,iVBORw0KGgo="], cache_prompt: false },
          { type: "image", image_urls: ["data:image/svg+xml;base64,PHN2Zz4="], cache_prompt: false },
          { type: "image", image_urls: ["https://tracker.example/pixel.png"], cache_prompt: false },
        ],
      },
    } as unknown as Event;
    const { container } = render(<EventCard event={result} />);
    expect(container.querySelector("[data-kind=mcp-result]")?.textContent).toContain("A tiny image:");
    expect(container.textContent).not.toContain("\u001b");
    expect(container.textContent).not.toContain("executed.]");
    const images = [...container.querySelectorAll("img")].map((i) => i.getAttribute("src"));
    expect(images).toEqual(["data:image/png;base64,iVBORw0KGgo="]);
  });
});
