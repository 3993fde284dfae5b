//! The app reads the server's log through a pipe. When the app is killed, that pipe breaks; the
//! agent must go on running its conversation, not stop on a failed log write.

use crate::common;

use berth_scripted_llm::{ScriptedLlm, Step};
use common::{Server, api::Api};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn a_conversation_runs_to_the_end_after_the_log_reader_dies() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    std::fs::create_dir_all(&ws).unwrap();
    let llm = ScriptedLlm::start(vec![
        Step::tool(
            "terminal",
            json!({"command": "echo still-here > proof.txt"}),
        ),
        Step::text("done"),
    ])
    .await
    .unwrap();
    let (reader, writer) = std::io::pipe().unwrap();
    // Debug logging, so the run writes to the dead pipe many times.
    let server =
        Server::start_logging_to(tmp.path(), &[("LOG_LEVEL", "debug")], writer.into()).await;
    drop(reader);
    let api = Api::new(&server);
    let id = api.create(&llm, &ws).await;
    let (status, body) = api
        .call(
            Method::POST,
            &format!("/api/conversations/{id}/events"),
            Some(json!({"role": "user", "content": [{"type": "text", "text": "go"}], "run": true})),
        )
        .await;
    assert!(status.is_success(), "{status}: {body}");
    api.wait_status(&id, "finished").await;
    let proof = std::fs::read_to_string(ws.join("proof.txt")).unwrap();
    assert_eq!(proof.trim(), "still-here");
    let (_, events) = api
        .call(
            Method::GET,
            &format!("/api/conversations/{id}/events/search?limit=100"),
            None,
        )
        .await;
    let errors: Vec<_> = events["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["kind"].as_str().is_some_and(|k| k.contains("Error")))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    server.kill().await;
}
