//! The server's state: the configured conversations, loaded lazily from disk on first use, and
//! their runs — one task per running conversation, at most `max_concurrent_runs` at once.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use berth_agent::conversation::Thresholds;
use berth_agent::mcp::McpTimeouts;
use berth_agent::secrets::SecretRegistry;
use berth_agent::tools::ToolOptions;
use berth_agent::tools::mcp::McpServers;
use berth_agent::tools::terminal::TerminalOptions;
use berth_agent::{Conversation, EngineOptions, NewConversation};
use berth_protocol::{AgentSpec, Message};
use serde_json::{Map, Value};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

use crate::bash::BashService;
use crate::config::ServerConfig;
use crate::error::ApiError;
use crate::sealer::ChaChaSealer;

/// A conversation as the server holds it.
pub struct Entry {
    pub conv: Conversation,
    /// Its MCP servers (none for one loaded from disk, which has no secrets to start them).
    pub mcp: McpServers,
    run: Mutex<Option<JoinHandle<()>>>,
    /// A message with `run: true` arrived while a run was ending: run again afterwards.
    rerun: AtomicBool,
    pub subscribers: AtomicUsize,
}

impl Entry {
    fn new(conv: Conversation, mcp: McpServers) -> Arc<Self> {
        Arc::new(Self {
            conv,
            mcp,
            run: Mutex::new(None),
            rerun: AtomicBool::new(false),
            subscribers: AtomicUsize::new(0),
        })
    }

    pub fn is_running(&self) -> bool {
        self.run
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .is_some_and(|h| !h.is_finished())
    }
}

pub struct Inner {
    pub config: ServerConfig,
    pub bash: BashService,
    loaded: std::sync::RwLock<HashMap<uuid::Uuid, Arc<Entry>>>,
    load_lock: tokio::sync::Mutex<()>,
    permits: Arc<Semaphore>,
    engine: EngineOptions,
    started: Instant,
    last_activity: AtomicU64,
}

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

pub use berth_protocol::api::{SecretInput, SendMessageRequest, StartConversationRequest};

/// A secret's value and description, or why it cannot be used.
pub fn resolve_secret(
    input: SecretInput,
    name: &str,
) -> Result<(String, Option<String>), ApiError> {
    match input {
        SecretInput::Plain(v) => Ok((v, None)),
        SecretInput::Source {
            kind,
            value,
            description,
        } => match (kind.as_deref(), value) {
            (None | Some("StaticSecret"), Some(v)) => Ok((v, description)),
            (Some("LookupSecret"), _) => Err(ApiError::invalid(
                "secrets",
                format!(
                    "secret '{name}': LookupSecret is not supported by Berth; send the value as a StaticSecret"
                ),
            )),
            (_, None) => Err(ApiError::invalid(
                "secrets",
                format!("secret '{name}' has no value"),
            )),
            (Some(other), _) => Err(ApiError::invalid(
                "secrets",
                format!("secret '{name}': unknown kind '{other}'"),
            )),
        },
    }
}

/// The servers of the agent's `mcp_config`, `${VAR}` read from the conversation's secrets,
/// started side by side; a config that does not parse is the request's fault.
async fn start_mcp(new: &NewConversation) -> Result<McpServers, ApiError> {
    let Some(config) = &new.agent.mcp_config else {
        return Ok(McpServers::default());
    };
    let secret = |name: &str| {
        new.secrets
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, v, _)| v.clone())
    };
    let servers = berth_agent::mcp::config::parse(config, secret)
        .map_err(|e| ApiError::invalid("agent", format!("mcp_config: {e}")))?;
    Ok(McpServers::start(servers, McpTimeouts::default()).await)
}

/// The agent a create request describes (its `kind` may be left out), or what is wrong with it.
fn agent_of(agent: Option<Value>) -> Result<AgentSpec, ApiError> {
    let mut agent = agent.ok_or_else(|| ApiError::invalid("agent", "Field required"))?;
    if let Some(obj) = agent.as_object_mut() {
        match obj.get("kind").and_then(Value::as_str) {
            None => {
                obj.insert("kind".into(), Value::String("Agent".into()));
            }
            Some("Agent") => {}
            Some(other) => {
                return Err(ApiError::invalid(
                    "agent",
                    format!("agent kind '{other}' is not supported; use 'Agent'"),
                ));
            }
        }
    }
    serde_json::from_value(agent).map_err(|e| ApiError::invalid("agent", e.to_string()))
}

/// The message a send request carries, or why it cannot be sent.
pub fn message_of(req: &SendMessageRequest) -> Result<Message, ApiError> {
    if req.role != "user" {
        return Err(ApiError::invalid(
            "role",
            format!("only user messages can be sent, not '{}'", req.role),
        ));
    }
    if req.content.is_empty() {
        return Err(ApiError::invalid(
            "content",
            "a message needs at least one content item",
        ));
    }
    Ok(Message::new(
        berth_protocol::Role::User,
        req.content.clone(),
    ))
}

/// Tags: keys `^[a-z0-9]+$`, values up to 256 characters.
pub fn validate_tags(tags: &BTreeMap<String, String>) -> Result<(), ApiError> {
    for (k, v) in tags {
        if k.is_empty()
            || !k
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        {
            return Err(ApiError::invalid(
                "tags",
                format!("tag key '{k}' must match ^[a-z0-9]+$"),
            ));
        }
        if v.chars().count() > 256 {
            return Err(ApiError::invalid(
                "tags",
                format!("tag '{k}' is longer than 256 characters"),
            ));
        }
    }
    Ok(())
}

impl AppState {
    pub fn new(config: ServerConfig) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&config.conversations_path).map_err(|e| {
            anyhow::anyhow!("cannot create {}: {e}", config.conversations_path.display())
        })?;
        let engine = EngineOptions {
            sealer: config
                .secret_key
                .as_deref()
                .map(|k| Arc::new(ChaChaSealer::new(k)) as Arc<dyn berth_agent::Sealer>),
            tools: ToolOptions {
                terminal: TerminalOptions {
                    no_output_timeout: berth_agent::untrusted::seconds(
                        config.terminal_no_output_timeout.max(0.1),
                        berth_agent::untrusted::MAX_WAIT,
                    )
                    .unwrap_or(Duration::from_secs(30)),
                },
            },
            stuck: Thresholds::default(),
            user_skills_home: std::env::var_os("HOME").map(PathBuf::from),
            builtin_skills: true,
            extra_tools: Vec::new(),
        };
        let bash = BashService::new(config.bash_events_dir.clone());
        Ok(Self(Arc::new(Inner {
            permits: Arc::new(Semaphore::new(config.max_concurrent_runs)),
            config,
            bash,
            loaded: Default::default(),
            load_lock: tokio::sync::Mutex::new(()),
            engine,
            started: Instant::now(),
            last_activity: AtomicU64::new(now_secs()),
        })))
    }

    pub fn touch(&self) {
        self.last_activity.store(now_secs(), Ordering::Relaxed);
    }

    pub fn uptime(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    pub fn idle_time(&self) -> f64 {
        now_secs().saturating_sub(self.last_activity.load(Ordering::Relaxed)) as f64
    }

    fn dir_of(&self, id: &uuid::Uuid) -> PathBuf {
        self.config.conversations_path.join(id.simple().to_string())
    }

    /// A conversation by id, loading it from disk on first access after a restart.
    pub async fn get(&self, id: &uuid::Uuid) -> Result<Option<Arc<Entry>>, ApiError> {
        if let Some(e) = self
            .loaded
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
        {
            return Ok(Some(e.clone()));
        }
        let dir = self.dir_of(id);
        if !dir.join("base_state.json").is_file() {
            return Ok(None);
        }
        let _guard = self.load_lock.lock().await;
        if let Some(e) = self
            .loaded
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
        {
            return Ok(Some(e.clone()));
        }
        let conv =
            Conversation::load(&dir, None, SecretRegistry::default(), self.engine.clone())
                .map_err(|e| ApiError::Internal(format!("cannot load conversation {id}: {e}")))?;
        tracing::info!(conversation = %id, "conversation loaded from disk");
        let entry = Entry::new(conv, McpServers::default());
        self.loaded
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(*id, entry.clone());
        Ok(Some(entry))
    }

    pub async fn require(&self, id: &uuid::Uuid) -> Result<Arc<Entry>, ApiError> {
        self.get(id).await?.ok_or(ApiError::NotFound)
    }

    /// Every conversation id, loaded or on disk.
    pub fn all_ids(&self) -> Vec<uuid::Uuid> {
        let mut ids: Vec<uuid::Uuid> = self
            .loaded
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .copied()
            .collect();
        if let Ok(read) = std::fs::read_dir(&self.config.conversations_path) {
            for e in read.flatten() {
                if let Some(id) = e
                    .file_name()
                    .to_str()
                    .and_then(|n| uuid::Uuid::parse_str(n).ok())
                    && e.path().join("base_state.json").is_file()
                    && !ids.contains(&id)
                {
                    ids.push(id);
                }
            }
        }
        ids
    }

    /// Creates a conversation. With the id of one loaded here, returns that one (`false`); with
    /// the id of one stored on disk, loads it under the request's agent, workspace, limits,
    /// policy and secrets (`false`): the caller's records win over a state file the
    /// conversation's agent could have rewritten.
    pub async fn create(
        &self,
        req: StartConversationRequest,
    ) -> Result<(Arc<Entry>, bool), ApiError> {
        if let Some(id) = req.conversation_id
            && let Some(existing) = self.loaded_entry(&id)
        {
            return Ok((existing, false));
        }
        let id = req.conversation_id.unwrap_or_else(uuid::Uuid::new_v4);
        let stored = self.dir_of(&id).join("base_state.json").is_file();
        let (new, initial, qualnames, client_tools) = self.new_conversation(req, id)?;
        let invalid = |e: berth_agent::ConversationError| match e {
            berth_agent::ConversationError::Invalid(m) => ApiError::invalid("agent", m),
            other => ApiError::from(other),
        };
        // Before the lock: a slow server delays only this conversation.
        let mcp = start_mcp(&new).await?;
        let mut engine = self.engine.clone();
        engine.extra_tools = mcp.tools();
        let _guard = self.load_lock.lock().await;
        if let Some(existing) = self.loaded_entry(&id) {
            return Ok((existing, false));
        }
        let conv = if stored {
            Conversation::load_reasserted(&self.dir_of(&id), new, engine).map_err(invalid)?
        } else {
            Conversation::create(new, engine).map_err(invalid)?
        };
        let mut names: Map<String, Value> = conv
            .tools()
            .names()
            .into_iter()
            .filter_map(|n| {
                crate::info::standard_module(n).map(|m| (n.to_string(), Value::String(m.into())))
            })
            .collect();
        names.extend(qualnames);
        conv.set_server_meta("tool_module_qualnames", Value::Object(names));
        conv.set_server_meta("client_tools", Value::Array(client_tools));
        let entry = Entry::new(conv, mcp);
        self.loaded
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, entry.clone());
        drop(_guard);
        tracing::info!(conversation = %id, reloaded = stored, "conversation created");
        if let Some(message) = initial {
            entry.conv.send_message(message);
            // The conversation exists either way; a full server runs it later.
            if let Err(e) = self.start_run(&entry).await {
                tracing::warn!(conversation = %id, error = %e, "initial run not started");
            }
        }
        Ok((entry, !stored))
    }

    fn loaded_entry(&self, id: &uuid::Uuid) -> Option<Arc<Entry>> {
        self.loaded
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }

    /// The request as the engine's `NewConversation`, validated, with its first message and the
    /// client's tool metadata.
    #[allow(clippy::type_complexity)]
    fn new_conversation(
        &self,
        req: StartConversationRequest,
        id: uuid::Uuid,
    ) -> Result<
        (
            NewConversation,
            Option<berth_protocol::Message>,
            Map<String, Value>,
            Vec<Value>,
        ),
        ApiError,
    > {
        if req.agent_settings.is_some() || req.agent_profile_id.is_some() {
            return Err(ApiError::invalid(
                "agent",
                "Berth accepts the agent as `agent` JSON; agent_settings and agent_profile_id are not supported",
            ));
        }
        let agent = agent_of(req.agent)?;
        let workspace = req
            .workspace
            .ok_or_else(|| ApiError::invalid("workspace", "Field required"))?;
        if !std::path::Path::new(&workspace.working_dir).is_absolute() {
            return Err(ApiError::invalid(
                "workspace",
                format!(
                    "working_dir must be an absolute path, got '{}'",
                    workspace.working_dir
                ),
            ));
        }
        let max_iterations = req
            .max_iterations
            .unwrap_or(i64::from(berth_protocol::api::DEFAULT_MAX_ITERATIONS));
        if max_iterations < 1 {
            return Err(ApiError::invalid("max_iterations", "must be at least 1"));
        }
        validate_tags(&req.tags)?;
        let mut secrets = Vec::new();
        for (name, input) in req.secrets {
            let (value, description) = resolve_secret(input, &name)?;
            secrets.push((name, value, description));
        }
        let initial = match &req.initial_message {
            Some(m) => Some(message_of(m)?),
            None => None,
        };
        let mut new = NewConversation::new(agent, PathBuf::from(&workspace.working_dir));
        new.id = Some(id);
        new.persistence_root = Some(self.config.conversations_path.clone());
        new.max_iterations = u32::try_from(max_iterations).unwrap_or(u32::MAX);
        new.stuck_detection = req.stuck_detection.unwrap_or(true);
        new.confirmation_policy = req.confirmation_policy.unwrap_or_default();
        new.security_analyzer = req.security_analyzer.filter(|v| !v.is_null());
        new.secrets = secrets;
        new.tags = req.tags;
        let qualnames = req
            .tool_module_qualnames
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        Ok((new, initial, qualnames, req.client_tools))
    }

    /// Starts a run in the background: 409 when one is going, 429 when the server is full.
    pub async fn start_run(&self, entry: &Arc<Entry>) -> Result<(), ApiError> {
        if self.join_current_run(entry)? {
            return Ok(());
        }
        // A run that has just ended may hold its permit a moment longer than its status says.
        let permit: OwnedSemaphorePermit = tokio::time::timeout(
            std::time::Duration::from_millis(500),
            self.permits.clone().acquire_owned(),
        )
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or_else(|| {
            ApiError::TooManyRequests(format!(
                "The server is already running {} conversations; try again when one finishes",
                self.config.max_concurrent_runs
            ))
        })?;
        let mut slot = entry.run.lock().unwrap_or_else(|e| e.into_inner());
        if slot.as_ref().is_some_and(|h| !h.is_finished()) {
            // Another request started it meanwhile.
            drop(slot);
            drop(permit);
            self.join_current_run(entry)?;
            return Ok(());
        }
        let entry2 = entry.clone();
        *slot = Some(tokio::spawn(async move {
            let _permit = permit;
            loop {
                match entry2.conv.run().await {
                    Ok(status) => {
                        tracing::info!(conversation = %entry2.conv.id(), status = status.as_str(), "run ended")
                    }
                    Err(e) => {
                        tracing::warn!(conversation = %entry2.conv.id(), error = %e, "run failed")
                    }
                }
                if !entry2.rerun.swap(false, Ordering::SeqCst) {
                    break;
                }
            }
        }));
        Ok(())
    }

    /// `Ok(true)` when a run is under way and was asked to go again (it was paused or ending);
    /// a 409 when it is really running; `Ok(false)` when there is no run.
    fn join_current_run(&self, entry: &Arc<Entry>) -> Result<bool, ApiError> {
        let slot = entry.run.lock().unwrap_or_else(|e| e.into_inner());
        if slot.as_ref().is_some_and(|h| !h.is_finished()) {
            // A run that was paused or is ending still finishes its last step: ask it to go
            // again rather than refuse. Only a conversation that is really running is a 409.
            if entry.conv.status() == berth_protocol::ExecutionStatus::Running {
                return Err(ApiError::Conflict("Conversation already running".into()));
            }
            entry.conv.resume_if_paused();
            entry.rerun.store(true, Ordering::SeqCst);
            return Ok(true);
        }
        Ok(false)
    }

    /// Sends a message; with `run`, starts a run or asks the running one to go again.
    pub async fn send_message(
        &self,
        entry: &Arc<Entry>,
        message: Message,
        run: bool,
    ) -> Result<(), ApiError> {
        entry.conv.send_message(message);
        if run {
            if entry.is_running() {
                entry.rerun.store(true, Ordering::SeqCst);
            } else {
                self.start_run(entry).await?;
            }
        }
        Ok(())
    }

    pub async fn delete(&self, id: &uuid::Uuid) -> Result<(), ApiError> {
        let entry = self.require(id).await?;
        entry.conv.interrupt();
        let handle = entry.run.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(h) = handle {
            h.abort();
        }
        self.loaded
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
        let dir = self.dir_of(id);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .map_err(|e| ApiError::Internal(format!("cannot delete {}: {e}", dir.display())))?;
        }
        tracing::info!(conversation = %id, "conversation deleted");
        Ok(())
    }

    /// Stops every run (on shutdown); their state is saved as paused or left for recovery.
    pub async fn shutdown(&self) {
        let entries: Vec<Arc<Entry>> = self
            .loaded
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        for e in entries {
            if e.is_running() {
                e.conv.pause();
            }
        }
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
