//! The engine end to end: a scripted LLM drives the agent to fix a failing unit test in a git
//! repository — run the tests, plan, view, str_replace, rerun, update the plan, finish — over
//! each wire format, streaming and not. The test checks what a user would: the file on disk, the
//! passing test run, the events, and that the conversation reloads from disk unchanged.

use crate::common;

use berth_agent::Conversation;
use berth_agent::secrets::SecretRegistry;
use berth_protocol::{Action, EventBody, ExecutionStatus, Message, Observation, content_text};
use berth_scripted_llm::{ScriptedLlm, Step};
use common::{Format, agent, core_kinds, new_conversation, options, python_project};
use serde_json::json;

fn fix_script(ws: &str) -> Vec<Step> {
    let calc = format!("{ws}/calc.py");
    vec![
        Step::tool("terminal", json!({"command": format!("cd {ws} && python3 -m unittest -q"), "security_risk": "LOW", "summary": "run the tests"}))
            .with_text("Let me run the tests first."),
        Step::tool("task_tracker", json!({"command": "plan", "task_list": [
            {"title": "Find why test_add fails", "status": "in_progress"},
            {"title": "Fix add()", "status": "todo"},
            {"title": "Rerun the tests", "status": "todo"}]})),
        Step::tool("file_editor", json!({"command": "view", "path": calc})),
        Step::tool("file_editor", json!({"command": "str_replace", "path": calc, "old_str": "return a - b", "new_str": "return a + b", "security_risk": "MEDIUM"})),
        Step::tool("terminal", json!({"command": "python3 -m unittest -q"})),
        Step::tool("task_tracker", json!({"command": "plan", "task_list": [
            {"title": "Find why test_add fails", "status": "done"},
            {"title": "Fix add()", "status": "done", "notes": "add() subtracted"},
            {"title": "Rerun the tests", "status": "done"}]})),
        Step::tool("finish", json!({"message": "Fixed add() in calc.py: it subtracted instead of adding. Both tests pass."})),
    ]
}

async fn fix_failing_test(format: Format, stream: bool) {
    let tmp = tempfile::tempdir().unwrap();
    let ws = python_project(tmp.path());
    let ws_str = ws.display().to_string();
    let llm = ScriptedLlm::start(fix_script(&ws_str)).await.unwrap();
    let root = tmp.path().join("conversations");
    let conv = Conversation::create(
        new_conversation(agent(&llm, format, stream), &ws, &root),
        options(),
    )
    .unwrap();
    let mut live = conv.subscribe();
    conv.send_message(Message::user("The unit tests fail. Please fix the bug."));
    let status = conv.run().await.unwrap();
    assert_eq!(
        status,
        ExecutionStatus::Finished,
        "events: {:#?}",
        conv.events()
    );
    assert_eq!(llm.remaining(), 0);

    // The fix is on disk and the tests pass.
    let calc = std::fs::read_to_string(ws.join("calc.py")).unwrap();
    assert!(
        calc.contains("return a + b") && !calc.contains("a - b"),
        "{calc}"
    );
    let rerun = std::process::Command::new("python3")
        .args(["-m", "unittest", "-q"])
        .current_dir(&ws)
        .output();
    assert!(rerun.map(|o| o.status.success()).unwrap_or(false));

    let events = conv.events();
    assert_eq!(
        core_kinds(&events),
        [
            "SystemPromptEvent",
            "MessageEvent",
            "ActionEvent",
            "ObservationEvent",
            "ActionEvent",
            "ObservationEvent",
            "ActionEvent",
            "ObservationEvent",
            "ActionEvent",
            "ObservationEvent",
            "ActionEvent",
            "ObservationEvent",
            "ActionEvent",
            "ObservationEvent",
            "ActionEvent",
            "ObservationEvent",
        ]
    );
    let terminal_results: Vec<(i64, String)> = events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::ObservationEvent {
                observation: Observation::TerminalObservation(o),
                ..
            } => Some((o.exit_code.unwrap_or(-99), content_text(&o.content))),
            _ => None,
        })
        .collect();
    assert_eq!(terminal_results.len(), 2);
    assert_eq!(
        terminal_results[0].0, 1,
        "first run should fail: {}",
        terminal_results[0].1
    );
    assert!(
        terminal_results[0].1.contains("FAILED (failures=1)"),
        "{}",
        terminal_results[0].1
    );
    assert_eq!(
        terminal_results[1].0, 0,
        "second run should pass: {}",
        terminal_results[1].1
    );
    assert!(
        terminal_results[1].1.contains("OK"),
        "{}",
        terminal_results[1].1
    );

    // The edit carries what a diff view needs.
    let edit = events.iter().find_map(|e| match &e.body {
        EventBody::ObservationEvent {
            observation: Observation::FileEditorObservation(o),
            ..
        } if o.command == berth_protocol::FileEditorCommand::StrReplace => Some(o.clone()),
        _ => None,
    });
    let edit = edit.expect("no str_replace observation");
    assert!(edit.old_content.unwrap().contains("a - b"));
    assert!(edit.new_content.unwrap().contains("a + b"));

    // The thought, the summary and the first ActionEvent.
    let first_action = events
        .iter()
        .find(|e| e.kind() == "ActionEvent")
        .expect("no action");
    let EventBody::ActionEvent {
        thought,
        summary,
        action,
        ..
    } = &first_action.body
    else {
        panic!("not an action")
    };
    assert_eq!(
        content_text(
            &thought
                .iter()
                .cloned()
                .map(berth_protocol::Content::Text)
                .collect::<Vec<_>>()
        ),
        "Let me run the tests first."
    );
    assert_eq!(summary.as_deref(), Some("run the tests"));
    assert!(matches!(action, Some(Action::TerminalAction(_))));

    // Status transitions as the reference lists them.
    let statuses: Vec<String> = events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::ConversationStateUpdateEvent { key, value } if key == "execution_status" => {
                value.as_str().map(str::to_string)
            }
            _ => None,
        })
        .collect();
    assert_eq!(statuses, ["running", "finished"]);

    // Tasks are saved beside the conversation.
    let dir = conv.persistence_dir().unwrap();
    let tasks = std::fs::read_to_string(dir.join("TASKS.json")).unwrap();
    assert!(tasks.contains("add() subtracted"), "{tasks}");

    // Subscribers saw every persisted event, in order, and a final full_state.
    let mut seen = Vec::new();
    while let Ok(e) = live.try_recv() {
        seen.push(e);
    }
    let persisted_seen: Vec<String> = seen
        .iter()
        .filter(|e| !matches!(&e.body, EventBody::ConversationStateUpdateEvent { key, .. } if key == "full_state"))
        .filter(|e| !matches!(e.body, EventBody::StreamingDeltaEvent { .. }))
        .map(|e| e.id.clone())
        .collect();
    assert_eq!(
        persisted_seen,
        events.iter().map(|e| e.id.clone()).collect::<Vec<_>>()
    );
    assert!(
        matches!(&seen.last().map(|e| &e.body), Some(EventBody::ConversationStateUpdateEvent { key, .. }) if key == "full_state")
    );
    if stream {
        assert!(
            seen.iter()
                .any(|e| matches!(e.body, EventBody::StreamingDeltaEvent { .. })),
            "no streaming deltas"
        );
    }

    // What the LLM was sent: tools with security_risk, and each tool result after its call.
    let requests = llm.requests();
    assert_eq!(requests.len(), 7);
    let second = &requests[1].body;
    match format {
        Format::OpenAi => {
            assert_eq!(second["model"], "scripted");
            assert_eq!(second["messages"][3]["role"], "tool");
            assert!(
                second["messages"][3]["content"][0]["text"]
                    .as_str()
                    .unwrap()
                    .contains("[The command completed with exit code 1.]")
            );
            let terminal = second["tools"]
                .as_array()
                .and_then(|t| t.iter().find(|t| t["function"]["name"] == "terminal"))
                .cloned()
                .unwrap();
            let props: Vec<&String> = terminal["function"]["parameters"]["properties"]
                .as_object()
                .map(|p| p.keys().collect())
                .unwrap();
            assert_eq!(
                props[..2],
                [&"security_risk".to_string(), &"summary".to_string()]
            );
            assert_eq!(
                requests[0]
                    .headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok()),
                Some("Bearer sk-test-key")
            );
        }
        Format::Anthropic => {
            assert_eq!(second["model"], "claude-scripted");
            assert_eq!(second["system"][0]["cache_control"]["type"], "ephemeral");
            let turns = second["messages"].as_array().cloned().unwrap();
            assert_eq!(turns[1]["content"][1]["type"], "tool_use");
            assert_eq!(turns[2]["content"][0]["type"], "tool_result");
            assert!(
                turns
                    .iter()
                    .all(|t| t["role"] == "user" || t["role"] == "assistant")
            );
            assert_eq!(
                requests[0]
                    .headers
                    .get("x-api-key")
                    .and_then(|v| v.to_str().ok()),
                Some("sk-test-key")
            );
        }
    }

    // Token accounting.
    let stats = conv.metrics();
    let m = &stats.usage_to_metrics["default"];
    assert_eq!(
        m.accumulated_token_usage.as_ref().map(|u| u.prompt_tokens),
        Some(700)
    );
    assert_eq!(
        m.accumulated_token_usage
            .as_ref()
            .map(|u| u.completion_tokens),
        Some(70)
    );

    // A new process would see the same conversation.
    drop(conv);
    let reloaded = Conversation::load(
        &dir,
        Some("sk-test-key".into()),
        SecretRegistry::default(),
        options(),
    )
    .unwrap();
    assert_eq!(reloaded.events(), events);
    assert_eq!(reloaded.status(), ExecutionStatus::Finished);
    assert_eq!(
        reloaded.final_response(),
        "Fixed add() in calc.py: it subtracted instead of adding. Both tests pass."
    );
    // No API key on disk.
    for entry in walk(&dir) {
        let text = std::fs::read_to_string(&entry).unwrap();
        assert!(
            !text.contains("sk-test-key"),
            "{} holds the API key",
            entry.display()
        );
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p))
        } else {
            out.push(p)
        }
    }
    out
}

#[tokio::test]
async fn fixes_a_failing_test_over_openai_chat_completions() {
    fix_failing_test(Format::OpenAi, false).await;
}

#[tokio::test]
async fn fixes_a_failing_test_over_anthropic_messages() {
    fix_failing_test(Format::Anthropic, false).await;
}

#[tokio::test]
async fn fixes_a_failing_test_over_openai_streaming() {
    fix_failing_test(Format::OpenAi, true).await;
}

#[tokio::test]
async fn fixes_a_failing_test_over_anthropic_streaming() {
    fix_failing_test(Format::Anthropic, true).await;
}
