//! A conversation: its event log, its state, and the agent loop that drives it.
//!
//! Every event goes through [`Conversation::emit`]: secret values are masked, the event is
//! appended to the log and persisted, then published to subscribers. Status changes are
//! `ConversationStateUpdateEvent`s like OpenHands'; the `full_state` snapshot is published (not
//! persisted) after a run ends, on pause and on interrupt.

mod actions;
mod controls;
mod run;
mod sealing;
pub mod state;
pub mod store;
pub mod stuck;
mod toolset;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use berth_protocol::{
    AgentSpec, ConfirmationPolicy, Event, EventBody, ExecutionStatus, SkillSpec, Source,
    TextContent, state_key,
};
use serde_json::{Value, json};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::condenser::Condenser;
use crate::llm::{Llm, LlmError};
use crate::secrets::SecretRegistry;
use crate::skills;
use crate::tools::{ToolContext, ToolOptions, ToolSet};
pub use sealing::Sealer;
pub use state::{ConversationState, WorkspaceSpec};
pub use store::{Store, StoreError};
pub use stuck::Thresholds;

#[derive(Debug, thiserror::Error)]
pub enum ConversationError {
    #[error("the conversation is already running")]
    AlreadyRunning,
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Llm(#[from] LlmError),
}

/// Engine settings that are not part of the wire request.
#[derive(Clone, Default)]
pub struct EngineOptions {
    pub sealer: Option<Arc<dyn Sealer>>,
    pub tools: ToolOptions,
    pub stuck: Thresholds,
    /// Home directory whose `.agents/skills`, `.openhands/skills`… are loaded as user skills.
    pub user_skills_home: Option<PathBuf>,
    /// Load Berth's built-in skills (`skills/`).
    pub builtin_skills: bool,
    /// Tools made outside the engine (an MCP server's), offered after the named ones.
    pub extra_tools: Vec<Arc<dyn crate::tools::Tool>>,
}

/// What it takes to start a conversation.
#[derive(Debug, Clone)]
pub struct NewConversation {
    pub id: Option<uuid::Uuid>,
    pub agent: AgentSpec,
    pub workspace: PathBuf,
    /// The conversations directory; `None` keeps the conversation in memory only.
    pub persistence_root: Option<PathBuf>,
    pub max_iterations: u32,
    pub stuck_detection: bool,
    pub confirmation_policy: ConfirmationPolicy,
    pub security_analyzer: Option<Value>,
    /// (name, value, description)
    pub secrets: Vec<(String, String, Option<String>)>,
    pub tags: BTreeMap<String, String>,
}

impl NewConversation {
    pub fn new(agent: AgentSpec, workspace: impl Into<PathBuf>) -> Self {
        Self {
            id: None,
            agent,
            workspace: workspace.into(),
            persistence_root: None,
            max_iterations: berth_protocol::api::DEFAULT_MAX_ITERATIONS,
            stuck_detection: true,
            confirmation_policy: ConfirmationPolicy::NeverConfirm,
            security_analyzer: None,
            secrets: Vec::new(),
            tags: BTreeMap::new(),
        }
    }
}

struct Data {
    state: ConversationState,
    events: Vec<Event>,
}

pub(crate) struct Inner {
    data: Mutex<Data>,
    llm: Llm,
    condenser: Option<Condenser>,
    tools: ToolSet,
    tool_ctx: ToolContext,
    skills: Vec<SkillSpec>,
    store: Option<Store>,
    events_tx: broadcast::Sender<Event>,
    run_lock: tokio::sync::Mutex<()>,
    cancel: Mutex<CancellationToken>,
    options: EngineOptions,
    /// A write to the store failed since the last run began.
    unsaved: AtomicBool,
}

/// A handle to a conversation; clones share it.
#[derive(Clone)]
pub struct Conversation {
    inner: Arc<Inner>,
}

impl Conversation {
    /// Creates a conversation (and its directory, when persistent).
    pub fn create(req: NewConversation, options: EngineOptions) -> Result<Self, ConversationError> {
        if req.max_iterations == 0 {
            return Err(ConversationError::Invalid(
                "max_iterations must be at least 1".into(),
            ));
        }
        let id = req.id.unwrap_or_else(uuid::Uuid::new_v4);
        let dir = req
            .persistence_root
            .as_ref()
            .map(|root| root.join(id.simple().to_string()));
        let now = berth_protocol::event::now_utc_iso();
        let secrets = SecretRegistry::default();
        for (name, value, description) in &req.secrets {
            secrets.set(name.clone(), value.clone(), description.clone());
        }
        let state = ConversationState {
            id: id.to_string(),
            agent: req.agent.redacted(),
            workspace: WorkspaceSpec::local(req.workspace.display().to_string()),
            persistence_dir: dir.as_ref().map(|d| d.display().to_string()),
            max_iterations: req.max_iterations,
            stuck_detection: req.stuck_detection,
            execution_status: ExecutionStatus::Idle,
            confirmation_policy: req.confirmation_policy,
            security_analyzer: req.security_analyzer.clone(),
            activated_knowledge_skills: Vec::new(),
            last_user_message_id: None,
            stats: Default::default(),
            secret_descriptions: req
                .secrets
                .iter()
                .map(|(n, _, d)| (n.clone(), d.clone()))
                .collect(),
            tags: req.tags.clone(),
            title: None,
            created_at: now.clone(),
            updated_at: now,
            error_nudge_given: false,
            sealed_secrets: None,
            server_meta: Default::default(),
        };
        std::fs::create_dir_all(&req.workspace).map_err(|e| {
            ConversationError::Invalid(format!(
                "cannot create the workspace {}: {e}",
                req.workspace.display()
            ))
        })?;
        let store = dir.map(Store::new);
        let conv = Self::build(state, Vec::new(), store, req.agent, secrets, options)?;
        conv.reseal();
        if let Some(s) = &conv.inner.store {
            s.save_state(&conv.state())?;
        }
        Ok(conv)
    }

    /// Loads a persisted conversation. The agent on disk has no secrets: `agent_secrets` gives
    /// the LLM key (and the condenser's) back. A run cut short by a crash becomes `error`, and
    /// each action it left without a result gets an `AgentErrorEvent`.
    pub fn load(
        dir: &Path,
        llm_api_key: Option<String>,
        secrets: SecretRegistry,
        options: EngineOptions,
    ) -> Result<Self, ConversationError> {
        Self::load_from(dir, llm_api_key, secrets, options, None)
    }

    /// Loads a persisted conversation under the caller's own records: `over`'s agent (with its
    /// keys), workspace, limits, confirmation policy and secrets replace what the state file
    /// says, because the file lies where the conversation's agent may have rewritten it (a new
    /// `base_url` would send the user's key elsewhere). The history, title, tags and stats come
    /// from disk.
    pub fn load_reasserted(
        dir: &Path,
        over: NewConversation,
        options: EngineOptions,
    ) -> Result<Self, ConversationError> {
        if over.max_iterations == 0 {
            return Err(ConversationError::Invalid(
                "max_iterations must be at least 1".into(),
            ));
        }
        let secrets = SecretRegistry::default();
        for (name, value, description) in &over.secrets {
            secrets.set(name.clone(), value.clone(), description.clone());
        }
        Self::load_from(dir, None, secrets, options, Some(over))
    }

    fn load_from(
        dir: &Path,
        llm_api_key: Option<String>,
        secrets: SecretRegistry,
        options: EngineOptions,
        over: Option<NewConversation>,
    ) -> Result<Self, ConversationError> {
        let store = Store::new(dir.to_path_buf());
        let mut state = store.load_state()?;
        let events = store.load_events()?;
        // Reasserted, the secrets go where the caller says, whatever the file says.
        let sealed = sealing::unseal(&options, &state, dir, over.is_none());
        let mut agent = state.agent.clone();
        if let Some(over) = &over {
            agent = over.agent.clone();
            state.agent = over.agent.redacted();
            state.workspace =
                berth_protocol::Workspace::local(over.workspace.display().to_string());
            state.max_iterations = over.max_iterations;
            state.stuck_detection = over.stuck_detection;
            state.confirmation_policy = over.confirmation_policy;
            state.security_analyzer = over.security_analyzer.clone();
        }
        let known = secrets.values();
        for (name, value) in &sealed.secrets {
            if !known.contains_key(name) {
                let description = state.secret_descriptions.get(name).cloned().flatten();
                secrets.set(name.clone(), value.clone(), description);
            }
        }
        if agent.llm.api_key.is_none() {
            agent.llm.api_key = llm_api_key.clone().or(sealed.llm_api_key.clone());
        }
        if over.is_none()
            && let Some(headers) = sealed.llm_extra_headers.clone()
        {
            agent.llm.extra_headers = Some(headers);
        }
        if let Some(berth_protocol::CondenserSpec::LLMSummarizingCondenser { llm, .. }) =
            &mut agent.condenser
            && llm.api_key.is_none()
        {
            llm.api_key = sealed
                .condenser_api_key
                .clone()
                .or(llm_api_key)
                .or(sealed.llm_api_key);
        }
        let crashed = state.execution_status == ExecutionStatus::Running;
        if crashed {
            state.execution_status = ExecutionStatus::Error;
        }
        let conv = Self::build(state, events, Some(store), agent, secrets, options)?;
        if crashed {
            for (tool_name, tool_call_id) in conv
                .pending_actions()
                .into_iter()
                .map(|p| (p.tool_name, p.tool_call_id))
            {
                conv.emit(Source::Agent, EventBody::AgentErrorEvent {
                    tool_name,
                    tool_call_id,
                    error: "A restart occurred while this tool was in progress. It may or may not have finished: check its effects before running it again.".into(),
                    classification: Some(berth_protocol::ErrorClassification::new(berth_protocol::FailureKind::Internal, true, berth_protocol::FailureAction::Retry)),
                });
            }
            conv.emit_status_update(ExecutionStatus::Error);
            conv.save_state();
        }
        Ok(conv)
    }

    fn build(
        state: ConversationState,
        events: Vec<Event>,
        store: Option<Store>,
        agent: AgentSpec,
        secrets: SecretRegistry,
        options: EngineOptions,
    ) -> Result<Self, ConversationError> {
        let llm = Llm::new(agent.llm.clone())?;
        let condenser = Condenser::from_spec(agent.condenser.as_ref())?;
        let tools = toolset::tools_for(&agent, &options)?;
        let workspace = PathBuf::from(&state.workspace.working_dir);
        let context = agent.agent_context.clone().unwrap_or_default();
        // The repository's files are the agent's to write (a skill can be a link to ~/.ssh):
        // read under the same confinement as its commands.
        let repo_skills = crate::agent_env::confined_now(|| skills::load_repo_skills(&workspace))
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "cannot read the repository's skills");
                Vec::new()
            });
        let mut lists = vec![context.skills.clone(), repo_skills];
        if let Some(home) = &options.user_skills_home {
            lists.push(skills::load_user_skills(home));
        }
        if options.builtin_skills
            && let Some(dir) = skills::builtin_skills_dir()
        {
            lists.push(skills::load_dir(&dir));
        }
        // The LLM keys the engine holds are masked too, should the agent ever print one.
        for key in [
            agent.llm.api_key.as_deref(),
            condenser
                .as_ref()
                .and_then(|c| c.llm.config().api_key.as_deref()),
        ]
        .into_iter()
        .flatten()
        {
            secrets.mask_also(key);
        }
        let tool_ctx = ToolContext {
            workspace,
            persistence_dir: store.as_ref().map(|s| s.dir().to_path_buf()),
            secrets,
        };
        let (events_tx, _) = broadcast::channel(4096);
        Ok(Self {
            inner: Arc::new(Inner {
                data: Mutex::new(Data { state, events }),
                llm,
                condenser,
                tools: ToolSet::new(tools),
                tool_ctx,
                skills: skills::merge(lists),
                store,
                events_tx,
                run_lock: tokio::sync::Mutex::new(()),
                cancel: Mutex::new(CancellationToken::new()),
                unsaved: AtomicBool::new(false),
                options,
            }),
        })
    }

    fn data(&self) -> std::sync::MutexGuard<'_, Data> {
        self.inner.data.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn id(&self) -> String {
        self.data().state.id.clone()
    }

    pub fn status(&self) -> ExecutionStatus {
        self.data().state.execution_status
    }

    pub fn state(&self) -> ConversationState {
        self.data().state.clone()
    }

    pub fn events(&self) -> Vec<Event> {
        self.data().events.clone()
    }

    pub fn persistence_dir(&self) -> Option<PathBuf> {
        self.inner.store.as_ref().map(|s| s.dir().to_path_buf())
    }

    pub fn tools(&self) -> &ToolSet {
        &self.inner.tools
    }

    pub fn skills(&self) -> &[SkillSpec] {
        &self.inner.skills
    }

    pub fn secrets(&self) -> &SecretRegistry {
        &self.inner.tool_ctx.secrets
    }

    /// Live events: everything emitted from now on, plus published `full_state` snapshots and
    /// streaming deltas (which are not persisted).
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.events_tx.subscribe()
    }

    /// The `full_state` update event (not persisted).
    pub fn full_state_event(&self) -> Event {
        let data = self.data();
        let leaf = data.events.last().map(|e| e.id.clone());
        Event::new(
            Source::Environment,
            None,
            EventBody::ConversationStateUpdateEvent {
                key: state_key::FULL_STATE.into(),
                value: data.state.full_state(leaf.as_deref()),
            },
        )
    }

    fn publish(&self, event: Event) {
        let _ = self.inner.events_tx.send(event);
    }

    pub(crate) fn publish_full_state(&self) {
        self.publish(self.full_state_event());
    }

    /// Appends an event: masked, persisted, published. Returns it as stored.
    pub(crate) fn emit(&self, source: Source, body: EventBody) -> Event {
        let mut failed = None;
        let event = {
            let mut data = self.data();
            let parent = data.events.last().map(|e| e.id.clone());
            let mut event = Event::new(source, parent, body);
            if !self.inner.tool_ctx.secrets.masks_nothing()
                && let Ok(mut v) = serde_json::to_value(&event)
            {
                self.inner.tool_ctx.secrets.mask_json(&mut v);
                if let Ok(masked) = serde_json::from_value(v) {
                    event = masked;
                }
            }
            let index = data.events.len();
            if let Some(store) = &self.inner.store
                && let Err(e) = store.append(index, &event)
            {
                failed = Some(e);
            }
            data.events.push(event.clone());
            data.state.updated_at = berth_protocol::event::now_utc_iso();
            event
        };
        self.publish(event.clone());
        if let Some(e) = failed {
            self.could_not_save(&e);
        }
        event
    }

    pub(crate) fn save_state(&self) {
        if let Some(store) = &self.inner.store {
            // The sealed secrets stay bound to the state they are written with.
            self.reseal();
            let state = self.data().state.clone();
            if let Err(e) = store.save_state(&state) {
                self.could_not_save(&e);
            }
        }
    }

    /// A write that failed (a full disk, a folder gone) stops the run with an error event the
    /// user sees: going on would do work that a restart forgets. Once per failure: the error
    /// event and the status change try to save too, and fail alike.
    /// A new run tries saving again.
    pub(crate) fn retry_saving(&self) {
        self.inner.unsaved.store(false, Ordering::SeqCst);
    }

    fn could_not_save(&self, e: &store::StoreError) {
        tracing::error!(conversation = %self.id(), error = %e, "could not save the conversation");
        if self.inner.unsaved.swap(true, Ordering::SeqCst) {
            return;
        }
        self.emit(
            Source::Environment,
            EventBody::ConversationErrorEvent {
                code: "PersistenceError".into(),
                detail: format!(
                    "The conversation could not be saved ({e}). The agent was stopped so no more work is lost. Free disk space (or restore the folder), then send a message to go on; what happened since the last save may be missing after a restart."
                ),
                classification: Some(berth_protocol::ErrorClassification::new(
                    berth_protocol::FailureKind::Internal,
                    true,
                    berth_protocol::FailureAction::Retry,
                )),
            },
        );
        self.set_status(ExecutionStatus::Error);
    }

    fn emit_status_update(&self, status: ExecutionStatus) {
        self.emit(
            Source::Environment,
            EventBody::ConversationStateUpdateEvent {
                key: state_key::EXECUTION_STATUS.into(),
                value: json!(status),
            },
        );
    }

    /// Changes the execution status, recording the change as an event.
    pub(crate) fn set_status(&self, status: ExecutionStatus) {
        {
            let mut data = self.data();
            if data.state.execution_status == status {
                return;
            }
            data.state.execution_status = status;
        }
        self.emit_status_update(status);
        self.save_state();
    }

    /// Emits the system prompt once, as event #0.
    pub(crate) fn ensure_system_prompt(&self) {
        if !self.data().events.is_empty() {
            return;
        }
        let agent = self.data().state.agent.clone();
        let suffix = agent
            .agent_context
            .as_ref()
            .and_then(|c| c.system_message_suffix.clone());
        let static_text = agent
            .system_prompt
            .clone()
            .unwrap_or_else(|| crate::prompt::static_prompt().to_string());
        let dynamic = crate::prompt::dynamic_context(
            &self.inner.skills,
            &self.inner.tool_ctx.secrets,
            &self.data().state.workspace.working_dir,
            suffix.as_deref(),
        );
        let mut system_prompt = TextContent::new(static_text);
        system_prompt.cache_prompt = false;
        self.emit(
            Source::Agent,
            EventBody::SystemPromptEvent {
                system_prompt,
                tools: self.inner.tools.definitions(),
                dynamic_context: Some(TextContent::new(dynamic)),
            },
        );
    }

    /// The agent's last word: the last `finish` message, else the last agent message, else "".
    pub fn final_response(&self) -> String {
        let data = self.data();
        for e in data.events.iter().rev() {
            match &e.body {
                EventBody::ActionEvent {
                    action: Some(berth_protocol::Action::FinishAction(f)),
                    ..
                } => return f.message.clone(),
                EventBody::MessageEvent { llm_message, .. } if e.source == Source::Agent => {
                    return llm_message.text();
                }
                _ => {}
            }
        }
        String::new()
    }

    pub fn metrics(&self) -> berth_protocol::ConversationStats {
        self.data().state.stats.clone()
    }
}

pub use berth_protocol::PendingAction;
