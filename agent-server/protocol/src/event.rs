//! The event log: every event kind OpenHands' agent-server emits, with its base fields
//! (`id`, `timestamp`, `source`, `parent_id`) and a body discriminated by `kind`.
//! Optional fields are omitted when empty, matching the server's `exclude_none` dumps.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::content::{Message, MessageToolCall, TextContent};
pub use crate::state::SecurityRisk;
use crate::state::{ExecutionStatus, state_key};
use crate::tool_io::{Action, Observation};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Agent,
    User,
    Environment,
    Hook,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    Auth,
    Quota,
    RateLimit,
    Config,
    Transient,
    AgentAction,
    Internal,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum FailureAction {
    #[default]
    None,
    Retry,
    Settings,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ErrorClassification {
    pub kind: FailureKind,
    pub retryable: bool,
    #[serde(default)]
    pub user_action: FailureAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_id: Option<String>,
}

impl ErrorClassification {
    pub fn new(kind: FailureKind, retryable: bool, user_action: FailureAction) -> Self {
        Self {
            kind,
            retryable,
            user_action,
            error_id: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum RejectionSource {
    #[default]
    User,
    Hook,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ToolAnnotations {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(rename = "readOnlyHint")]
    pub read_only_hint: bool,
    #[serde(rename = "destructiveHint")]
    pub destructive_hint: bool,
    #[serde(rename = "idempotentHint")]
    pub idempotent_hint: bool,
    #[serde(rename = "openWorldHint")]
    pub open_world_hint: bool,
}

/// A tool as listed in the `SystemPromptEvent` (`kind` is the tool class, e.g. `TerminalTool`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ToolDefinition {
    pub description: String,
    pub action_type: String,
    pub observation_type: String,
    pub annotations: ToolAnnotations,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Value>,
    /// An MCP tool's definition as its server gave it (`MCPToolDefinition` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_tool: Option<Value>,
    pub kind: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Event {
    pub id: String,
    pub timestamp: String,
    pub source: Source,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    #[serde(flatten)]
    pub body: EventBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind")]
pub enum EventBody {
    SystemPromptEvent {
        system_prompt: TextContent,
        tools: Vec<ToolDefinition>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dynamic_context: Option<TextContent>,
    },
    MessageEvent {
        llm_message: Message,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        llm_response_id: Option<String>,
        #[serde(default)]
        activated_skills: Vec<String>,
        #[serde(default)]
        extended_content: Vec<TextContent>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sender: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        critic_result: Option<Value>,
    },
    ActionEvent {
        #[serde(default)]
        thought: Vec<TextContent>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reasoning_content: Option<String>,
        #[serde(default)]
        thinking_blocks: Vec<Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        responses_reasoning_item: Option<Value>,
        /// `None` when the LLM's arguments did not validate.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        action: Option<Action>,
        tool_name: String,
        tool_call_id: String,
        tool_call: MessageToolCall,
        llm_response_id: String,
        #[serde(default)]
        security_risk: SecurityRisk,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        critic_result: Option<Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        summary: Option<String>,
    },
    ObservationEvent {
        tool_name: String,
        tool_call_id: String,
        observation: Observation,
        action_id: String,
        #[serde(default)]
        extended_content: Vec<TextContent>,
    },
    UserRejectObservation {
        tool_name: String,
        tool_call_id: String,
        #[serde(default = "default_rejection_reason")]
        rejection_reason: String,
        #[serde(default)]
        rejection_source: RejectionSource,
        action_id: String,
    },
    AgentErrorEvent {
        tool_name: String,
        tool_call_id: String,
        error: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        classification: Option<ErrorClassification>,
    },
    ConversationErrorEvent {
        code: String,
        detail: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        classification: Option<ErrorClassification>,
    },
    PauseEvent {},
    InterruptEvent {},
    Condensation {
        forgotten_event_ids: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        summary: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        summary_offset: Option<usize>,
        llm_response_id: String,
    },
    CondensationRequest {},
    CondensationSummaryEvent {
        summary: String,
    },
    ConversationStateUpdateEvent {
        key: String,
        value: Value,
    },
    StreamingDeltaEvent {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reasoning_content: Option<String>,
    },
    ServerErrorEvent {
        code: String,
        detail: String,
    },
    /// Kinds Berth does not model (security analysis, hooks, …), kept verbatim.
    #[cfg_attr(feature = "ts", ts(skip))]
    #[serde(untagged)]
    Other(serde_json::Map<String, Value>),
}

pub fn default_rejection_reason() -> String {
    "User rejected the action".to_string()
}

impl EventBody {
    /// The OpenHands class name of this event (its `kind`).
    pub fn kind(&self) -> &str {
        match self {
            EventBody::SystemPromptEvent { .. } => "SystemPromptEvent",
            EventBody::MessageEvent { .. } => "MessageEvent",
            EventBody::ActionEvent { .. } => "ActionEvent",
            EventBody::ObservationEvent { .. } => "ObservationEvent",
            EventBody::UserRejectObservation { .. } => "UserRejectObservation",
            EventBody::AgentErrorEvent { .. } => "AgentErrorEvent",
            EventBody::ConversationErrorEvent { .. } => "ConversationErrorEvent",
            EventBody::PauseEvent {} => "PauseEvent",
            EventBody::InterruptEvent {} => "InterruptEvent",
            EventBody::Condensation { .. } => "Condensation",
            EventBody::CondensationRequest {} => "CondensationRequest",
            EventBody::CondensationSummaryEvent { .. } => "CondensationSummaryEvent",
            EventBody::ConversationStateUpdateEvent { .. } => "ConversationStateUpdateEvent",
            EventBody::StreamingDeltaEvent { .. } => "StreamingDeltaEvent",
            EventBody::ServerErrorEvent { .. } => "ServerErrorEvent",
            EventBody::Other(map) => map.get("kind").and_then(Value::as_str).unwrap_or("Unknown"),
        }
    }
}

impl Event {
    /// A new event with a fresh id and the current local time (OpenHands uses naive local ISO).
    pub fn new(source: Source, parent_id: Option<String>, body: EventBody) -> Self {
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            timestamp: now_naive_iso(),
            source,
            parent_id,
            body,
        }
    }

    pub fn kind(&self) -> &str {
        self.body.kind()
    }

    /// The execution status a state update announces.
    pub fn execution_status(&self) -> Option<ExecutionStatus> {
        match &self.body {
            EventBody::ConversationStateUpdateEvent { key, value }
                if key == state_key::EXECUTION_STATUS =>
            {
                value.as_str().and_then(ExecutionStatus::parse)
            }
            _ => None,
        }
    }

    /// Sent live and never part of the log: token deltas, state snapshots, server errors.
    pub fn is_transient(&self) -> bool {
        match &self.body {
            EventBody::StreamingDeltaEvent { .. } | EventBody::ServerErrorEvent { .. } => true,
            EventBody::ConversationStateUpdateEvent { key, .. } => key == state_key::FULL_STATE,
            _ => false,
        }
    }

    /// The tool call id an action/observation-like event refers to.
    pub fn tool_call_id(&self) -> Option<&str> {
        match &self.body {
            EventBody::ActionEvent { tool_call_id, .. }
            | EventBody::ObservationEvent { tool_call_id, .. }
            | EventBody::UserRejectObservation { tool_call_id, .. }
            | EventBody::AgentErrorEvent { tool_call_id, .. } => Some(tool_call_id),
            _ => None,
        }
    }

    /// True for events that answer a tool call (observation, rejection, tool error).
    pub fn is_observation_like(&self) -> bool {
        matches!(
            self.body,
            EventBody::ObservationEvent { .. }
                | EventBody::UserRejectObservation { .. }
                | EventBody::AgentErrorEvent { .. }
        )
    }
}

/// `2025-01-31T09:15:02.123456` in local time, as OpenHands stamps events.
pub fn now_naive_iso() -> String {
    chrono::Local::now()
        .naive_local()
        .format("%Y-%m-%dT%H:%M:%S%.6f")
        .to_string()
}

/// `2025-01-31T09:15:02.123456Z` in UTC, as OpenHands stamps conversations.
pub fn now_utc_iso() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}
