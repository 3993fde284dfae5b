//! Docker sandboxes against a real Docker engine (CI installs and starts one): the image built
//! on demand, READY from a local folder and from a git URL, an app restart, pause/resume, the
//! running limit, idle pausing, delete, and clear errors. Every test is `#[ignore]`d as needing
//! Docker: `.ci/test` runs them when an engine answers (nextest reports them skipped otherwise).

use crate::common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use berth_app::agent_client::AgentClient;
use berth_app::llm_gateway::LlmGateway;
use berth_app::paths::Paths;
use berth_app::repository::Repository;
use berth_app::sandbox::docker::{DockerOptions, DockerSandboxService, connect_to};
use berth_app::sandbox::{SandboxService, SandboxSpec, SandboxStatus};
use berth_app::start::{StartRequest, StartStatus, StartTaskService};
use berth_app::store::Store;
use berth_protocol::{ExecutionStatus, LlmConfig};
use berth_scripted_llm::{ScriptedLlm, Step};
use common::{committed_repo, git, server_binary, wait_for};
use serde_json::json;

const IMAGE: &str = "berth-sandbox:test";

struct Fx {
    tmp: tempfile::TempDir,
    home: PathBuf,
    docker: Arc<DockerSandboxService>,
    starts: StartTaskService,
    llm: ScriptedLlm,
}

fn options(image: &str) -> DockerOptions {
    DockerOptions {
        image: image.into(),
        agent_server_binary: Some(server_binary()),
        cpus: Some(1.0),
        memory_mb: Some(1024),
        ..DockerOptions::default()
    }
}

async fn fixture(script: Vec<Step>, max_running: usize) -> Fx {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let paths = Paths::at(&home);
    let store = Store::open(&paths.database()).unwrap();
    let mut opts = options(IMAGE);
    opts.max_running = max_running;
    let docker = Arc::new(
        DockerSandboxService::new(paths.clone(), store.clone(), opts)
            .await
            .unwrap(),
    );
    let starts = StartTaskService::new(
        store.clone(),
        paths,
        docker.clone(),
        LlmGateway::new(store).unwrap(),
    );
    // On loopback only, as Ollama and LM Studio listen by default: the container reaches it
    // through the app's LLM gateway.
    let llm = ScriptedLlm::start(script).await.unwrap();
    Fx {
        tmp,
        home,
        docker,
        starts,
        llm,
    }
}

fn request(fx: &Fx, repository: Repository, task: Option<&str>) -> StartRequest {
    if let Repository::LocalFolder { path } = &repository {
        common::users_folder(path);
    }
    let mut llm = LlmConfig::new("openai/scripted");
    llm.base_url = Some(fx.llm.openai_base_url());
    llm.api_key = Some("sk-docker-test".into());
    llm.num_retries = 0;
    StartRequest {
        repository,
        task: task.map(str::to_string),
        llm,
        llm_profile: None,
        confirmation_policy: Default::default(),
        max_iterations: 50,
        condense_after: None,
        setup_timeout: 60,
        git_token: None,
        sealing_key: None,
        secrets: Vec::new(),
        continue_conversation: None,
        setup_script: Default::default(),
        confinement: Default::default(),
        git_identity: Default::default(),
        mcp_config: None,
    }
}

fn folder(fx: &Fx, name: &str) -> PathBuf {
    let p = fx.tmp.path().join(name);
    std::fs::create_dir_all(&p).unwrap();
    common::users_folder(&p);
    p
}

async fn container_exists(fx: &Fx, id: &str) -> bool {
    fx.docker.docker().inspect_container(id, None).await.is_ok()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine (.ci/test runs it when one answers)"]
async fn a_local_folder_reaches_ready_in_docker_and_the_edit_lands_in_the_folder() {
    let fx = fixture(vec![
        Step::tool("terminal", json!({"command": "echo \"written in $(hostname) as $(id -un)\" > from-docker.txt"})),
        Step::tool("finish", json!({"message": "done"})),
        Step::tool("terminal", json!({"command": "echo after-restart >> from-docker.txt"})),
        Step::tool("finish", json!({"message": "again"})),
    ], 3)
    .await;
    let ws = folder(&fx, "project");
    let task = fx
        .starts
        .start(request(
            &fx,
            Repository::LocalFolder { path: ws.clone() },
            Some("write a file"),
        ))
        .await
        .unwrap();
    assert_eq!(task.status, StartStatus::Ready, "{:?}", task.detail);
    let sandbox_id = task.sandbox_id.clone().unwrap();
    let sandbox = fx.docker.get(&sandbox_id).await.unwrap();
    assert_eq!(sandbox.status, SandboxStatus::Running);
    let container = sandbox.container_id.clone().unwrap();
    // The container as the issue asks for it.
    let info = fx
        .docker
        .docker()
        .inspect_container(&container, None)
        .await
        .unwrap();
    let host = info.host_config.clone().unwrap();
    let bindings = host.port_bindings.clone().unwrap();
    let b = bindings.get("8000/tcp").cloned().flatten().unwrap();
    assert_eq!(
        b[0].host_ip.as_deref(),
        Some("127.0.0.1"),
        "published on loopback only"
    );
    assert_eq!(
        info.config.clone().and_then(|c| c.user).as_deref(),
        Some("1000:1000")
    );
    assert!(
        host.extra_hosts
            .unwrap()
            .contains(&"host.docker.internal:host-gateway".to_string())
    );
    assert!(
        !host
            .binds
            .iter()
            .flatten()
            .any(|b| b.contains("docker.sock"))
    );
    assert_eq!(host.nano_cpus, Some(1_000_000_000));
    assert_eq!(host.memory, Some(1024 * 1024 * 1024));
    assert_eq!(
        info.config
            .and_then(|c| c.labels)
            .unwrap()
            .get("berth.sandbox"),
        Some(&sandbox_id)
    );

    let key = fx.docker.session_key(&sandbox_id).await.unwrap();
    let client = AgentClient::new(&sandbox.agent_url, &key);
    let conv = task.conversation_id.clone().unwrap();
    wait_for(&client, &conv, ExecutionStatus::Finished).await;
    let written = std::fs::read_to_string(ws.join("from-docker.txt")).unwrap();
    assert!(written.contains("as agent"), "{written}");
    // The LLM URL was rewritten for the container.
    assert_eq!(fx.llm.requests().len(), 2);

    // An app restart: a new service on the same data finds the sandbox and continues.
    let paths = Paths::at(&fx.home);
    let again = DockerSandboxService::new(
        paths,
        Store::open(&fx.home.join("berth.db")).unwrap(),
        options(IMAGE),
    )
    .await
    .unwrap();
    let found = again.list().await.unwrap();
    assert!(
        found
            .iter()
            .any(|s| s.id == sandbox_id && s.status == SandboxStatus::Running)
    );
    client.send_message(&conv, "once more", true).await.unwrap();
    wait_for(&client, &conv, ExecutionStatus::Finished).await;
    assert!(
        std::fs::read_to_string(ws.join("from-docker.txt"))
            .unwrap()
            .ends_with("after-restart\n")
    );

    // Pause and resume.
    assert_eq!(
        again.pause(&sandbox_id).await.map(|s| s.status).ok(),
        Some(SandboxStatus::Paused)
    );
    assert_eq!(
        again.resume(&sandbox_id).await.map(|s| s.status).ok(),
        Some(SandboxStatus::Running)
    );
    let resumed = again.get(&sandbox_id).await.unwrap();
    assert!(AgentClient::new(&resumed.agent_url, &key).alive().await);
    // A stopped container starts again (on a possibly new port).
    fx.docker
        .docker()
        .stop_container(
            &container,
            None::<bollard::query_parameters::StopContainerOptions>,
        )
        .await
        .unwrap();
    assert_eq!(
        again.get(&sandbox_id).await.map(|s| s.status).ok(),
        Some(SandboxStatus::Paused)
    );
    let restarted = again.resume(&sandbox_id).await.unwrap();
    assert!(AgentClient::new(&restarted.agent_url, &key).alive().await);
    // Delete leaves no container.
    again.delete(&sandbox_id).await.unwrap();
    assert!(!container_exists(&fx, &container).await);
    assert!(
        again
            .list()
            .await
            .unwrap()
            .iter()
            .all(|s| s.id != sandbox_id)
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine (.ci/test runs it when one answers)"]
async fn the_running_limit_pauses_the_oldest_and_idle_sandboxes_pause() {
    let fx = fixture(vec![], 1).await;
    let a = fx
        .docker
        .create(&SandboxSpec::new(folder(&fx, "a")))
        .await
        .unwrap();
    let b = fx
        .docker
        .create(&SandboxSpec::new(folder(&fx, "b")))
        .await
        .unwrap();
    assert_eq!(
        fx.docker.get(&a.id).await.map(|s| s.status).ok(),
        Some(SandboxStatus::Paused),
        "the oldest was paused"
    );
    assert_eq!(
        fx.docker.get(&b.id).await.map(|s| s.status).ok(),
        Some(SandboxStatus::Running)
    );
    let paused = fx.docker.pause_idle(Duration::ZERO).await.unwrap();
    assert_eq!(paused, std::slice::from_ref(&b.id));
    for s in [a, b] {
        fx.docker.delete(&s.id).await.unwrap();
        assert!(!container_exists(&fx, s.container_id.as_deref().unwrap()).await);
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine (.ci/test runs it when one answers)"]
async fn a_git_url_is_cloned_and_its_setup_runs_inside_the_container() {
    let fx = fixture(vec![], 3).await;
    let src = folder(&fx, "src");
    committed_repo(
        &src,
        &[
            (
                ".openhands/setup.sh",
                "echo \"setup ran in $(pwd) as $(id -un)\" > setup.txt\n",
            ),
            (".openhands/pre-commit.sh", "true\n"),
        ],
    );
    let bare = fx.tmp.path().join("remote.git");
    git(
        fx.tmp.path(),
        &[
            "clone",
            "-q",
            "--bare",
            &src.display().to_string(),
            &bare.display().to_string(),
        ],
    );
    let url = format!("file://{}", bare.display());
    let task = fx
        .starts
        .start(request(
            &fx,
            Repository::GitUrl {
                url,
                branch: None,
                new_branch: None,
                full_clone: false,
            },
            None,
        ))
        .await
        .unwrap();
    assert_eq!(task.status, StartStatus::Ready, "{:?}", task.detail);
    let ws = task.workspace.clone().unwrap();
    assert_eq!(
        std::fs::read_to_string(ws.join("setup.txt")).unwrap(),
        "setup ran in /workspace/project as agent\n"
    );
    assert!(!ws.join(".git/hooks/pre-commit").exists());
    // The agent (the container's user) can change the cloned files and commit.
    let key = fx
        .docker
        .session_key(task.sandbox_id.as_deref().unwrap())
        .await
        .unwrap();
    let sandbox = fx
        .docker
        .get(task.sandbox_id.as_deref().unwrap())
        .await
        .unwrap();
    let out = AgentClient::new(&sandbox.agent_url, key)
        .execute("echo edit >> .openhands/setup.sh && git -c user.name=a -c user.email=a@b commit -qam 'agent edit' && git log --oneline | wc -l", "/workspace/project", Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!((out.exit_code, out.stdout.trim()), (0, "2"), "{out:?}");
    fx.docker
        .delete(task.sandbox_id.as_deref().unwrap())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine (.ci/test runs it when one answers)"]
async fn the_image_is_built_on_demand_and_failures_are_clear() {
    // No engine.
    let err = connect_to(vec!["unix:///no/such/docker.sock".into()])
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap();
    assert!(
        err.contains("no Docker engine answers") && err.contains("process sandbox"),
        "{err}"
    );
    let tmp = tempfile::tempdir().unwrap();
    let paths = Paths::at(tmp.path());
    let store = Store::open(&paths.database()).unwrap();
    // A build that cannot work: its base image does not exist and there is no registry.
    let tag = format!("berth-sandbox:broken-{}", uuid::Uuid::new_v4().simple());
    let mut broken = options(&tag);
    broken.base_image = Some("berth-no-such-base:latest".into());
    let service = DockerSandboxService::new(paths.clone(), store.clone(), broken)
        .await
        .unwrap();
    let err = service
        .create(&SandboxSpec::new(tmp.path().to_path_buf()))
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap();
    assert!(err.contains("could not be built"), "{err}");
    // A missing image is built from the Dockerfile and binary, with progress.
    let tag = format!("berth-sandbox:ondemand-{}", uuid::Uuid::new_v4().simple());
    let service = DockerSandboxService::new(paths, store, options(&tag))
        .await
        .unwrap();
    let mut progress = service.progress().expect("Docker reports its image build");
    service.ensure_image().await.unwrap();
    let mut lines = Vec::new();
    while let Ok(l) = progress.try_recv() {
        lines.push(l);
    }
    assert!(
        lines.first().is_some_and(|l| l.starts_with("Building")),
        "{lines:?}"
    );
    assert!(
        lines.last().is_some_and(|l| l.starts_with("Built")),
        "{lines:?}"
    );
    assert!(service.docker().inspect_image(&tag).await.is_ok());
    let _ = service
        .docker()
        .remove_image(
            &tag,
            None::<bollard::query_parameters::RemoveImageOptions>,
            None,
        )
        .await;
}

/// A first Docker start builds the image, which takes minutes on a slow machine: the start task
/// says so, step by step, while its history keeps one entry for the stage.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine (run by .ci/test when one answers)"]
async fn a_start_that_builds_the_image_shows_the_build() {
    use berth_app::updates::AppUpdate;
    use common::app::{app_fixture_on, folder, ready, start_local};
    let tag = format!("berth-sandbox:shown-{}", uuid::Uuid::new_v4().simple());
    let fx = app_fixture_on(
        berth_app::settings::Runtime::Docker,
        vec![Step::text("ready")],
        |s| s.sandbox.image = tag.clone(),
    )
    .await;
    let mut updates = fx.app.updates();
    let ws = folder(&fx, "project");
    common::users_folder(&ws);
    let task = ready(&fx.app, &start_local(&fx, &ws, None)).await;
    let mut shown = Vec::new();
    loop {
        let update = match updates.try_recv() {
            Ok(update) => update,
            Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) => continue,
            Err(_) => break,
        };
        if let AppUpdate::StartTask { task: t } = update
            && t.id == task.id
            && let Some(detail) = t.detail
        {
            shown.push(detail);
        }
    }
    let building: Vec<&String> = shown
        .iter()
        .filter(|d| d.starts_with("Building the sandbox image: "))
        .collect();
    assert!(
        building.iter().any(|d| d.contains(&format!("Built {tag}"))) && building.len() > 2,
        "{shown:?}"
    );
    let history = fx.app.starts.transitions(&task.id).unwrap();
    assert!(
        !history
            .iter()
            .any(|(_, d)| d.as_deref().is_some_and(|d| d.starts_with("Building"))),
        "{history:?}"
    );
    fx.remove_sandboxes().await;
    let out = std::process::Command::new("docker")
        .args(["rmi", "-f", &tag])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}
