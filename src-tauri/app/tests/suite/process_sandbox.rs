//! The process sandbox and the start task, for real: `berth-agent-server` processes on loopback,
//! git repositories on disk, a SQLite database, and the scripted LLM.

use crate::common;

use std::time::Duration;

use berth_app::agent_client::AgentClient;
use berth_app::paths::Paths;
use berth_app::repository::Repository;
use berth_app::sandbox::process::ProcessSandboxService;
use berth_app::sandbox::{SandboxService, SandboxSpec, SandboxStatus};
use berth_app::start::StartStatus;
use berth_app::store::Store;
use berth_protocol::ExecutionStatus;
use berth_scripted_llm::Step;
use common::process::{fixture, folder, request};
use common::{server_binary, wait_for};
use serde_json::json;

/// Alive and not a zombie; a process that vanishes while it is read is not alive.
fn pid_alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| !stat.contains(") Z "))
}

#[tokio::test]
async fn a_local_folder_reaches_ready_and_the_agent_edits_it() {
    let fx = fixture(vec![
        Step::tool(
            "terminal",
            json!({"command": "echo 'edited by the agent' > notes.txt"}),
        ),
        Step::tool("finish", json!({"message": "done"})),
        Step::tool("terminal", json!({"command": "echo again >> notes.txt"})),
        Step::tool("finish", json!({"message": "again"})),
    ])
    .await;
    let ws = folder(&fx, "project");
    let mut updates = fx.starts.subscribe();
    let task = fx
        .starts
        .start(request(
            &fx,
            Repository::LocalFolder { path: ws.clone() },
            Some("write notes.txt"),
        ))
        .await
        .unwrap();
    assert_eq!(task.status, StartStatus::Ready, "{:?}", task.detail);
    let states: Vec<StartStatus> = fx
        .starts
        .transitions(&task.id)
        .unwrap()
        .into_iter()
        .map(|t| t.0)
        .collect();
    assert_eq!(
        states,
        [
            StartStatus::Working,
            StartStatus::WaitingForSandbox,
            StartStatus::PreparingRepository,
            StartStatus::SettingUpGitHooks,
            StartStatus::SettingUpSkills,
            StartStatus::StartingConversation,
            StartStatus::Ready
        ]
    );
    // Subscribers saw each state as it happened.
    let mut seen = Vec::new();
    while let Ok(t) = updates.try_recv() {
        seen.push(t.status);
    }
    assert_eq!(seen, states);
    assert_eq!(
        fx.starts.get(&task.id).map(|t| t.status).ok(),
        Some(StartStatus::Ready)
    );

    let sandbox_id = task.sandbox_id.clone().unwrap();
    let sandbox = fx.sandboxes.get(&sandbox_id).await.unwrap();
    assert_eq!(sandbox.status, SandboxStatus::Running);
    assert!(sandbox.agent_url.starts_with("http://127.0.0.1:"));
    let key = fx.sandboxes.session_key(&sandbox_id).await.unwrap();
    let client = AgentClient::new(&sandbox.agent_url, &key);
    let conv = task.conversation_id.clone().unwrap();
    wait_for(&client, &conv, ExecutionStatus::Finished).await;
    assert_eq!(
        std::fs::read_to_string(ws.join("notes.txt")).unwrap(),
        "edited by the agent\n"
    );
    // The key is required: without it the agent-server refuses.
    assert!(
        AgentClient::new(&sandbox.agent_url, "wrong")
            .conversation(&conv)
            .await
            .is_err()
    );
    // No secret in the database.
    drop(fx.store.lock());
    let db = std::fs::read(fx.home.join("berth.db")).unwrap();
    let db = String::from_utf8_lossy(&db);
    assert!(!db.contains("sk-app-test") && !db.contains(&key));

    // An app restart: a new service on the same data finds the sandbox and goes on.
    let paths = Paths::at(&fx.home);
    let again = ProcessSandboxService::new(
        paths,
        Store::open(&fx.home.join("berth.db")).unwrap(),
        Some(server_binary()),
    )
    .unwrap();
    let found = again.list().await.unwrap();
    assert_eq!(
        found
            .iter()
            .map(|s| (s.id.clone(), s.status))
            .collect::<Vec<_>>(),
        [(sandbox_id.clone(), SandboxStatus::Running)]
    );
    let client = AgentClient::new(
        &sandbox.agent_url,
        again.session_key(&sandbox_id).await.unwrap(),
    );
    client.send_message(&conv, "once more", true).await.unwrap();
    wait_for(&client, &conv, ExecutionStatus::Finished).await;
    assert_eq!(
        std::fs::read_to_string(ws.join("notes.txt")).unwrap(),
        "edited by the agent\nagain\n"
    );

    // Pause and resume.
    let paused = again.pause(&sandbox_id).await.unwrap();
    assert_eq!(paused.status, SandboxStatus::Paused);
    let frozen = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    assert!(
        frozen
            .get(format!("{}/alive", sandbox.agent_url))
            .send()
            .await
            .is_err(),
        "a paused sandbox does not answer"
    );
    let resumed = again.resume(&sandbox_id).await.unwrap();
    assert_eq!(resumed.status, SandboxStatus::Running);
    assert!(client.alive().await);

    // Delete leaves no process and no record.
    let pid = resumed.pid.unwrap();
    again.delete(&sandbox_id).await.unwrap();
    assert!(!pid_alive(pid), "the agent-server process survived delete");
    assert!(again.list().await.unwrap().is_empty());
    assert!(!client.alive().await);
}

/// The sandbox once the app sees its process gone.
async fn missing(sandboxes: &ProcessSandboxService, id: &str) -> berth_app::sandbox::Sandbox {
    berth_test_support::wait_until(
        "the sandbox to show missing",
        Duration::from_secs(10),
        || async {
            let s = sandboxes.get(id).await.unwrap();
            (s.status == SandboxStatus::Missing).then_some(s)
        },
    )
    .await
}

#[tokio::test]
async fn a_killed_sandbox_shows_missing_and_its_conversation_continues_in_a_new_one() {
    let fx = fixture(vec![
        Step::tool(
            "terminal",
            json!({"command": "echo started > started.txt && sleep 60"}),
        ),
        Step::tool("terminal", json!({"command": "cat started.txt"})),
        Step::tool("finish", json!({"message": "continued in a new sandbox"})),
    ])
    .await;
    let ws = folder(&fx, "crash");
    let task = fx
        .starts
        .start(request(
            &fx,
            Repository::LocalFolder { path: ws.clone() },
            Some("long job"),
        ))
        .await
        .unwrap();
    assert_eq!(task.status, StartStatus::Ready);
    let sandbox_id = task.sandbox_id.clone().unwrap();
    for _ in 0..300 {
        if ws.join("started.txt").exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let sandbox = fx.sandboxes.get(&sandbox_id).await.unwrap();
    nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(sandbox.pid.unwrap()),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let dead = missing(&fx.sandboxes, &sandbox_id).await;
    assert!(
        dead.error.clone().unwrap().contains("agent-server process"),
        "{:?}",
        dead.error
    );

    // The conversation goes on in a new sandbox, as the app continues it: a start that names
    // it (and gives the new sandbox its own LLM credential); the new sandbox gets its folder.
    let conv = task.conversation_id.clone().unwrap();
    let mut again = request(
        &fx,
        Repository::LocalFolder { path: ws.clone() },
        Some("the sandbox was restarted, carry on"),
    );
    again.continue_conversation = Some(conv.clone());
    let again = fx.starts.start(again).await.unwrap();
    assert_eq!(again.status, StartStatus::Ready, "{:?}", again.detail);
    let fresh = fx
        .sandboxes
        .get(&again.sandbox_id.clone().unwrap())
        .await
        .unwrap();
    let client = AgentClient::new(
        &fresh.agent_url,
        fx.sandboxes.session_key(&fresh.id).await.unwrap(),
    );
    wait_for(&client, &conv, ExecutionStatus::Finished).await;
    let events = client.events(&conv).await.unwrap();
    assert!(events.iter().any(|e| e.kind() == "AgentErrorEvent"));
    // An app starting again finds the live sandbox and cleans up the dead one.
    let restarted =
        ProcessSandboxService::new(Paths::at(&fx.home), fx.store.clone(), Some(server_binary()))
            .unwrap();
    assert_eq!(
        restarted.prune_missing().await.unwrap(),
        std::slice::from_ref(&sandbox_id)
    );
    let left: Vec<String> = restarted
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(left, std::slice::from_ref(&fresh.id));
    assert!(!fx.home.join("sandboxes").join(&sandbox_id).exists());
    let _ = fx.sandboxes.delete(&fresh.id).await;
}

#[tokio::test]
async fn a_port_range_in_use_is_a_clear_error_and_busy_ports_are_skipped() {
    let fx = fixture(vec![]).await;
    let ws = folder(&fx, "ports");
    // Two adjacent ports; the first is taken.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let p = busy.local_addr().map(|a| a.port()).unwrap();
    let mut service =
        ProcessSandboxService::new(Paths::at(&fx.home), fx.store.clone(), Some(server_binary()))
            .unwrap();
    service.ports = Some(p..=p);
    let err = service
        .create(&SandboxSpec::new(ws.clone()))
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap();
    assert!(
        err.contains(&format!("every port from {p} to {p} is in use")),
        "{err}"
    );
    // With a free port in the range, the busy one is skipped.
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    service.ports = Some(free..=free);
    let s = service.create(&SandboxSpec::new(ws)).await.unwrap();
    assert_eq!(s.agent_url, format!("http://127.0.0.1:{free}"));
    service.delete(&s.id).await.unwrap();
    drop(busy);
}

#[tokio::test]
async fn without_a_docker_engine_the_process_sandbox_is_used_and_explained() {
    let fx = fixture(vec![]).await;
    let options = berth_app::sandbox::docker::DockerOptions {
        engine_addresses: Some(vec!["unix:///no/such/docker.sock".into()]),
        agent_server_binary: Some(server_binary()),
        ..Default::default()
    };
    let (service, note) = berth_app::sandbox::routed::RoutedSandboxes::discover(
        Paths::at(&fx.home),
        fx.store.clone(),
        options,
        None,
    )
    .await;
    assert_eq!(service.kind(), berth_app::sandbox::SandboxKind::Process);
    let note = note.unwrap();
    assert!(
        note.contains("local processes") && note.contains("Start Docker"),
        "{note}"
    );
}
