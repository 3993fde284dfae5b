//! Sandboxes: where an agent-server runs for a conversation. Two kinds behind one trait:
//! a local process (confined by the OS where it can be; the default without Docker) or a Docker
//! container.
//! Every sandbox is recorded in the database so a restarted app finds it again.

mod confinement;
mod container_config;
mod container_user;
pub mod docker;
mod docker_options;
mod engine;
mod git_identity;
mod image;
pub mod keys;
pub mod logs;
mod network;
pub mod process;
mod records;
pub mod routed;

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use confinement::ConfinementSettings;
pub use git_identity::GitIdentity;
pub use records::SandboxRecords;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    ts_rs::TS,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum SandboxKind {
    Docker,
    Process,
}

impl SandboxKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    ts_rs::TS,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum SandboxStatus {
    Starting,
    Running,
    Paused,
    /// Its process or container is gone (killed, machine restarted).
    Missing,
    Error,
}

impl SandboxStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Whether its process or container should be there (starting, running or paused).
    pub fn is_live(self) -> bool {
        matches!(self, Self::Starting | Self::Running | Self::Paused)
    }
}

/// A sandbox as the app knows it. The session key is not part of it: it is fetched when needed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Sandbox {
    pub id: String,
    pub kind: SandboxKind,
    pub status: SandboxStatus,
    /// Base URL of its agent-server, on loopback.
    pub agent_url: String,
    /// The workspace as the agent sees it.
    pub workspace: PathBuf,
    /// The same folder on the host.
    pub host_workspace: PathBuf,
    pub pid: Option<i32>,
    pub container_id: Option<String>,
    pub created_at: String,
    pub last_used_at: String,
    pub error: Option<String>,
    /// How its commands are confined; `None` until its agent-server has said.
    pub confinement: Option<berth_protocol::ConfinementState>,
}

impl Sandbox {
    /// Whether pausing it has anything to do (`false`: it is paused already); an error when a
    /// sandbox in its state cannot be paused.
    pub fn needs_pause(&self) -> Result<bool, SandboxError> {
        self.needs(SandboxStatus::Running, SandboxStatus::Paused, "paused")
    }

    /// Whether resuming it has anything to do (`false`: it runs already).
    pub fn needs_resume(&self) -> Result<bool, SandboxError> {
        self.needs(SandboxStatus::Paused, SandboxStatus::Running, "resumed")
    }

    fn needs(
        &self,
        from: SandboxStatus,
        to: SandboxStatus,
        action: &'static str,
    ) -> Result<bool, SandboxError> {
        match self.status {
            s if s == to => Ok(false),
            s if s == from => Ok(true),
            other => Err(SandboxError::WrongState {
                id: self.id.clone(),
                action,
                status: other.as_str(),
            }),
        }
    }
}

/// How a sandbox reaches the app on this machine: the app listens on `bind`, the sandbox
/// connects to `host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostAddress {
    pub bind: std::net::IpAddr,
    pub host: String,
}

impl HostAddress {
    /// A process sandbox shares the host's loopback.
    pub fn loopback() -> Self {
        Self {
            bind: std::net::Ipv4Addr::LOCALHOST.into(),
            host: "127.0.0.1".into(),
        }
    }
}

/// What a new sandbox needs.
#[derive(Debug, Clone)]
pub struct SandboxSpec {
    /// The host folder the agent works in.
    pub workspace: PathBuf,
    /// The key its agent-server seals conversation secrets with at rest: the conversation's own
    /// (derived from the install's key, which never enters a sandbox), so the conversation can go
    /// on in a new sandbox with its secrets; `None` = the sandbox's own session key.
    pub sealing_key: Option<String>,
    /// The conversation it runs: its folder is the only one the sandbox gets. `None` gives the
    /// sandbox a private folder of its own.
    pub conversation_id: Option<uuid::Uuid>,
    /// How a process sandbox confines the agent's commands.
    pub confinement: crate::ConfinementSettings,
    /// Who the agent's commits are by.
    pub git_identity: GitIdentity,
}

impl SandboxSpec {
    pub fn new(workspace: impl Into<PathBuf>) -> Self {
        Self {
            workspace: workspace.into(),
            sealing_key: None,
            conversation_id: None,
            confinement: Default::default(),
            git_identity: GitIdentity::default(),
        }
    }

    /// The workspace must be an existing folder.
    pub fn check(&self) -> Result<(), SandboxError> {
        if self.workspace.is_dir() {
            Ok(())
        } else {
            Err(SandboxError::Workspace(
                self.workspace.display().to_string(),
            ))
        }
    }

    /// The host folder its agent-server keeps conversations in.
    pub fn conversations_root(
        &self,
        paths: &berth_store::paths::Paths,
        sandbox_id: &str,
    ) -> Result<PathBuf, SandboxError> {
        let root = match &self.conversation_id {
            Some(id) => paths.conversation_root(id),
            None => {
                let dir = paths.sandbox_dir(sandbox_id).join("conversations");
                std::fs::create_dir_all(&dir).map(|()| dir)
            }
        };
        root.map_err(|e| {
            SandboxError::Start(format!("cannot prepare the conversation's folder: {e}"))
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(
        "no Docker engine answers (tried: {0}). Start Docker (Docker Desktop, or `sudo systemctl start docker`), or use the process sandbox"
    )]
    NoEngine(String),
    #[error("the sandbox image could not be built: {0}")]
    ImageBuild(String),
    #[error(
        "the agent-server program was not found ({0}); reinstall Berth or set BERTH_AGENT_SERVER_BIN"
    )]
    ServerBinaryMissing(String),
    #[error("could not start the sandbox: {0}")]
    Start(String),
    #[error(
        "the sandbox's agent-server did not become healthy within {timeout:?}. Its last log lines:\n{logs}"
    )]
    Unhealthy { timeout: Duration, logs: String },
    #[error("no sandbox {0}")]
    NotFound(String),
    #[error("the sandbox {id} cannot be {action}: it is {status}")]
    WrongState {
        id: String,
        action: &'static str,
        status: &'static str,
    },
    #[error(
        "the agent's commands cannot be confined here ({0}), and Settings require confinement. Use a Docker sandbox, or turn off \"Require confinement\" under Settings → Sandbox"
    )]
    Unconfined(String),
    /// A kind of sandbox this machine cannot run; the message says why and what to do.
    #[error("{0}")]
    Unavailable(String),
    #[error("the workspace {0} does not exist or is not a folder")]
    Workspace(String),
    #[error(transparent)]
    Store(#[from] berth_store::store::StoreError),
    #[error("{0}")]
    Other(String),
}

/// Creating, finding and controlling sandboxes of one kind.
#[async_trait]
pub trait SandboxService: Send + Sync {
    fn kind(&self) -> SandboxKind;
    /// Starts a sandbox and waits until its agent-server answers.
    async fn create(&self, spec: &SandboxSpec) -> Result<Sandbox, SandboxError>;
    /// The sandbox with its status checked now (a dead process shows as `missing`).
    async fn get(&self, id: &str) -> Result<Sandbox, SandboxError>;
    async fn list(&self) -> Result<Vec<Sandbox>, SandboxError>;
    async fn pause(&self, id: &str) -> Result<Sandbox, SandboxError>;
    async fn resume(&self, id: &str) -> Result<Sandbox, SandboxError>;
    /// Stops it and removes every trace of it but the conversations it ran.
    async fn delete(&self, id: &str) -> Result<(), SandboxError>;
    /// The key its agent-server requires.
    async fn session_key(&self, id: &str) -> Result<String, SandboxError>;
    /// Where the sandbox reaches a service of the app's (the LLM gateway) on this machine.
    async fn host_address(&self, id: &str) -> Result<HostAddress, SandboxError>;
    /// Its recent log lines (bounded).
    fn logs(&self, id: &str) -> Vec<String>;
    /// Marks a sandbox as used now (for the running limit and idle pausing).
    fn touch(&self, id: &str) -> Result<(), SandboxError>;
    /// What a slow `create` is doing (the image build's steps), as it happens; `None` when this
    /// kind has nothing slow to tell.
    fn progress(&self) -> Option<tokio::sync::broadcast::Receiver<String>> {
        None
    }

    /// Pauses running sandboxes unused for longer than `idle`; returns their ids.
    async fn pause_idle(&self, idle: Duration) -> Result<Vec<String>, SandboxError> {
        let cutoff = chrono::Utc::now() - chrono::Duration::from_std(idle).unwrap_or_default();
        let cutoff = cutoff.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
        let mut paused = Vec::new();
        for s in self.list().await? {
            if s.status == SandboxStatus::Running && s.last_used_at <= cutoff {
                self.pause(&s.id).await?;
                paused.push(s.id);
            }
        }
        Ok(paused)
    }

    /// Removes the sandboxes whose process or container is gone (what an app does when it
    /// starts); their conversations stay, they live outside any sandbox. Returns the ids removed.
    async fn prune_missing(&self) -> Result<Vec<String>, SandboxError> {
        let mut removed = Vec::new();
        for s in self.list().await? {
            if s.status == SandboxStatus::Missing {
                self.delete(&s.id).await?;
                removed.push(s.id);
            }
        }
        Ok(removed)
    }
}

/// Removes a deleted sandbox's folder (its keys file, logs); one already gone is fine, any
/// other failure is logged (the sandbox is deleted either way).
fn remove_sandbox_dir(dir: &std::path::Path) {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            tracing::warn!(folder = %dir.display(), error = %e, "could not remove a deleted sandbox's folder")
        }
    }
}
