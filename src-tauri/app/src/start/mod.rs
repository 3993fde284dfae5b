//! The start task: "start a conversation on this repository" as a sequence of observable states,
//! the same as OpenHands' app server —
//! `WORKING → WAITING_FOR_SANDBOX → PREPARING_REPOSITORY → RUNNING_SETUP_SCRIPT →
//! SETTING_UP_GIT_HOOKS → SETTING_UP_SKILLS → STARTING_CONVERSATION → READY`, or `ERROR` with a
//! reason the user can act on. Every transition is stored (with its time) and published.
//! The request is stored without its secrets (LLM key, git token).

mod repo;
mod steps;

use std::path::PathBuf;
use std::sync::Arc;

use berth_protocol::{ConfirmationPolicy, LlmConfig};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::broadcast;

use crate::conversation_records::ConversationRecords;
use crate::llm_gateway::LlmGateway;
use crate::paths::Paths;
use crate::repository::Repository;
use crate::sandbox::SandboxService;
use crate::store::{Store, StoreError};
use crate::time::now;

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
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum StartStatus {
    Working,
    WaitingForSandbox,
    PreparingRepository,
    RunningSetupScript,
    SettingUpGitHooks,
    SettingUpSkills,
    StartingConversation,
    Ready,
    Error,
}

impl StartStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// READY or ERROR: the task is over.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Ready | Self::Error)
    }

    /// A stored status; one this Berth does not know reads as ERROR (the task cannot go on).
    fn parse(s: &str) -> Self {
        s.parse().unwrap_or(Self::Error)
    }
}

/// Whether a start runs the repository's `.openhands/setup.sh`. A repository that came through a
/// link is someone else's code: in a process sandbox (not confined) its script would run as the
/// user, so the form asks first and sends `skip` unless the user agreed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum SetupScript {
    #[default]
    Run,
    Skip,
}

#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct StartRequest {
    pub repository: Repository,
    /// The first message; the agent starts on it at once.
    #[serde(default)]
    pub task: Option<String>,
    pub llm: LlmConfig,
    /// The LLM profile `llm` came from: the gateway reads its key from the keychain at each
    /// call. `None`: the key in `llm` is used, held in memory only.
    #[serde(default)]
    pub llm_profile: Option<String>,
    #[serde(default)]
    pub confirmation_policy: ConfirmationPolicy,
    #[serde(default = "default_iterations")]
    pub max_iterations: u32,
    /// Events kept before older ones are summarized by the same LLM; `None`: never condensed.
    #[serde(default)]
    pub condense_after: Option<usize>,
    /// Seconds `.openhands/setup.sh` may run.
    #[serde(default = "default_setup_timeout")]
    pub setup_timeout: u64,
    /// A token for cloning a private repository (never stored).
    #[serde(default, skip_serializing)]
    pub git_token: Option<String>,
    /// The install's key for sealing conversation secrets (never stored here, never given to a
    /// sandbox: the start derives the conversation's own key from it).
    #[serde(default, skip_serializing)]
    pub sealing_key: Option<String>,
    /// Custom secrets handed to the conversation through the agent-server's secrets API:
    /// (name, value, description). Never stored here.
    #[serde(default, skip)]
    pub secrets: Vec<(String, String, Option<String>)>,
    /// Pick up an existing conversation (its id) instead of creating one: it goes on in the new
    /// sandbox from the events stored outside any sandbox.
    #[serde(default)]
    pub continue_conversation: Option<String>,
    #[serde(default)]
    pub setup_script: SetupScript,
    /// How a process sandbox confines the agent's commands (from the settings).
    #[serde(default)]
    pub confinement: crate::sandbox::ConfinementSettings,
    /// Who the agent's commits are by (from the settings).
    #[serde(default)]
    pub git_identity: crate::sandbox::GitIdentity,
    /// The agent's MCP servers, as OpenHands' `mcp_config` (from the settings); their
    /// credentials are `${SECRET}` references to `secrets`.
    #[serde(default)]
    #[ts(type = "Record<string, unknown> | null")]
    pub mcp_config: Option<serde_json::Value>,
}

/// How long a repository's setup script may run, in seconds, unless the request says.
pub const DEFAULT_SETUP_TIMEOUT_SECS: u64 = 600;

fn default_iterations() -> u32 {
    berth_protocol::api::DEFAULT_MAX_ITERATIONS
}
fn default_setup_timeout() -> u64 {
    DEFAULT_SETUP_TIMEOUT_SECS
}

impl StartRequest {
    /// The request as stored: no LLM key, no git token.
    fn redacted(&self) -> Value {
        let mut r = self.clone();
        r.llm = r.llm.redacted();
        r.git_token = None;
        r.sealing_key = None;
        r.secrets.clear();
        serde_json::to_value(r).unwrap_or(Value::Null)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct StartTask {
    pub id: String,
    pub status: StartStatus,
    /// What is happening, or for ERROR what went wrong and what to do.
    pub detail: Option<String>,
    pub sandbox_id: Option<String>,
    pub conversation_id: Option<String>,
    /// The workspace on the host.
    pub workspace: Option<PathBuf>,
    /// What `.openhands/setup.sh` printed.
    pub setup_output: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("no start task {0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Starts conversations in sandboxes of one service.
#[derive(Clone)]
pub struct StartTaskService {
    store: Store,
    paths: Paths,
    sandboxes: Arc<dyn SandboxService>,
    gateway: LlmGateway,
    /// Where a started conversation is recorded, before READY is announced.
    records: ConversationRecords,
    updates: broadcast::Sender<StartTask>,
}

/// A step failed: the message is for the user.
struct Failed(String);

impl<E: std::fmt::Display> From<E> for Failed {
    fn from(e: E) -> Self {
        Failed(e.to_string())
    }
}

impl StartTaskService {
    pub fn new(
        store: Store,
        paths: Paths,
        sandboxes: Arc<dyn SandboxService>,
        gateway: LlmGateway,
    ) -> Self {
        let (updates, _) = broadcast::channel(256);
        Self {
            records: ConversationRecords::new(store.clone()),
            store,
            paths,
            sandboxes,
            gateway,
            updates,
        }
    }

    /// The gateway its sandboxes reach their LLM through.
    pub fn gateway(&self) -> &LlmGateway {
        &self.gateway
    }

    /// Every change of every start task, as it happens.
    pub fn subscribe(&self) -> broadcast::Receiver<StartTask> {
        self.updates.subscribe()
    }

    pub fn get(&self, id: &str) -> Result<StartTask, StartError> {
        let conn = self.store.lock();
        conn.query_row(
            "SELECT id, status, detail, sandbox_id, conversation_id, workspace, setup_output, created_at, updated_at FROM start_tasks WHERE id = ?1",
            params![id],
            |r| {
                Ok(StartTask {
                    id: r.get(0)?,
                    status: StartStatus::parse(&r.get::<_, String>(1)?),
                    detail: r.get(2)?,
                    sandbox_id: r.get(3)?,
                    conversation_id: r.get(4)?,
                    workspace: r.get::<_, Option<String>>(5)?.map(PathBuf::from),
                    setup_output: r.get(6)?,
                    created_at: r.get(7)?,
                    updated_at: r.get(8)?,
                })
            },
        )
        .optional()
        .map_err(StoreError::from)?
        .ok_or_else(|| StartError::NotFound(id.to_string()))
    }

    /// Tasks whose state matches, oldest first.
    fn matching(&self, wanted: impl Fn(StartStatus) -> bool) -> Result<Vec<StartTask>, StartError> {
        let ids: Vec<String> = {
            let conn = self.store.lock();
            let mut stmt = conn
                .prepare("SELECT id, status FROM start_tasks ORDER BY created_at")
                .map_err(StoreError::from)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                .map_err(StoreError::from)?;
            rows.filter_map(Result::ok)
                .filter(|(_, s)| wanted(StartStatus::parse(s)))
                .map(|(id, _)| id)
                .collect()
        };
        ids.iter().map(|id| self.get(id)).collect()
    }

    /// Marks the tasks the app left unfinished when it stopped as ERROR (removing their
    /// sandboxes), so the user sees what happened. Call before starting anything.
    pub async fn fail_interrupted(&self) -> Result<Vec<String>, StartError> {
        let unfinished = self.matching(|s| !s.is_final())?;
        let mut ids = Vec::new();
        for mut task in unfinished {
            if let Some(sandbox) = task.sandbox_id.clone()
                && let Err(e) = self.sandboxes.delete(&sandbox).await
            {
                tracing::warn!(%sandbox, error = %e, "could not remove the sandbox of an interrupted start");
            }
            let was = task.status.as_str();
            self.record(
                &mut task,
                StartStatus::Error,
                Some(format!(
                    "Berth stopped while this conversation was starting ({was}). Start it again."
                )),
            )?;
            ids.push(task.id);
        }
        Ok(ids)
    }

    /// The states a task went through, oldest first.
    pub fn transitions(&self, id: &str) -> Result<Vec<(StartStatus, Option<String>)>, StartError> {
        let conn = self.store.lock();
        let mut stmt = conn.prepare("SELECT status, detail FROM start_task_transitions WHERE task_id = ?1 ORDER BY rowid").map_err(StoreError::from)?;
        let rows = stmt
            .query_map(params![id], |r| {
                Ok((StartStatus::parse(&r.get::<_, String>(0)?), r.get(1)?))
            })
            .map_err(StoreError::from)?;
        Ok(rows
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::from)?)
    }

    /// Moves the task to `status`: its row, one more transition in its history, an update.
    fn record(
        &self,
        task: &mut StartTask,
        status: StartStatus,
        detail: Option<String>,
    ) -> Result<(), StoreError> {
        task.status = status;
        task.detail = detail;
        task.updated_at = now();
        {
            let conn = self.store.lock();
            write_row(&conn, task)?;
            conn.execute(
                "INSERT INTO start_task_transitions (task_id, status, detail, at) VALUES (?1, ?2, ?3, ?4)",
                params![task.id, status.as_str(), task.detail, task.updated_at],
            )?;
        }
        let _ = self.updates.send(task.clone());
        Ok(())
    }

    /// Says what the current stage is doing now (an image build's step): its row and an
    /// update, but no transition, so the history keeps stages rather than every line.
    fn note(&self, task: &mut StartTask, detail: String) -> Result<(), StoreError> {
        task.detail = Some(detail);
        task.updated_at = now();
        write_row(&self.store.lock(), task)?;
        let _ = self.updates.send(task.clone());
        Ok(())
    }

    /// Records a new task and runs it in the background; returns it in state WORKING.
    /// Records a new task and runs it in the background; the handle yields the task as it
    /// ended (READY or ERROR).
    pub fn spawn(
        &self,
        request: StartRequest,
    ) -> Result<(StartTask, tokio::task::JoinHandle<StartTask>), StartError> {
        let task = self.create(&request)?;
        let service = self.clone();
        let mut running = task.clone();
        let ended = tokio::spawn(async move {
            service.drive(&mut running, request).await;
            running
        });
        Ok((task, ended))
    }

    /// Records a new task and runs it to READY or ERROR.
    pub async fn start(&self, request: StartRequest) -> Result<StartTask, StartError> {
        let mut task = self.create(&request)?;
        self.drive(&mut task, request).await;
        Ok(task)
    }

    fn create(&self, request: &StartRequest) -> Result<StartTask, StartError> {
        let stamp = now();
        let mut task = StartTask {
            id: uuid::Uuid::new_v4().simple().to_string(),
            status: StartStatus::Working,
            detail: None,
            sandbox_id: None,
            conversation_id: None,
            workspace: None,
            setup_output: None,
            created_at: stamp.clone(),
            updated_at: stamp.clone(),
        };
        self.store.lock().execute(
            "INSERT INTO start_tasks (id, status, request, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
            params![task.id, StartStatus::Working.as_str(), request.redacted().to_string(), stamp],
        ).map_err(StoreError::from)?;
        self.record(
            &mut task,
            StartStatus::Working,
            Some("Checking the request".into()),
        )?;
        Ok(task)
    }

    async fn drive(&self, task: &mut StartTask, request: StartRequest) {
        if let Err(Failed(reason)) = self.steps(task, &request).await {
            tracing::warn!(task = %task.id, %reason, "start task failed");
            // A failed start leaves no sandbox running behind it.
            if let Some(id) = task.sandbox_id.clone()
                && let Err(e) = self.sandboxes.delete(&id).await
            {
                tracing::warn!(sandbox = %id, error = %e, "could not remove the sandbox of a failed start");
            }
            if let Err(e) = self.record(task, StartStatus::Error, Some(reason)) {
                tracing::error!(task = %task.id, error = %e, "could not record that a start failed");
            }
        }
    }
}

fn write_row(conn: &rusqlite::Connection, task: &StartTask) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE start_tasks SET status = ?2, detail = ?3, sandbox_id = ?4, conversation_id = ?5, workspace = ?6, setup_output = ?7, updated_at = ?8 WHERE id = ?1",
        params![
            task.id,
            task.status.as_str(),
            task.detail,
            task.sandbox_id,
            task.conversation_id,
            task.workspace.as_ref().map(|w| w.display().to_string()),
            task.setup_output,
            task.updated_at
        ],
    )?;
    Ok(())
}
