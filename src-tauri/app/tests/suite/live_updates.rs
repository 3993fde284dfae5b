//! What flows out of a running conversation besides its events in the app: webhook batches,
//! delivered with retries when the receiver fails, live changed files of the workspace, and the
//! conversation's summary (status, title, metrics) as the app projects it.

use crate::common;

use berth_app::updates::AppUpdate;
use berth_app::watcher::ChangeKind;
use berth_app::webhooks::Delivery;
use berth_protocol::ExecutionStatus;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use berth_app::conversations::NewConversation;
use berth_app::repository::Repository;
use berth_app::settings::Webhook;
use berth_scripted_llm::Step;
use common::app::{app_fixture, command, folder, ready, start_local, status};
use common::git;
use serde_json::{Value, json};

#[derive(Clone, Default)]
struct Receiver {
    calls: Arc<Mutex<Vec<Value>>>,
}

/// A webhook receiver that fails twice, then accepts.
async fn receive(State(r): State<Receiver>, Json(body): Json<Value>) -> StatusCode {
    let mut calls = r.calls.lock().unwrap_or_else(|e| e.into_inner());
    calls.push(body);
    if calls.len() <= 2 {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    }
}

#[tokio::test]
async fn a_webhook_failing_twice_gets_the_batch_on_the_third_attempt() {
    let receiver = Receiver::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/hook",
        listener.local_addr().map(|a| a.to_string()).unwrap()
    );
    let router = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(receiver.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });

    let fx = app_fixture(vec![Step::text("hello from the agent")], |s| {
        s.webhooks = vec![Webhook {
            url: url.clone(),
            enabled: true,
        }];
    })
    .await;
    let ws = folder(&fx, "ws");
    let task = fx
        .app
        .conversations
        .start(NewConversation {
            repository: Repository::LocalFolder { path: ws },
            task: Some("say hello".into()),
            profile: None,
            setup_script: Default::default(),
        })
        .unwrap();
    let task = ready(&fx.app, &task).await;
    let id = task.conversation_id.unwrap();
    status(&fx.app, &id, "finished").await;

    // Retries back off 1 s then 2 s; Settings reads the attempts with `WebhookDeliveriesList`.
    let mut delivered: Vec<Delivery> = Vec::new();
    for _ in 0..200 {
        delivered = command(&fx.app, "WebhookDeliveriesList", json!({})).await;
        if delivered.iter().any(|d| d.delivered) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    delivered.reverse();
    let first_batch: Vec<_> = delivered
        .iter()
        .filter(|d| d.first_event_id == delivered[0].first_event_id)
        .collect();
    let outcome: Vec<(u32, Option<u16>, bool)> = first_batch
        .iter()
        .map(|d| (d.attempt, d.http_status, d.delivered))
        .collect();
    assert_eq!(
        outcome,
        vec![
            (1, Some(503), false),
            (2, Some(503), false),
            (3, Some(200), true)
        ],
        "{delivered:?}"
    );
    let calls = receiver.calls.lock().map(|c| c.clone()).unwrap();
    assert_eq!(calls[0], calls[2], "a retry must send the same batch");
    assert_eq!(calls[2]["conversation_id"], id.as_str());
    let kinds: Vec<&str> = calls[2]["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"MessageEvent"), "{kinds:?}");
}

#[tokio::test]
async fn the_agents_edits_reach_the_changes_view_live() {
    let fx = app_fixture(
        vec![
            Step::tool(
                "terminal",
                json!({"command": "printf '# Notes\\n' > notes.md"}),
            ),
            Step::tool("terminal", json!({"command": "echo changed >> README.md"})),
            Step::text("edited"),
        ],
        |_| {},
    )
    .await;
    let ws = folder(&fx, "repo");
    std::fs::write(ws.join("README.md"), "hello\n").unwrap();
    git(&ws, &["init", "-q"]);
    git(&ws, &["add", "."]);
    git(&ws, &["commit", "-qm", "init"]);

    let mut changes = fx.app.watcher.subscribe();
    let task = fx
        .app
        .conversations
        .start(NewConversation {
            repository: Repository::LocalFolder { path: ws.clone() },
            task: Some("take notes".into()),
            profile: None,
            setup_script: Default::default(),
        })
        .unwrap();
    let task = ready(&fx.app, &task).await;
    let id = task.conversation_id.unwrap();
    assert!(fx.app.watcher.is_watching(&id));

    let mut last = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while tokio::time::Instant::now() < deadline {
        let Ok(Ok(update)) = tokio::time::timeout(Duration::from_secs(1), changes.recv()).await
        else {
            continue;
        };
        if update.conversation_id != id {
            continue;
        }
        last = update
            .files
            .iter()
            .map(|f| (f.path.clone(), f.status))
            .collect::<Vec<_>>();
        if last.contains(&("notes.md".into(), ChangeKind::Added))
            && last.contains(&("README.md".into(), ChangeKind::Modified))
        {
            status(&fx.app, &id, "finished").await;
            return;
        }
    }
    panic!("the changed files never showed both edits; last update: {last:?}");
}

/// The views show the app's own summary of a conversation: each change of status, the title the
/// first message gave it and the metrics arrive as `conversation` updates, so no view has to
/// work them out from events itself.
#[tokio::test]
async fn a_conversations_summary_reaches_the_views_as_it_changes() {
    let fx = app_fixture(
        vec![
            Step::tool("terminal", json!({"command": "echo hi"})),
            Step::text("done"),
        ],
        |_| {},
    )
    .await;
    let ws = folder(&fx, "repo");
    let mut updates = fx.app.updates();
    let task = start_local(&fx, &ws, Some("Say hi to the team\nand nothing else"));
    let task = ready(&fx.app, &task).await;
    let id = task.conversation_id.unwrap();

    let mut statuses = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let last = loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no finished summary; statuses seen: {statuses:?}"
        );
        let Ok(Ok(update)) = tokio::time::timeout(Duration::from_secs(1), updates.recv()).await
        else {
            continue;
        };
        let AppUpdate::Conversation { summary } = update else {
            continue;
        };
        if summary.id != id {
            continue;
        }
        if statuses.last() != Some(&summary.status) {
            statuses.push(summary.status);
        }
        if summary.status == Some(ExecutionStatus::Finished) {
            break summary;
        }
    };
    assert!(
        statuses.contains(&Some(ExecutionStatus::Running)),
        "{statuses:?}"
    );
    assert_eq!(last.title.as_deref(), Some("Say hi to the team"));
    let usage = last.metrics.expect("the summary carries the metrics");
    assert!(
        usage.prompt_tokens > 0 && usage.completion_tokens > 0,
        "{usage:?}"
    );
    assert_eq!(
        fx.app.conversations.get(&id).unwrap().status,
        Some(ExecutionStatus::Finished),
        "the summary sent is the one stored"
    );
}

#[tokio::test]
async fn the_sandbox_log_of_a_conversation_is_readable() {
    let fx = app_fixture(vec![Step::text("hello")], |_| {}).await;
    let ws = folder(&fx, "ws");
    let task = ready(&fx.app, &start_local(&fx, &ws, Some("say hello"))).await;
    let id = task.conversation_id.unwrap();
    status(&fx.app, &id, "finished").await;
    let lines: Vec<String> = command(&fx.app, "SandboxLogsGet", json!({"id": id})).await;
    assert!(
        lines
            .iter()
            .any(|l| l.contains("berth-agent-server listening")),
        "{lines:?}"
    );
    // Its session key is never in what the user is shown.
    let sandbox = fx.app.conversations.get(&id).unwrap().sandbox_id.unwrap();
    let key = fx.app.sandboxes.session_key(&sandbox).await.unwrap();
    assert!(!lines.iter().any(|l| l.contains(&key)), "{lines:?}");
}

/// The app says which actions wait for the user (the engine's own rule), in the summary it
/// sends, so a view needs no rule of its own; answered, the list is empty again.
#[tokio::test]
async fn the_summary_lists_the_actions_waiting_for_confirmation() {
    let fx = app_fixture(
        vec![
            Step::tool("terminal", json!({"command": "echo needs-a-yes"})),
            Step::text("done"),
        ],
        |s| s.agent.confirmation = berth_app::settings::ConfirmationMode::Always,
    )
    .await;
    let ws = folder(&fx, "repo");
    let mut updates = fx.app.updates();
    let task = ready(&fx.app, &start_local(&fx, &ws, Some("say it"))).await;
    let id = task.conversation_id.unwrap();
    let summary_when = |updates: &mut tokio::sync::broadcast::Receiver<AppUpdate>,
                        want: ExecutionStatus| {
        let id = id.clone();
        let mut updates = updates.resubscribe();
        async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
            loop {
                assert!(tokio::time::Instant::now() < deadline, "never {want}");
                let Ok(Ok(AppUpdate::Conversation { summary })) =
                    tokio::time::timeout(Duration::from_secs(1), updates.recv()).await
                else {
                    continue;
                };
                if summary.id == id && summary.status == Some(want) {
                    return summary;
                }
            }
        }
    };
    let waiting = summary_when(&mut updates, ExecutionStatus::WaitingForConfirmation).await;
    let commands: Vec<String> = waiting
        .pending_actions
        .iter()
        .map(|p| match &p.action {
            berth_protocol::Action::TerminalAction(t) => t.command.clone(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(commands, ["echo needs-a-yes"]);
    assert_eq!(
        fx.app.conversations.get(&id).unwrap().pending_actions,
        waiting.pending_actions,
        "the summary sent is the one read"
    );
    let finished = summary_when(&mut updates, ExecutionStatus::Finished);
    fx.app.conversations.confirm(&id, true, None).await.unwrap();
    assert!(finished.await.pending_actions.is_empty());
}
