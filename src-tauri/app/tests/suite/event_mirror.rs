//! The event mirror and bridge against a real agent-server in a process sandbox: the mirror ends
//! up holding exactly the agent-server's events, once each, after a disconnect and an app
//! restart too, and they are searchable.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use berth_app::agent_client::AgentClient;
use berth_app::bridge::EventBridge;
use berth_app::llm_gateway::LlmGateway;
use berth_app::mirror::EventMirror;
use berth_app::paths::Paths;
use berth_app::repository::Repository;
use berth_app::sandbox::SandboxService;
use berth_app::sandbox::process::ProcessSandboxService;
use berth_app::start::{StartRequest, StartStatus, StartTaskService};
use berth_app::store::Store;
use berth_protocol::{ExecutionStatus, LlmConfig};
use berth_scripted_llm::{ScriptedLlm, Step};
use common::{server_binary, wait_for};
use serde_json::json;

struct Fx {
    _tmp: tempfile::TempDir,
    home: std::path::PathBuf,
    store: Store,
    sandboxes: Arc<ProcessSandboxService>,
    client: AgentClient,
    conversation: String,
    sandbox: String,
    /// Its gateway carries the agent's LLM calls for as long as the fixture lives.
    _starts: StartTaskService,
}

async fn start(script: Vec<Step>) -> (Fx, ScriptedLlm) {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let paths = Paths::at(&home);
    let store = Store::open(&paths.database()).unwrap();
    let sandboxes = Arc::new(
        ProcessSandboxService::new(paths.clone(), store.clone(), Some(server_binary())).unwrap(),
    );
    let llm = ScriptedLlm::start(script).await.unwrap();
    let ws = tmp.path().join("ws");
    std::fs::create_dir_all(&ws).unwrap();
    let mut config = LlmConfig::new("openai/scripted");
    config.base_url = Some(llm.openai_base_url());
    config.num_retries = 0;
    let req = StartRequest {
        repository: Repository::LocalFolder { path: ws },
        task: Some("find the needle".into()),
        llm: config,
        llm_profile: None,
        confirmation_policy: Default::default(),
        max_iterations: 20,
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
    let starts = StartTaskService::new(
        store.clone(),
        paths,
        sandboxes.clone(),
        LlmGateway::new(store.clone()).unwrap(),
    );
    let task = starts.start(req).await.unwrap();
    assert_eq!(task.status, StartStatus::Ready, "{:?}", task.detail);
    let sandbox = task.sandbox_id.unwrap();
    let s = sandboxes.get(&sandbox).await.unwrap();
    let client = AgentClient::new(&s.agent_url, sandboxes.session_key(&sandbox).await.unwrap());
    (
        Fx {
            _tmp: tmp,
            home,
            store,
            sandboxes,
            client,
            conversation: task.conversation_id.unwrap(),
            sandbox,
            _starts: starts,
        },
        llm,
    )
}

async fn wait_mirrored(mirror: &EventMirror, fx: &Fx) {
    for _ in 0..400 {
        let server = fx.client.events(&fx.conversation).await.unwrap();
        if mirror.status(&fx.conversation).ok().flatten() == Some(ExecutionStatus::Finished)
            && mirror.count(&fx.conversation).unwrap_or(0) == server.len()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the mirror did not catch up");
}

fn ids(events: &[berth_protocol::Event]) -> Vec<String> {
    events.iter().map(|e| e.id.clone()).collect()
}

#[tokio::test]
async fn the_mirror_holds_every_event_once_and_is_searchable() {
    let (fx, _llm) = start(vec![
        Step::tool(
            "terminal",
            json!({"command": "echo the-haystack-holds-a-needle"}),
        ),
        Step::tool("finish", json!({"message": "found it"})),
    ])
    .await;
    // The start task recorded the conversation; the mirror fills it.
    let mirror = EventMirror::new(fx.store.clone());
    let bridge = EventBridge::new(mirror.clone());
    let mut updates = bridge.subscribe();
    let following = bridge.follow(&fx.conversation, &fx.url().await, &fx.key().await);
    wait_mirrored(&mirror, &fx).await;
    let server = fx.client.events(&fx.conversation).await.unwrap();
    assert_eq!(ids(&mirror.events(&fx.conversation).unwrap()), ids(&server));
    // Subscribers saw each stored event once (plus transient snapshots).
    let mut seen = Vec::new();
    while let Ok((conv, e)) = updates.try_recv() {
        assert_eq!(conv, fx.conversation);
        if !e.is_transient() {
            seen.push(e.id);
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "an event was published twice");
    assert_eq!(seen.len(), server.len());
    // Full-text search over outputs.
    let hits = mirror.search("needle", 10).unwrap();
    assert!(
        hits.iter().any(|h| h.conversation_id == fx.conversation
            && h.snippet.contains("the-haystack-holds-a-needle")),
        "{hits:?}"
    );
    assert!(
        mirror.search("\"unbalanced", 10).is_ok(),
        "user input with FTS syntax is taken literally"
    );
    drop(following);
    let _ = fx.sandboxes.delete(&fx.sandbox).await;
}

#[tokio::test]
async fn a_disconnect_and_an_app_restart_leave_no_gap_and_no_duplicate() {
    let (fx, _llm) = start(vec![
        Step::tool("terminal", json!({"command": "sleep 1 && echo one"})),
        Step::tool("terminal", json!({"command": "echo two"})),
        Step::tool("finish", json!({"message": "done"})),
    ])
    .await;
    // The start task recorded the conversation; the mirror fills it.
    let mirror = EventMirror::new(fx.store.clone());
    let bridge = EventBridge::new(mirror.clone());
    let following = bridge.follow(&fx.conversation, &fx.url().await, &fx.key().await);
    // Drop the connection while the first command runs.
    for _ in 0..200 {
        if mirror
            .events(&fx.conversation)
            .unwrap()
            .iter()
            .any(|e| e.kind() == "ActionEvent")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(following);
    let partial = mirror.count(&fx.conversation).unwrap_or(0);
    wait_for(&fx.client, &fx.conversation, ExecutionStatus::Finished).await;
    let server = fx.client.events(&fx.conversation).await.unwrap();
    assert!(
        partial < server.len(),
        "the run went on while the app was away"
    );
    // An app restart: a new store handle and bridge on the same database.
    let store = Store::open(&fx.home.join("berth.db")).unwrap();
    let mirror = EventMirror::new(store);
    let bridge = EventBridge::new(mirror.clone());
    let _following = bridge.follow(&fx.conversation, &fx.url().await, &fx.key().await);
    wait_mirrored(&mirror, &fx).await;
    assert_eq!(ids(&mirror.events(&fx.conversation).unwrap()), ids(&server));
    let _ = fx.sandboxes.delete(&fx.sandbox).await;
}

impl Fx {
    async fn url(&self) -> String {
        self.sandboxes
            .get(&self.sandbox)
            .await
            .map(|s| s.agent_url)
            .unwrap()
    }
    async fn key(&self) -> String {
        self.sandboxes.session_key(&self.sandbox).await.unwrap()
    }
}
