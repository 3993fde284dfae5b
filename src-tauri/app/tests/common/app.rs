//! A whole app on a temporary Berth home: settings with one LLM profile pointing at a scripted
//! LLM (its key in the real keychain), process sandboxes, and helpers to wait on what the user
//! would watch.

use std::path::{Path, PathBuf};
use std::time::Duration;

use berth_app::app::{App, AppOptions, Library};
use berth_app::paths::Paths;
use berth_app::secrets::SecretKind;
use berth_app::settings::{LlmProfile, Runtime, Settings};
use berth_app::start::{StartStatus, StartTask};
use berth_scripted_llm::{ScriptedLlm, Step};

use super::server_binary;

pub const LLM_KEY: &str = "sk-berth-app-7d41e0";

pub struct AppFx {
    pub tmp: tempfile::TempDir,
    pub home: PathBuf,
    pub llm: ScriptedLlm,
    pub app: App,
}

pub fn library(home: &Path) -> Library {
    Library::open(Paths::at(home)).unwrap()
}

pub async fn open(home: &Path) -> App {
    open_on(home, Runtime::Process).await
}

pub async fn open_on(home: &Path, runtime: Runtime) -> App {
    App::open(
        library(home),
        AppOptions {
            runtime: Some(runtime),
            agent_server_binary: Some(server_binary()),
            idle_check: None,
        },
    )
    .await
    .unwrap()
}

/// The image Docker tests build once from this workspace's agent-server.
pub const TEST_IMAGE: &str = "berth-sandbox:test";

/// Settings (one active profile) and its key saved; the app opened on process sandboxes.
pub async fn app_fixture(script: Vec<Step>, edit: impl FnOnce(&mut Settings)) -> AppFx {
    app_fixture_on(Runtime::Process, script, edit).await
}

/// [`app_fixture`] on either kind of sandbox (Docker: the test image, an LLM the containers reach).
pub async fn app_fixture_on(
    runtime: Runtime,
    script: Vec<Step>,
    edit: impl FnOnce(&mut Settings),
) -> AppFx {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let listen = match runtime {
        Runtime::Docker => "0.0.0.0:0",
        _ => "127.0.0.1:0",
    };
    let llm = ScriptedLlm::start_on(listen, script).await.unwrap();
    let lib = library(&home);
    let mut settings = Settings {
        llm_profiles: vec![LlmProfile {
            name: "scripted".into(),
            model: "openai/scripted".into(),
            base_url: Some(llm.openai_base_url()),
        }],
        active_profile: Some("scripted".into()),
        ..Settings::default()
    };
    settings.sandbox.runtime = runtime;
    settings.sandbox.image = TEST_IMAGE.into();
    settings.sandbox.cpus = 1.0;
    settings.sandbox.memory_mb = 1024;
    edit(&mut settings);
    lib.settings.save(&settings).unwrap();
    lib.secrets
        .set(SecretKind::Llm, "scripted", LLM_KEY, None)
        .unwrap();
    let app = open_on(&home, runtime).await;
    AppFx {
        tmp,
        home,
        llm,
        app,
    }
}

impl AppFx {
    /// Removes every sandbox the test started (containers would outlive the test run).
    pub async fn remove_sandboxes(&self) {
        for s in self.app.sandboxes.list().await.unwrap() {
            if let Err(e) = self.app.sandboxes.delete(&s.id).await {
                eprintln!("could not remove sandbox {}: {e}", s.id);
            }
        }
    }
}

pub fn folder(fx: &AppFx, name: &str) -> PathBuf {
    let p = fx.tmp.path().join(name);
    std::fs::create_dir_all(&p).unwrap();
    p
}

/// Starts a conversation on the user's folder `path` with `task`; returns at once.
pub fn start_local(fx: &AppFx, path: &Path, task: Option<&str>) -> StartTask {
    fx.app
        .conversations
        .start(berth_app::conversations::NewConversation {
            repository: berth_app::repository::Repository::LocalFolder {
                path: path.to_path_buf(),
            },
            task: task.map(str::to_string),
            profile: None,
            setup_script: Default::default(),
        })
        .unwrap()
}

/// Waits for a start task to end, READY or not.
pub async fn ended(app: &App, task: &StartTask) -> StartTask {
    for _ in 0..1200 {
        let t = app.starts.get(&task.id).unwrap();
        if t.status.is_final() {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the start task {} never ended", task.id)
}

/// Waits for a start task to end; panics with its detail unless it is READY.
pub async fn ready(app: &App, task: &StartTask) -> StartTask {
    // Generous: the first Docker start of a test run builds the image, on a 2-core machine busy
    // with other tests. It returns as soon as the task is READY.
    let mut last = None;
    for _ in 0..4800 {
        let t = app.starts.get(&task.id).unwrap();
        match t.status {
            StartStatus::Ready => {
                // The conversation is recorded right after READY.
                if let Some(id) = &t.conversation_id
                    && app.conversations.get(id).is_ok()
                {
                    return t;
                }
            }
            StartStatus::Error => panic!("start failed: {:?}", t.detail),
            _ => {}
        }
        last = Some((t.status, t.detail));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the start task never became ready; last: {last:?}")
}

/// Waits until the mirrored status is `want`.
pub async fn status(app: &App, id: &str, want: &str) {
    for _ in 0..2400 {
        if app
            .conversations
            .get(id)
            .is_ok_and(|c| c.status.map(|s| s.as_str()) == Some(want))
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got = app.conversations.get(id).ok().and_then(|c| c.status);
    panic!("conversation {id} never reached {want} (is {got:?})");
}

/// A UI command, as the window sends it; panics with the app's error when it fails.
pub async fn command<T: serde::de::DeserializeOwned>(
    app: &App,
    name: &str,
    args: serde_json::Value,
) -> T {
    let request =
        serde_json::from_value(serde_json::json!({"command": name, "args": args})).unwrap();
    let answer = berth_app::api::dispatch(app, request)
        .await
        .unwrap_or_else(|e| panic!("{name} failed: {e:?}"));
    serde_json::from_value(answer).unwrap()
}
