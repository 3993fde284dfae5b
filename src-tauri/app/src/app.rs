//! The app as one value: the database, settings, secrets, the sandbox service the settings ask
//! for, start tasks, the event bridge, conversations, webhooks and workspace watching — wired once
//! here, the same for the desktop window, web mode and the `berth` CLI.
//!
//! Opening it also does what a starting app must: forget sandboxes that died while it was away,
//! follow every conversation whose sandbox lives, and pause sandboxes left idle.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::bridge::EventBridge;
use crate::conversations::{ConversationParts, ConversationRecords, ConversationService};
use crate::llm_gateway::{GatewayError, LlmGateway};
use crate::mirror::EventMirror;
use crate::paths::Paths;
use crate::sandbox::docker::DockerOptions;
use crate::sandbox::routed::RoutedSandboxes;
use crate::sandbox::{SandboxError, SandboxKind, SandboxService};
use crate::secrets::{SecretError, SecretStore};
use crate::settings::{Runtime, Settings, SettingsError, SettingsService};
use crate::start::StartTaskService;
use crate::store::{Store, StoreError};
use crate::updates::{AppUpdate, forward};
use crate::watcher::WorkspaceWatcher;
use crate::webhooks::Webhooks;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("Berth cannot find a folder for its data; set BERTH_HOME to a folder it may write to")]
    NoHome,
    #[error("{0}")]
    Home(String),
    #[error("there is no LLM profile {0}; add one in Settings → LLM")]
    NoProfile(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    #[error(transparent)]
    Secrets(#[from] SecretError),
    #[error(transparent)]
    Gateway(#[from] GatewayError),
}

/// What the caller may decide instead of the settings.
#[derive(Debug, Clone, Default)]
pub struct AppOptions {
    /// Overrides the settings' sandbox runtime (`berth run --runtime`).
    pub runtime: Option<Runtime>,
    /// The agent-server program; `None` = beside the app, or `BERTH_AGENT_SERVER_BIN`.
    pub agent_server_binary: Option<PathBuf>,
    /// How often idle sandboxes are looked for.
    pub idle_check: Option<Duration>,
}

/// The database and what reads it, without sandboxes: enough to list, search, show and export
/// conversations and to edit settings and secrets, with no Docker engine needed.
#[derive(Clone)]
pub struct Library {
    pub paths: Paths,
    pub store: Store,
    pub settings: SettingsService,
    pub secrets: SecretStore,
    pub records: ConversationRecords,
    pub mirror: EventMirror,
}

impl Library {
    pub fn open(paths: Paths) -> Result<Self, AppError> {
        let store = Store::open(&paths.database())?;
        Ok(Self {
            settings: SettingsService::new(store.clone()),
            secrets: SecretStore::new(store.clone())?,
            records: ConversationRecords::new(store.clone()),
            mirror: EventMirror::new(store.clone()),
            paths,
            store,
        })
    }

    /// "Test connection" for a profile by name (`None`: the active one), with its keychain key.
    pub async fn test_profile(
        &self,
        name: Option<&str>,
    ) -> Result<crate::llm_check::ConnectionReport, AppError> {
        let settings = self.settings.load()?;
        let profile = match name {
            Some(n) => settings.llm_profiles.iter().find(|p| p.name == n),
            None => settings.active(),
        }
        .cloned()
        .ok_or_else(|| AppError::NoProfile(name.unwrap_or("(active)").to_string()))?;
        let key = self
            .secrets
            .get(crate::secrets::SecretKind::Llm, &profile.name)?;
        Ok(crate::llm_check::test_connection(&profile, key).await)
    }

    /// `BERTH_HOME`, else the platform's data folder.
    pub fn open_default() -> Result<Self, AppError> {
        Self::open(Paths::from_env().ok_or(AppError::NoHome)?)
    }
}

pub struct App {
    pub library: Library,
    pub sandboxes: Arc<dyn SandboxService>,
    /// Why agents run unisolated, when Docker was wanted and is not there.
    pub sandbox_note: Option<String>,
    pub starts: StartTaskService,
    pub conversations: ConversationService,
    pub webhooks: Webhooks,
    pub watcher: WorkspaceWatcher,
    updates: tokio::sync::broadcast::Sender<AppUpdate>,
    background: Vec<tokio::task::JoinHandle<()>>,
    /// This process owns the home (see [`crate::home_lock`]); `None`: another one does.
    owner: Option<crate::home_lock::HomeLock>,
}

impl Drop for App {
    fn drop(&mut self) {
        for task in &self.background {
            task.abort();
        }
    }
}

impl App {
    pub async fn open(library: Library, options: AppOptions) -> Result<Self, AppError> {
        let settings = library.settings.load()?;
        let (sandboxes, sandbox_note) = sandbox_service(&library, &settings, &options).await;
        let owner = crate::home_lock::try_own(&library.paths.home).map_err(|e| {
            AppError::Home(format!("cannot lock {}: {e}", library.paths.home.display()))
        })?;
        if owner.is_some() {
            let removed = sandboxes.prune_missing().await?;
            if !removed.is_empty() {
                tracing::info!(count = removed.len(), "forgot sandboxes that are gone");
            }
        } else {
            tracing::info!(
                "another Berth process owns this home: it reconciles and runs the background duties"
            );
        }
        let gateway = LlmGateway::new(library.store.clone())?;
        // Sandboxes that outlived the last run call their LLM again as soon as they resume.
        if let Err(e) = gateway.serve_recorded().await {
            tracing::warn!(error = %e, "the LLM gateway cannot serve the sandboxes of the last run");
        }
        let starts = StartTaskService::new(
            library.store.clone(),
            library.paths.clone(),
            sandboxes.clone(),
            gateway,
        );
        let bridge = EventBridge::new(library.mirror.clone());
        let watcher = WorkspaceWatcher::new();
        let conversations = ConversationService::new(ConversationParts {
            paths: library.paths.clone(),
            records: library.records.clone(),
            settings: library.settings.clone(),
            secrets: library.secrets.clone(),
            sandboxes: sandboxes.clone(),
            starts: starts.clone(),
            bridge: bridge.clone(),
            watcher: watcher.clone(),
        });
        if let Err(e) = conversations.reattach(owner.is_some()).await {
            tracing::warn!(error = %e, "could not follow the conversations of running sandboxes");
        }
        let webhooks = Webhooks::new(library.store.clone(), library.settings.clone());
        let (updates, _) = tokio::sync::broadcast::channel(4096);
        let mut background = vec![
            forward(starts.subscribe(), updates.clone(), |task| {
                Some(AppUpdate::StartTask {
                    task: Box::new(task),
                })
            }),
            forward(
                bridge.subscribe(),
                updates.clone(),
                |(conversation_id, event)| {
                    Some(AppUpdate::Event {
                        conversation_id,
                        event: Box::new(event),
                    })
                },
            ),
            forward(bridge.subscribe(), updates.clone(), {
                let records = library.records.clone();
                move |(id, event)| {
                    let summary = records.summary_after(&id, &event)?;
                    Some(AppUpdate::Conversation {
                        summary: Box::new(summary),
                    })
                }
            }),
            forward(watcher.subscribe(), updates.clone(), |changes| {
                Some(AppUpdate::ChangedFiles { changes })
            }),
        ];
        if owner.is_some() {
            background.push(webhooks.deliver_from(&bridge));
            background.push(idle_pauser(
                sandboxes.clone(),
                library.settings.clone(),
                library.store.clone(),
                options.idle_check.unwrap_or(Duration::from_secs(60)),
            ));
        }
        Ok(Self {
            library,
            sandboxes,
            sandbox_note,
            starts,
            conversations,
            webhooks,
            watcher,
            updates,
            background,
            owner,
        })
    }

    /// Stops the background duties and gives up the home, for another app to own it (what an
    /// app does as it exits; dropping it does the same).
    pub fn shut_down(&mut self) {
        for task in self.background.drain(..) {
            task.abort();
        }
        self.owner = None;
    }

    /// Whether this process owns the home and runs its background duties.
    pub fn owns_home(&self) -> bool {
        self.owner.is_some()
    }

    /// Start tasks, mirrored events and changed files, as they happen.
    pub fn updates(&self) -> tokio::sync::broadcast::Receiver<AppUpdate> {
        self.updates.subscribe()
    }
}

/// Both kinds of sandbox service, whichever can run here; new sandboxes of the kind the
/// settings (or the caller) ask for. With `auto`, Docker when an engine answers, else processes
/// with a note to show the user.
async fn sandbox_service(
    library: &Library,
    settings: &Settings,
    options: &AppOptions,
) -> (Arc<dyn SandboxService>, Option<String>) {
    let s = &settings.sandbox;
    let docker_options = DockerOptions {
        image: s.image.clone(),
        cpus: Some(s.cpus),
        memory_mb: Some(s.memory_mb),
        max_running: s.max_running,
        agent_server_binary: options.agent_server_binary.clone(),
        ..DockerOptions::default()
    };
    let (paths, store) = (library.paths.clone(), library.store.clone());
    let runtime = options.runtime.unwrap_or(s.runtime);
    let preferred = match runtime {
        Runtime::Auto => None,
        Runtime::Docker => Some(SandboxKind::Docker),
        Runtime::Process => Some(SandboxKind::Process),
    };
    let (routed, note) = RoutedSandboxes::discover(paths, store, docker_options, preferred).await;
    (Arc::new(routed), note)
}

/// Pauses sandboxes unused for the settings' idle time. A sandbox whose agent is running counts
/// as used, so a long run is never paused under the agent.
fn idle_pauser(
    sandboxes: Arc<dyn SandboxService>,
    settings: SettingsService,
    store: Store,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        loop {
            tick.tick().await;
            let minutes = settings
                .load()
                .map(|s| s.sandbox.idle_pause_minutes)
                .unwrap_or(0);
            if minutes == 0 {
                continue;
            }
            for id in busy_sandboxes(&store) {
                let _ = sandboxes.touch(&id);
            }
            match sandboxes
                .pause_idle(Duration::from_secs(u64::from(minutes) * 60))
                .await
            {
                Ok(paused) if !paused.is_empty() => {
                    tracing::info!(?paused, "paused idle sandboxes")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not pause idle sandboxes"),
            }
        }
    })
}

fn busy_sandboxes(store: &Store) -> Vec<String> {
    let conn = store.lock();
    let Ok(mut stmt) = conn.prepare(
        "SELECT DISTINCT sandbox_id FROM conversations WHERE status = 'running' AND sandbox_id IS NOT NULL",
    ) else {
        return Vec::new();
    };
    stmt.query_map([], |r| r.get(0))
        .map(|rows| rows.flatten().collect())
        .unwrap_or_default()
}
