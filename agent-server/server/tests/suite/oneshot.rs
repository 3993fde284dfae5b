//! `berth-agent-server run`: one conversation, printed, with the outcome as the exit code.

use berth_scripted_llm::{ScriptedLlm, Step};
use serde_json::{Value, json};

async fn run(llm: &ScriptedLlm, ws: &std::path::Path, json_mode: bool) -> (i32, String, String) {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_berth-agent-server"));
    cmd.args(["run", "--workspace"]).arg(ws).args([
        "--model",
        "openai/scripted",
        "--task",
        "make hello.txt",
    ]);
    if json_mode {
        cmd.arg("--json");
    }
    let out = cmd
        .env("LLM_BASE_URL", llm.openai_base_url())
        .env("LLM_API_KEY", "sk-oneshot")
        .env("HOME", ws)
        .output()
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn script() -> Vec<Step> {
    vec![
        Step::tool(
            "terminal",
            json!({"command": "echo hello > hello.txt", "summary": "create hello.txt"}),
        )
        .with_text("Creating the file."),
        Step::tool("finish", json!({"message": "hello.txt is there"})),
    ]
}

#[tokio::test]
async fn prints_readable_events_and_exits_zero_when_finished() {
    let tmp = tempfile::tempdir().unwrap();
    let llm = ScriptedLlm::start(script()).await.unwrap();
    let (code, out, err) = run(&llm, tmp.path(), false).await;
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("[user] make hello.txt"), "{out}");
    assert!(out.contains("→ terminal: create hello.txt"), "{out}");
    assert!(
        out.contains("[The command completed with exit code 0.]"),
        "{out}"
    );
    assert!(out.contains("status: finished"), "{out}");
    assert!(out.trim_end().ends_with("hello.txt is there"), "{out}");
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("hello.txt")).unwrap(),
        "hello\n"
    );
    assert_eq!(
        llm.requests()[0]
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer sk-oneshot")
    );
}

#[tokio::test]
async fn json_mode_prints_one_event_per_line() {
    let tmp = tempfile::tempdir().unwrap();
    let llm = ScriptedLlm::start(script()).await.unwrap();
    let (code, out, _) = run(&llm, tmp.path(), true).await;
    assert_eq!(code, 0);
    let events: Vec<berth_protocol::Event> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e.kind())
        .filter(|k| *k != "ConversationStateUpdateEvent")
        .collect();
    assert_eq!(
        kinds,
        [
            "SystemPromptEvent",
            "MessageEvent",
            "ActionEvent",
            "ObservationEvent",
            "ActionEvent",
            "ObservationEvent"
        ]
    );
    let last: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(last["key"], "full_state");
}

#[tokio::test]
async fn exits_non_zero_when_the_run_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let llm = ScriptedLlm::start(vec![Step::error(401, "invalid api key")])
        .await
        .unwrap();
    let (code, out, _) = run(&llm, tmp.path(), false).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("LLMAuthenticationError"), "{out}");
    assert!(out.contains("status: error"), "{out}");
}
