//! Conversations through the whole app (settings, keychain, process sandboxes, the mirror):
//! start, title, messages queued while starting, search, rename, export, delete, and a
//! conversation whose sandbox died, read from the mirror and continued in a new sandbox.

use crate::common;

use std::collections::HashSet;
use std::io::Read;
use std::time::Duration;

use berth_app::conversations::{ConversationError, NewConversation, PageRequest, SortBy};
use berth_app::repository::Repository;
use berth_app::sandbox::SandboxStatus;
use berth_scripted_llm::Step;
use common::app::{LLM_KEY, app_fixture, folder, open, ready, start_local, status};
use serde_json::json;

fn local(path: &std::path::Path, task: &str) -> NewConversation {
    NewConversation {
        repository: Repository::LocalFolder {
            path: path.to_path_buf(),
        },
        task: Some(task.into()),
        profile: None,
        setup_script: Default::default(),
    }
}

#[tokio::test]
async fn start_title_search_rename_export_and_delete() {
    let fx = app_fixture(
        vec![
            Step::tool("terminal", json!({"command": "echo zebra-crossing-42"})),
            Step::text("I printed it."),
            Step::text("Second answer."),
        ],
        |_| {},
    )
    .await;
    let ws = folder(&fx, "ws");
    let app = &fx.app;
    let task = app
        .conversations
        .start(local(&ws, "Print the zebra line\nand tell me"))
        .unwrap();
    // A message sent while the sandbox starts is delivered once the conversation exists.
    app.conversations
        .send_to_start(&task.id, "also say goodbye")
        .await
        .unwrap();
    let task = ready(app, &task).await;
    let id = task.conversation_id.clone().unwrap();
    status(app, &id, "finished").await;
    // The LLM was called with the profile's key from the keychain.
    let first = fx.llm.requests().first().cloned().expect("no LLM call");
    assert_eq!(
        first
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok()),
        Some(format!("Bearer {LLM_KEY}").as_str())
    );
    let user_texts: Vec<String> = app
        .conversations
        .events(&id)
        .unwrap()
        .iter()
        .filter_map(|e| match &e.body {
            berth_protocol::EventBody::MessageEvent { llm_message, .. }
                if e.source == berth_protocol::Source::User =>
            {
                Some(llm_message.text())
            }
            _ => None,
        })
        .collect();
    assert_eq!(user_texts.len(), 2, "{user_texts:?}");
    assert!(user_texts[1].contains("goodbye"));

    let conv = app.conversations.get(&id).unwrap();
    assert_eq!(conv.title.as_deref(), Some("Print the zebra line"));
    assert!(!conv.archived);
    assert_eq!(
        conv.workspace.as_deref(),
        Some(std::fs::canonicalize(&ws).unwrap().to_str().unwrap())
    );
    assert!(conv.events >= 6, "{conv:?}");

    // Search finds the command output, and the title.
    let hits = app.conversations.search("zebra-crossing-42", 10).unwrap();
    assert!(
        hits.iter()
            .any(|h| h.conversation_id == id && h.event_id.is_some()),
        "{hits:?}"
    );
    let hits = app.conversations.search("zebra line", 10).unwrap();
    assert!(
        hits.iter()
            .any(|h| h.conversation_id == id && h.event_id.is_none()),
        "{hits:?}"
    );
    assert!(
        app.conversations
            .search("no-such-word-anywhere", 10)
            .unwrap()
            .is_empty()
    );

    app.conversations.rename(&id, "Zebra work").unwrap();
    assert!(app.conversations.rename(&id, "   ").is_err());
    let page = app
        .conversations
        .list(PageRequest {
            offset: 0,
            limit: 10,
            sort: SortBy::Title,
        })
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0].title.as_deref(), Some("Zebra work"));

    // Export: meta.json and one file per event, in order.
    let zip_path = fx.tmp.path().join("export.zip");
    let n = app.conversations.export(&id, &zip_path).unwrap();
    let events = app.conversations.events(&id).unwrap();
    assert_eq!(n, events.len());
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).unwrap();
    assert_eq!(zip.len(), events.len() + 1);
    let mut meta = String::new();
    zip.by_name("meta.json")
        .unwrap()
        .read_to_string(&mut meta)
        .unwrap();
    let meta: serde_json::Value = serde_json::from_str(&meta).unwrap();
    assert_eq!(meta["conversation"]["title"], "Zebra work");
    assert_eq!(meta["event_count"], events.len());
    let mut first_event = String::new();
    zip.by_index(1)
        .unwrap()
        .read_to_string(&mut first_event)
        .unwrap();
    let first_event: berth_protocol::Event = serde_json::from_str(&first_event).unwrap();
    assert_eq!(first_event.id, events[0].id);

    // Ask a side question, then delete: the sandbox and every trace go.
    let sandbox = conv.sandbox_id.clone().unwrap();
    app.conversations.delete(&id).await.unwrap();
    assert!(matches!(
        app.conversations.get(&id),
        Err(ConversationError::NotFound(_))
    ));
    assert!(
        app.conversations
            .search("zebra-crossing-42", 10)
            .unwrap()
            .is_empty()
    );
    assert!(
        app.sandboxes.get(&sandbox).await.is_err(),
        "the sandbox was not removed"
    );
    let dirs = std::fs::read_dir(fx.home.join("conversations"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(dirs, 0, "the agent-server's copy was not removed");
}

#[tokio::test]
async fn a_conversation_whose_sandbox_died_is_read_from_the_mirror_and_goes_on_in_a_new_one() {
    let mut fx = app_fixture(
        vec![
            Step::tool("terminal", json!({"command": "echo first-run"})),
            Step::text("done once"),
            Step::text("done twice"),
        ],
        |_| {},
    )
    .await;
    let ws = folder(&fx, "ws");
    let task = fx.app.conversations.start(local(&ws, "run once")).unwrap();
    let task = ready(&fx.app, &task).await;
    let id = task.conversation_id.clone().unwrap();
    status(&fx.app, &id, "finished").await;
    let before: Vec<String> = fx
        .app
        .conversations
        .events(&id)
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();

    // The sandbox's process dies (machine reboot, OOM); the app restarts.
    let sandbox = fx
        .app
        .sandboxes
        .get(task.sandbox_id.as_deref().unwrap())
        .await
        .unwrap();
    let pid = sandbox.pid.unwrap();
    nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    berth_test_support::wait_until(
        "the sandbox to show missing",
        Duration::from_secs(10),
        || async {
            let status = fx.app.sandboxes.get(&sandbox.id).await.map(|s| s.status);
            (status.ok() == Some(SandboxStatus::Missing)).then_some(())
        },
    )
    .await;
    // The app restarts: the old one exits, a new one opens the same home.
    fx.app.shut_down();
    fx.app = open(&fx.home).await;
    let app = &fx.app;

    let conv = app.conversations.get(&id).unwrap();
    assert!(conv.archived, "{conv:?}");
    let readable: Vec<String> = app
        .conversations
        .events(&id)
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(readable, before);
    let refused = app.conversations.send(&id, "hello?").await;
    assert!(
        matches!(refused, Err(ConversationError::Archived(_))),
        "{refused:?}"
    );

    let task = app
        .conversations
        .continue_in_new_sandbox(&id, Some("and again".into()))
        .unwrap();
    let task = ready(app, &task).await;
    assert_eq!(task.conversation_id.as_deref(), Some(id.as_str()));
    assert_ne!(task.sandbox_id.as_deref(), Some(sandbox.id.as_str()));
    status(app, &id, "finished").await;
    let conv = app.conversations.get(&id).unwrap();
    assert!(!conv.archived);
    // The same history, then the new turn; nothing twice.
    let after: Vec<String> = app
        .conversations
        .events(&id)
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(after[..before.len()], before[..]);
    assert_eq!(after.iter().collect::<HashSet<_>>().len(), after.len());
    let last = fx.llm.requests().last().cloned().expect("no LLM call");
    assert_eq!(
        last.headers
            .get("authorization")
            .and_then(|v| v.to_str().ok()),
        Some(format!("Bearer {LLM_KEY}").as_str()),
        "the new sandbox lost the LLM key"
    );
    assert!(
        last.body.to_string().contains("first-run"),
        "the new sandbox lost the history"
    );
}

/// Waits until the start's conversation has finished in its agent-server (not in the mirror).
async fn finished_in_its_sandbox(fx: &common::app::AppFx, task: &berth_app::start::StartTask) {
    let sandbox = task.sandbox_id.clone().unwrap();
    let url = fx.app.sandboxes.get(&sandbox).await.unwrap().agent_url;
    let key = fx.app.sandboxes.session_key(&sandbox).await.unwrap();
    let agent = berth_app::agent_client::AgentClient::new(&url, &key);
    let id = task.conversation_id.clone().unwrap();
    common::wait_for(&agent, &id, berth_protocol::ExecutionStatus::Finished).await;
}

#[tokio::test]
async fn starts_cut_short_by_a_stop_are_reported_or_taken_over_at_the_next_start() {
    let mut fx = app_fixture(vec![Step::text("started without the app")], |_| {}).await;
    let ws = folder(&fx, "ws");
    // A start that reached READY while the app was stopping: the conversation exists in its
    // sandbox, the app never followed it.
    let mut llm = berth_protocol::LlmConfig::new("openai/scripted");
    llm.base_url = Some(fx.llm.openai_base_url());
    llm.api_key = Some(LLM_KEY.into());
    let request = berth_app::start::StartRequest {
        repository: Repository::LocalFolder { path: ws },
        task: Some("unseen start".into()),
        llm,
        llm_profile: None,
        confirmation_policy: Default::default(),
        max_iterations: 10,
        condense_after: None,
        setup_timeout: 30,
        git_token: None,
        sealing_key: None,
        secrets: Vec::new(),
        continue_conversation: None,
        setup_script: Default::default(),
        confinement: Default::default(),
        git_identity: Default::default(),
        mcp_config: None,
    };
    let done = fx.app.starts.start(request).await.unwrap();
    let id = done.conversation_id.clone().unwrap();
    // Its run ends before the restart: its LLM key lives in this app's memory only, so a call
    // after the restart could not be made (on a loaded machine the run is slower than the stop).
    finished_in_its_sandbox(&fx, &done).await;
    // Recorded by the start task, but nobody follows its events yet.
    assert_eq!(
        fx.app.conversations.get(&id).map(|c| c.events).ok(),
        Some(0)
    );
    // And one the app was in the middle of.
    fx.app
        .library
        .store
        .lock()
        .execute(
            "INSERT INTO start_tasks (id, status, request, created_at, updated_at) VALUES ('cut-short', 'PREPARING_REPOSITORY', '{}', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            [],
        )
        .unwrap();

    // The app restarts: the old one exits, a new one opens the same home.
    fx.app.shut_down();
    fx.app = open(&fx.home).await;
    let app = &fx.app;
    let cut = app.starts.get("cut-short").unwrap();
    assert_eq!(cut.status, berth_app::start::StartStatus::Error);
    assert!(
        cut.detail
            .as_deref()
            .is_some_and(|d| d.contains("Berth stopped while this conversation was starting")),
        "{cut:?}"
    );
    status(app, &id, "finished").await;
    let conv = app.conversations.get(&id).unwrap();
    assert_eq!(conv.title.as_deref(), Some("unseen start"));
    assert!(!conv.archived);
    let texts: Vec<String> = app
        .conversations
        .events(&id)
        .unwrap()
        .iter()
        .filter_map(|e| match &e.body {
            berth_protocol::EventBody::MessageEvent { llm_message, .. } => Some(llm_message.text()),
            _ => None,
        })
        .collect();
    assert!(
        texts.iter().any(|t| t == "started without the app"),
        "{texts:?}"
    );
}

/// Two app processes on one home (the desktop, and `berth conversations …` in a terminal): the
/// second neither fails the first one's start in flight nor removes its sandbox. Before the fix
/// (commit "One process owns a Berth home"), opening the second marked the start ERROR and
/// deleted its sandbox.
#[tokio::test]
async fn a_second_app_on_the_same_home_leaves_the_first_ones_start_alone() {
    let fx = app_fixture(vec![Step::text("set up and ready")], |_| {}).await;
    let ws = folder(&fx, "slow-setup");
    std::fs::create_dir_all(ws.join(".openhands")).unwrap();
    std::fs::write(ws.join(".openhands/setup.sh"), "sleep 2\n").unwrap();
    let task = fx.app.conversations.start(local(&ws, "go")).unwrap();
    for _ in 0..200 {
        let t = fx.app.starts.get(&task.id).unwrap();
        if t.status == berth_app::start::StartStatus::RunningSetupScript {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(fx.app.owns_home());
    let second = open(&fx.home).await;
    assert!(!second.owns_home());
    let t = second.starts.get(&task.id).unwrap();
    assert_ne!(
        t.status,
        berth_app::start::StartStatus::Error,
        "{:?}",
        t.detail
    );
    let done = ready(&fx.app, &task).await;
    assert!(
        second
            .sandboxes
            .get(done.sandbox_id.as_deref().unwrap())
            .await
            .is_ok_and(|s| s.status == SandboxStatus::Running)
    );
}

/// The agent settings a user saves reach the agent: with the condenser on, the conversation's
/// agent summarizes past the size the settings give (through the same gateway as the agent);
/// with it off, there is no condenser at all.
#[tokio::test]
async fn the_condenser_setting_reaches_the_agent() {
    for (on, max) in [(true, 30), (false, 30)] {
        let fx = app_fixture(vec![Step::text("done")], |s| {
            s.agent.condenser = on;
            s.agent.condenser_max_size = max;
        })
        .await;
        let ws = folder(&fx, "repo");
        let task = start_local(&fx, &ws, Some("hello"));
        let id = ready(&fx.app, &task).await.conversation_id.unwrap();
        status(&fx.app, &id, "finished").await;
        let hex = id.replace('-', "");
        let stored = fx.home.join("conversations").join(&hex).join(&hex);
        let state: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(stored.join("base_state.json")).unwrap())
                .unwrap();
        let condenser = &state["agent"]["condenser"];
        if on {
            assert_eq!(condenser["kind"], "LLMSummarizingCondenser", "{condenser}");
            assert_eq!(condenser["max_size"], max);
            assert_eq!(
                condenser["llm"]["base_url"], state["agent"]["llm"]["base_url"],
                "the condenser calls the LLM the way the agent does"
            );
        } else {
            assert!(condenser.is_null(), "{condenser}");
        }
    }
}
