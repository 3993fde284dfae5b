//! Conversations as the user handles them: started through the start task with the settings'
//! LLM profile and the keychain's secrets, listed, searched, renamed, exported, deleted; messages,
//! runs, pauses, confirmations and side questions go to the conversation's agent-server. A
//! conversation whose sandbox is gone stays readable from the mirror and goes on in a new one.

mod archive;
mod live;
mod query;

mod request;
mod watch;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

use berth_protocol::Event;
use serde::{Deserialize, Serialize};

pub use crate::conversation_records::{
    ConversationPage, ConversationRecords, ConversationSummary, NewRecord, PageRequest, SortBy,
};
use live::Live;
pub use query::{SearchHit, export, search};

pub use watch::RunWatch;

use crate::agent_client::{AgentClient, ClientError};
use crate::bridge::EventBridge;
use crate::paths::Paths;
use crate::repository::Repository;
use crate::sandbox::{SandboxError, SandboxService, SandboxStatus};
use crate::secrets::{SecretError, SecretKind, SecretStore};
use crate::settings::{SettingsError, SettingsService};
use crate::start::{
    SetupScript, StartError, StartRequest, StartStatus, StartTask, StartTaskService,
};
use crate::store::StoreError;
use crate::watcher::{SandboxGit, WorkspaceWatcher};

#[derive(Debug, thiserror::Error)]
pub enum ConversationError {
    #[error("no conversation {0}")]
    NotFound(String),
    #[error(
        "the sandbox of conversation {0} is gone; the conversation can still be read, and continued in a new sandbox"
    )]
    Archived(String),
    #[error("no LLM is set up: add a profile in Settings → LLM and make it active")]
    NoModel,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Agent(#[from] ClientError),
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    #[error(transparent)]
    Secrets(#[from] SecretError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Start(#[from] StartError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Io(String),
}

/// What the user asks for when starting a conversation.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct NewConversation {
    pub repository: Repository,
    /// The first message; the agent starts on it at once.
    #[serde(default)]
    pub task: Option<String>,
    /// The LLM profile by name; `None` = the active one.
    #[serde(default)]
    pub profile: Option<String>,
    /// Whether the repository's setup script runs (the form asks for a repository from a link).
    #[serde(default)]
    pub setup_script: SetupScript,
}

/// What conversations are made with; the app wires these once.
pub struct ConversationParts {
    pub paths: Paths,
    pub records: ConversationRecords,
    pub settings: SettingsService,
    pub secrets: SecretStore,
    pub sandboxes: Arc<dyn SandboxService>,
    pub starts: StartTaskService,
    pub bridge: EventBridge,
    pub watcher: WorkspaceWatcher,
}

#[derive(Clone)]
pub struct ConversationService {
    inner: Arc<Inner>,
}

struct Inner {
    paths: Paths,
    records: ConversationRecords,
    settings: SettingsService,
    secrets: SecretStore,
    sandboxes: Arc<dyn SandboxService>,
    starts: StartTaskService,
    bridge: EventBridge,
    watcher: WorkspaceWatcher,
    /// Each followed conversation's live connection: its event bridge and one client for its
    /// sandbox (the session key read once, one HTTP client), by conversation id.
    follows: Mutex<HashMap<String, Live>>,
    /// Messages sent while a start task runs, by task id; delivered when it is READY.
    queued: Mutex<HashMap<String, Vec<String>>>,
}

impl ConversationService {
    pub fn new(parts: ConversationParts) -> Self {
        Self {
            inner: Arc::new(Inner {
                paths: parts.paths,
                records: parts.records,
                settings: parts.settings,
                secrets: parts.secrets,
                sandboxes: parts.sandboxes,
                starts: parts.starts,
                bridge: parts.bridge,
                watcher: parts.watcher,
                follows: Mutex::new(HashMap::new()),
                queued: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Starts a conversation in a new sandbox; returns the start task (WORKING). Its progress
    /// comes through [`StartTaskService::subscribe`]; at READY the conversation is recorded and
    /// followed, and messages sent meanwhile are delivered.
    pub fn start(&self, new: NewConversation) -> Result<StartTask, ConversationError> {
        let mut request = self.request(new.repository, new.task, new.profile.as_deref(), None)?;
        request.setup_script = new.setup_script;
        self.launch(request)
    }

    /// Continues a conversation whose sandbox is gone in a new sandbox on the same workspace,
    /// with an optional new message.
    pub fn continue_in_new_sandbox(
        &self,
        id: &str,
        message: Option<String>,
    ) -> Result<StartTask, ConversationError> {
        let conv = self.summary(id)?;
        let workspace = conv.workspace.clone().ok_or_else(|| {
            ConversationError::Invalid(format!("conversation {id} has no workspace to go on in"))
        })?;
        if !Path::new(&workspace).is_dir() {
            return Err(ConversationError::Invalid(format!(
                "the workspace {workspace} of conversation {id} is gone; it can only be read"
            )));
        }
        self.forget_follow(id);
        let request = self.request(
            Repository::LocalFolder {
                path: workspace.into(),
            },
            message,
            None,
            Some(id.to_string()),
        )?;
        self.launch(request)
    }

    fn launch(&self, request: StartRequest) -> Result<StartTask, ConversationError> {
        let (task, ended) = self.inner.starts.spawn(request)?;
        let service = self.clone();
        tokio::spawn(async move {
            let done = match ended.await {
                Ok(done) => done,
                Err(e) => {
                    tracing::error!(error = %e, "a start task stopped before it ended");
                    return;
                }
            };
            if done.status == StartStatus::Ready {
                if let Err(e) = service.adopt(&done).await {
                    tracing::warn!(task = %done.id, error = %e, "could not take over a started conversation");
                }
            } else {
                let lost = service.take_queued(&done.id);
                if !lost.is_empty() {
                    tracing::warn!(task = %done.id, messages = lost.len(), "the start failed; queued messages were not delivered");
                }
            }
        });
        Ok(task)
    }

    /// Follows a READY start task's conversation (the start task recorded it) and delivers the
    /// messages queued meanwhile.
    async fn adopt(&self, task: &StartTask) -> Result<(), ConversationError> {
        let (Some(id), Some(sandbox_id)) = (&task.conversation_id, &task.sandbox_id) else {
            return Ok(());
        };
        let (client, sandbox) = self.follow(id, sandbox_id).await?;
        self.watch_workspace(id, &client, &sandbox);
        for message in self.take_queued(&task.id) {
            client.send_message(id, &message, true).await?;
        }
        Ok(())
    }

    fn take_queued(&self, task_id: &str) -> Vec<String> {
        self.inner
            .queued
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(task_id)
            .unwrap_or_default()
    }

    /// Follows a conversation's events in its sandbox (once); returns a client for it.
    async fn follow(
        &self,
        id: &str,
        sandbox_id: &str,
    ) -> Result<(AgentClient, crate::sandbox::Sandbox), ConversationError> {
        let sandbox = self.inner.sandboxes.get(sandbox_id).await?;
        Ok((self.follow_in(id, &sandbox).await?, sandbox))
    }

    fn watch_workspace(&self, id: &str, client: &AgentClient, sandbox: &crate::sandbox::Sandbox) {
        let git = SandboxGit {
            client: client.clone(),
            workspace: sandbox.workspace.display().to_string(),
        };
        if let Err(e) = self.inner.watcher.watch(id, &sandbox.host_workspace, git) {
            tracing::warn!(conversation = %id, error = %e, "changed files will not update live");
        }
    }

    /// Follows every conversation whose sandbox is still there (after the app starts); the
    /// `owner` of the home first marks the starts an app left unfinished as failed.
    pub async fn reattach(&self, owner: bool) -> Result<usize, ConversationError> {
        if owner {
            self.inner.starts.fail_interrupted().await?;
        }
        let live = self.inner.records.live()?;
        if !live.is_empty() {
            self.mask_llm_keys();
        }
        let mut n = 0;
        for (id, sandbox_id) in live {
            match self.follow(&id, &sandbox_id).await {
                Ok((client, sandbox)) => {
                    self.watch_workspace(&id, &client, &sandbox);
                    n += 1
                }
                Err(e) => {
                    tracing::warn!(conversation = %id, error = %e, "cannot follow a conversation")
                }
            }
        }
        Ok(n)
    }

    /// Registers every LLM profile's key with the masker (after a restart, for the conversations
    /// that go on); a keychain that does not answer leaves them unmasked, which is logged.
    fn mask_llm_keys(&self) {
        let profiles = match self.inner.settings.load() {
            Ok(s) => s.llm_profiles,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the LLM profiles to mask their keys");
                return;
            }
        };
        for profile in profiles {
            match self.inner.secrets.get(SecretKind::Llm, &profile.name) {
                Ok(Some(key)) => self.inner.bridge.mask(&key),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(profile = %profile.name, error = %e, "cannot read an LLM key to mask it")
                }
            }
        }
    }

    /// A client for a live conversation: its sandbox resumed if paused, marked as used.
    async fn client(&self, id: &str) -> Result<AgentClient, ConversationError> {
        Ok(self.live(id).await?.0)
    }

    /// [`Self::client`], with the sandbox it reaches.
    async fn live(
        &self,
        id: &str,
    ) -> Result<(AgentClient, crate::sandbox::Sandbox), ConversationError> {
        let conv = self.summary(id)?;
        let sandbox_id = conv
            .sandbox_id
            .ok_or_else(|| ConversationError::Archived(id.to_string()))?;
        let sandboxes = &self.inner.sandboxes;
        let sandbox = match sandboxes.get(&sandbox_id).await {
            Ok(s) if s.status == SandboxStatus::Missing => {
                return Err(ConversationError::Archived(id.to_string()));
            }
            Ok(s) => s,
            Err(SandboxError::NotFound(_)) => {
                return Err(ConversationError::Archived(id.to_string()));
            }
            Err(e) => return Err(e.into()),
        };
        if sandbox.status == SandboxStatus::Paused {
            sandboxes.resume(&sandbox_id).await?;
        }
        sandboxes.touch(&sandbox_id)?;
        let client = self.follow_in(id, &sandbox).await?;
        Ok((client, sandbox))
    }

    fn summary(&self, id: &str) -> Result<ConversationSummary, ConversationError> {
        self.inner
            .records
            .get(id)?
            .ok_or_else(|| ConversationError::NotFound(id.to_string()))
    }

    /// Stores the events of the conversation's agent-server that the mirror lacks (after the
    /// app was away). Returns how many.
    pub async fn catch_up(&self, id: &str) -> Result<usize, ConversationError> {
        let client = self.client(id).await?;
        self.inner
            .bridge
            .catch_up(&client, id)
            .await
            .map_err(|e| match e {
                crate::bridge::BridgeError::Client(c) => ConversationError::Agent(c),
                crate::bridge::BridgeError::Store(s) => ConversationError::Store(s),
            })
    }

    /// Sends a message and runs the agent on it.
    pub async fn send(&self, id: &str, text: &str) -> Result<(), ConversationError> {
        check_message(text)?;
        Ok(self.client(id).await?.send_message(id, text, true).await?)
    }

    /// Sends a message to the conversation a start task is creating: at once when it is READY,
    /// else when it becomes READY.
    pub async fn send_to_start(&self, task_id: &str, text: &str) -> Result<(), ConversationError> {
        check_message(text)?;
        let task = self.inner.starts.get(task_id)?;
        match (task.status, &task.conversation_id) {
            (StartStatus::Ready, Some(id)) if self.inner.records.get(id)?.is_some() => {
                self.send(id, text).await
            }
            (StartStatus::Error, _) => Err(ConversationError::Invalid(format!(
                "the conversation did not start: {}",
                task.detail.unwrap_or_default()
            ))),
            _ => {
                self.inner
                    .queued
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(task_id.to_string())
                    .or_default()
                    .push(text.to_string());
                Ok(())
            }
        }
    }

    pub async fn run(&self, id: &str) -> Result<(), ConversationError> {
        match self.client(id).await?.run(id).await {
            // Running already is what the user wanted.
            Err(ClientError::Http { status: 409, .. }) | Ok(()) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn pause(&self, id: &str) -> Result<(), ConversationError> {
        Ok(self.client(id).await?.pause(id).await?)
    }

    /// Resumes a paused conversation (its sandbox too).
    pub async fn resume(&self, id: &str) -> Result<(), ConversationError> {
        self.run(id).await
    }

    /// The files of the workspace's `.git/` that the user's git would run and that changed since
    /// before the agent first ran (none when there was no repository or no record of it).
    pub fn git_tampering(
        &self,
        id: &str,
    ) -> Result<Vec<crate::git_tampering::GitTamper>, ConversationError> {
        let conv = self.summary(id)?;
        let (Some(workspace), Some(before)) =
            (conv.workspace, self.inner.records.git_fingerprint(id)?)
        else {
            return Ok(Vec::new());
        };
        let before: crate::git_tampering::GitFingerprint =
            serde_json::from_str(&before).map_err(|e| {
                ConversationError::Invalid(format!("the stored .git/ fingerprint: {e}"))
            })?;
        let now = crate::git_tampering::GitFingerprint::of(Path::new(&workspace));
        Ok(before.changes(&now))
    }

    /// Accepts the actions waiting for confirmation, or rejects them with a reason.
    pub async fn confirm(
        &self,
        id: &str,
        accept: bool,
        reason: Option<&str>,
    ) -> Result<(), ConversationError> {
        Ok(self
            .client(id)
            .await?
            .respond_to_confirmation(id, accept, reason)
            .await?)
    }

    /// Runs a command of the user's in the conversation's sandbox, in its workspace (two minutes
    /// at most); the agent does not see it.
    pub async fn run_command(
        &self,
        id: &str,
        command: &str,
    ) -> Result<crate::agent_client::CommandOutput, ConversationError> {
        check_message(command)?;
        let (client, sandbox) = self.live(id).await?;
        Ok(client
            .execute(
                command,
                &sandbox.workspace.display().to_string(),
                std::time::Duration::from_secs(120),
            )
            .await?)
    }

    /// The last lines its sandbox's agent-server printed (kept while this app runs; none when
    /// the conversation has no sandbox any more).
    pub fn sandbox_logs(&self, id: &str) -> Result<Vec<String>, ConversationError> {
        Ok(match self.summary(id)?.sandbox_id {
            Some(sandbox) => self.inner.sandboxes.logs(&sandbox),
            None => Vec::new(),
        })
    }

    /// A side question, answered without entering the conversation's history.
    pub async fn ask(&self, id: &str, question: &str) -> Result<String, ConversationError> {
        check_message(question)?;
        Ok(self.client(id).await?.ask(id, question).await?)
    }

    /// Its MCP servers as its sandbox runs them: health, errors, tools.
    pub async fn mcp_servers(
        &self,
        id: &str,
    ) -> Result<Vec<berth_protocol::McpServerState>, ConversationError> {
        Ok(self.client(id).await?.mcp_servers(id).await?)
    }

    pub fn list(&self, page: PageRequest) -> Result<ConversationPage, ConversationError> {
        Ok(self.inner.records.list(page)?)
    }

    pub fn get(&self, id: &str) -> Result<ConversationSummary, ConversationError> {
        self.summary(id)
    }

    /// Its mirrored events, oldest first (readable with or without a sandbox).
    pub fn events(&self, id: &str) -> Result<Vec<Event>, ConversationError> {
        self.summary(id)?;
        Ok(self.inner.bridge.mirror().events(id)?)
    }

    pub fn rename(&self, id: &str, title: &str) -> Result<(), ConversationError> {
        let title = title.trim();
        if title.is_empty() || title.chars().count() > 200 {
            return Err(ConversationError::Invalid(
                "a title has 1 to 200 characters".into(),
            ));
        }
        if self.inner.records.rename(id, title)? {
            Ok(())
        } else {
            Err(ConversationError::NotFound(id.to_string()))
        }
    }

    /// Full-text search: titles first, then messages, commands, outputs and errors.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>, ConversationError> {
        search(
            &self.inner.records,
            self.inner.bridge.mirror(),
            query,
            limit,
        )
    }

    /// Writes the conversation as a zip: `meta.json` and one JSON file per event.
    pub fn export(&self, id: &str, dest: &Path) -> Result<usize, ConversationError> {
        export(&self.inner.records, self.inner.bridge.mirror(), id, dest)
    }

    /// Deletes the conversation everywhere: its agent-server's copy, its sandbox (unless another
    /// conversation uses it), and the mirror.
    pub async fn delete(&self, id: &str) -> Result<(), ConversationError> {
        let conv = self.summary(id)?;
        self.forget_follow(id);
        self.inner.watcher.unwatch(id);
        if !conv.archived
            && let Ok(client) = self.client(id).await
        {
            match client.delete_conversation(id).await {
                Ok(()) | Err(ClientError::Http { status: 404, .. }) => {}
                Err(e) => {
                    tracing::warn!(conversation = %id, error = %e, "the agent-server could not delete it; removing its files")
                }
            }
            self.forget_follow(id);
        }
        // The conversation's own folder goes too (the agent-server removes only what is inside).
        if let Ok(uuid) = uuid::Uuid::parse_str(id) {
            let dir = self
                .inner
                .paths
                .conversations()
                .join(uuid.simple().to_string());
            if dir.exists() {
                std::fs::remove_dir_all(&dir).map_err(|e| {
                    ConversationError::Io(format!("cannot remove {}: {e}", dir.display()))
                })?;
            }
        }
        if let Some(sandbox_id) = &conv.sandbox_id
            && self.inner.records.using_sandbox(sandbox_id)? <= 1
        {
            match self.inner.sandboxes.delete(sandbox_id).await {
                Ok(()) | Err(SandboxError::NotFound(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.inner.records.delete(id)?;
        Ok(())
    }

    /// Starts watching a conversation's events (before sending it anything, so nothing that
    /// follows is missed).
    pub fn watch(&self, id: &str) -> RunWatch {
        RunWatch {
            id: id.to_string(),
            updates: self.inner.bridge.subscribe(),
            mirror: self.inner.bridge.mirror().clone(),
            seen: HashSet::new(),
        }
    }
}

fn check_message(text: &str) -> Result<(), ConversationError> {
    if text.trim().is_empty() {
        return Err(ConversationError::Invalid("the message is empty".into()));
    }
    Ok(())
}
