//! The start task: "start a conversation on this repository" as a sequence of observable states,
//! the same as OpenHands' app server —
//! `WORKING → WAITING_FOR_SANDBOX → PREPARING_REPOSITORY → RUNNING_SETUP_SCRIPT →
//! SETTING_UP_GIT_HOOKS → SETTING_UP_SKILLS → STARTING_CONVERSATION → READY`, or `ERROR` with a
//! reason the user can act on. Every transition is stored (with its time) and published.
//! The request is stored without its secrets (LLM key, git token).

mod repo;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use berth_protocol::{ConfirmationPolicy, LlmConfig};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::broadcast;

pub use repo::HOOK_MARKER;

use crate::agent_client::AgentClient;
use crate::paths::Paths;
use crate::sandbox::{SandboxKind, SandboxService, SandboxSpec, now};
use crate::store::{Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
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
        match self {
            Self::Working => "WORKING",
            Self::WaitingForSandbox => "WAITING_FOR_SANDBOX",
            Self::PreparingRepository => "PREPARING_REPOSITORY",
            Self::RunningSetupScript => "RUNNING_SETUP_SCRIPT",
            Self::SettingUpGitHooks => "SETTING_UP_GIT_HOOKS",
            Self::SettingUpSkills => "SETTING_UP_SKILLS",
            Self::StartingConversation => "STARTING_CONVERSATION",
            Self::Ready => "READY",
            Self::Error => "ERROR",
        }
    }

    fn parse(s: &str) -> Self {
        serde_json::from_value(Value::String(s.to_string())).unwrap_or(Self::Error)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Repository {
    /// A folder on this machine, used in place.
    LocalFolder { path: PathBuf },
    /// A git URL, cloned into Berth's workspaces folder.
    GitUrl {
        url: String,
        #[serde(default)]
        branch: Option<String>,
        /// Create this branch after cloning, for the agent's work.
        #[serde(default)]
        new_branch: Option<String>,
        /// Full history instead of a shallow clone.
        #[serde(default)]
        full_clone: bool,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StartRequest {
    pub repository: Repository,
    /// The first message; the agent starts on it at once.
    #[serde(default)]
    pub task: Option<String>,
    pub llm: LlmConfig,
    #[serde(default)]
    pub confirmation_policy: ConfirmationPolicy,
    #[serde(default = "default_iterations")]
    pub max_iterations: u32,
    /// Seconds `.openhands/setup.sh` may run.
    #[serde(default = "default_setup_timeout")]
    pub setup_timeout: u64,
    /// A token for cloning a private repository (never stored).
    #[serde(default, skip_serializing)]
    pub git_token: Option<String>,
    /// The install's key for sealing conversation secrets (never stored here).
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
}

fn default_iterations() -> u32 {
    500
}
fn default_setup_timeout() -> u64 {
    600
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    pub fn new(store: Store, paths: Paths, sandboxes: Arc<dyn SandboxService>) -> Self {
        let (updates, _) = broadcast::channel(256);
        Self {
            store,
            paths,
            sandboxes,
            updates,
        }
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
            conn.execute(
                "UPDATE start_tasks SET status = ?2, detail = ?3, sandbox_id = ?4, conversation_id = ?5, workspace = ?6, setup_output = ?7, updated_at = ?8 WHERE id = ?1",
                params![
                    task.id,
                    status.as_str(),
                    task.detail,
                    task.sandbox_id,
                    task.conversation_id,
                    task.workspace.as_ref().map(|w| w.display().to_string()),
                    task.setup_output,
                    task.updated_at
                ],
            )?;
            conn.execute(
                "INSERT INTO start_task_transitions (task_id, status, detail, at) VALUES (?1, ?2, ?3, ?4)",
                params![task.id, status.as_str(), task.detail, task.updated_at],
            )?;
        }
        let _ = self.updates.send(task.clone());
        Ok(())
    }

    /// Records a new task and runs it in the background; returns it in state WORKING.
    pub fn spawn(&self, request: StartRequest) -> Result<StartTask, StartError> {
        let task = self.create(&request)?;
        let service = self.clone();
        let mut running = task.clone();
        tokio::spawn(async move {
            service.drive(&mut running, request).await;
        });
        Ok(task)
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
            let _ = self.record(task, StartStatus::Error, Some(reason));
        }
    }

    /// Files Berth wrote in the workspace become the container user's, so the agent can change them.
    fn hand_to_sandbox(&self, workspace: &std::path::Path) {
        if self.sandboxes.kind() == SandboxKind::Docker {
            crate::sandbox::docker::share_with_container(workspace);
        }
    }

    async fn steps(&self, task: &mut StartTask, req: &StartRequest) -> Result<(), Failed> {
        if req.llm.model.trim().is_empty() {
            return Err(Failed(
                "No LLM model is set: choose one in Settings → LLM.".into(),
            ));
        }
        let (workspace, clone_from) = match &req.repository {
            Repository::LocalFolder { path } => {
                if !path.is_dir() {
                    return Err(Failed(format!(
                        "The folder {} does not exist. Choose an existing folder.",
                        path.display()
                    )));
                }
                (std::fs::canonicalize(path)?, None)
            }
            Repository::GitUrl { url, .. } => {
                if url.trim().is_empty() {
                    return Err(Failed("The repository URL is empty.".into()));
                }
                let dir = self.paths.workspaces().join(&task.id);
                std::fs::create_dir_all(&dir).map_err(|e| {
                    Failed(format!(
                        "cannot create the workspace {}: {e}",
                        dir.display()
                    ))
                })?;
                (dir, Some(url.clone()))
            }
        };
        task.workspace = Some(workspace.clone());

        self.record(
            task,
            StartStatus::WaitingForSandbox,
            Some(format!(
                "Starting a {} sandbox",
                self.sandboxes.kind().as_str()
            )),
        )?;
        let sandbox = self
            .sandboxes
            .create(&SandboxSpec {
                workspace: workspace.clone(),
                sealing_key: req.sealing_key.clone(),
            })
            .await?;
        task.sandbox_id = Some(sandbox.id.clone());
        let key = self.sandboxes.session_key(&sandbox.id).await?;
        let client = AgentClient::new(&sandbox.agent_url, key);

        self.record(
            task,
            StartStatus::PreparingRepository,
            Some("Preparing the repository".into()),
        )?;
        if let (
            Some(url),
            Repository::GitUrl {
                branch,
                new_branch,
                full_clone,
                ..
            },
        ) = (clone_from, &req.repository)
        {
            repo::clone(
                &url,
                &workspace,
                branch.as_deref(),
                new_branch.as_deref(),
                *full_clone,
                req.git_token.as_deref(),
            )
            .await
            .map_err(Failed)?;
            self.hand_to_sandbox(&workspace);
        }

        let sandbox_ws = sandbox.workspace.display().to_string();
        if workspace.join(".openhands/setup.sh").is_file() {
            self.record(
                task,
                StartStatus::RunningSetupScript,
                Some("Running .openhands/setup.sh".into()),
            )?;
            let timeout = Duration::from_secs(req.setup_timeout.max(1));
            let out = client
                .execute("bash .openhands/setup.sh", &sandbox_ws, timeout)
                .await?;
            let mut output = out.stdout.clone();
            if !out.stderr.is_empty() {
                output.push_str(&out.stderr);
            }
            let tail: String = output
                .lines()
                .rev()
                .take(15)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n");
            task.setup_output = Some(output);
            match out.exit_code {
                0 => {}
                -1 => {
                    return Err(Failed(format!(
                        "The setup script .openhands/setup.sh did not finish within {} s. Make it faster or raise the setup timeout. Last output:\n{tail}",
                        timeout.as_secs()
                    )));
                }
                code => {
                    return Err(Failed(format!(
                        "The setup script .openhands/setup.sh failed with exit code {code}. Fix the script or remove it. Last output:\n{tail}"
                    )));
                }
            }
        }

        self.record(
            task,
            StartStatus::SettingUpGitHooks,
            Some("Installing git hooks".into()),
        )?;
        if repo::install_pre_commit(&workspace).await.map_err(Failed)? {
            task.detail = Some("Installed .openhands/pre-commit.sh as the pre-commit hook".into());
            self.hand_to_sandbox(&workspace);
        }

        let skills = berth_agent::skills::load_repo_skills(&workspace);
        let names: Vec<&str> = skills.iter().map(|s| s.name.as_str()).collect();
        let detail = if names.is_empty() {
            "No repository skills".to_string()
        } else {
            format!("Repository skills: {}", names.join(", "))
        };
        self.record(task, StartStatus::SettingUpSkills, Some(detail))?;

        self.record(
            task,
            StartStatus::StartingConversation,
            Some("Creating the conversation".into()),
        )?;
        let mut llm = req.llm.clone();
        if self.sandboxes.kind() == SandboxKind::Docker {
            llm.base_url = llm.base_url.map(|u| reachable_from_container(&u));
        }
        let mut body = json!({
            "agent": {"kind": "Agent", "llm": llm, "tools": [{"name": "terminal"}, {"name": "file_editor"}, {"name": "task_tracker"}, {"name": "glob"}, {"name": "grep"}]},
            "workspace": {"working_dir": sandbox_ws},
            "confirmation_policy": req.confirmation_policy,
            "max_iterations": req.max_iterations,
        });
        let secrets: serde_json::Map<String, Value> = req
            .secrets
            .iter()
            .map(|(name, value, description)| {
                (
                    name.clone(),
                    json!({"kind": "StaticSecret", "value": value, "description": description}),
                )
            })
            .collect();
        let info = if let Some(id) = &req.continue_conversation {
            // Stored outside the sandbox, the conversation loads in the new one by its id; its
            // secrets come again through the secrets API, the new message goes after them.
            body["conversation_id"] = json!(id);
            let info = client.create_conversation(&body).await?;
            if !secrets.is_empty() {
                client
                    .set_secrets(&info.id, &Value::Object(secrets))
                    .await?;
            }
            if let Some(text) = req.task.as_deref().filter(|t| !t.trim().is_empty()) {
                client.send_message(&info.id, text, true).await?;
            }
            info
        } else {
            body["secrets"] = Value::Object(secrets);
            if let Some(text) = req.task.as_deref().filter(|t| !t.trim().is_empty()) {
                body["initial_message"] =
                    json!({"role": "user", "content": [{"type": "text", "text": text}]});
            }
            client.create_conversation(&body).await?
        };
        task.conversation_id = Some(info.id.clone());
        self.record(
            task,
            StartStatus::Ready,
            Some(format!(
                "Conversation {} is running in sandbox {}",
                info.id, sandbox.id
            )),
        )?;
        Ok(())
    }
}

/// An LLM server on the host's loopback (Ollama, LM Studio) as a container reaches it.
pub fn reachable_from_container(url: &str) -> String {
    for local in ["localhost", "127.0.0.1", "0.0.0.0", "[::1]"] {
        for scheme in ["http://", "https://"] {
            let prefix = format!("{scheme}{local}");
            if let Some(rest) = url.strip_prefix(&prefix)
                && (rest.is_empty() || rest.starts_with(':') || rest.starts_with('/'))
            {
                return format!("{scheme}host.docker.internal{rest}");
            }
        }
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::reachable_from_container as r;

    #[test]
    fn local_llm_urls_point_at_the_host_from_a_container() {
        assert_eq!(
            r("http://localhost:11434/v1"),
            "http://host.docker.internal:11434/v1"
        );
        assert_eq!(
            r("http://127.0.0.1:1234/v1"),
            "http://host.docker.internal:1234/v1"
        );
        assert_eq!(r("https://api.openai.com/v1"), "https://api.openai.com/v1");
        assert_eq!(
            r("http://localhost.example.com/v1"),
            "http://localhost.example.com/v1"
        );
    }
}
