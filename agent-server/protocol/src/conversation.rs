//! `ConversationInfo`: what every conversation GET/POST of the agent-server answers. Unlike
//! events, it is serialized with its nulls, as OpenHands does.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::agent::AgentSpec;
use crate::state::{ConfirmationPolicy, ConversationStats, ExecutionStatus};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Workspace {
    pub working_dir: String,
    #[serde(default = "local_workspace")]
    pub kind: String,
}

fn local_workspace() -> String {
    "LocalWorkspace".into()
}

impl Workspace {
    pub fn local(dir: impl Into<String>) -> Self {
        Self {
            working_dir: dir.into(),
            kind: local_workspace(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConversationInfo {
    /// Dashed UUID.
    pub id: String,
    pub workspace: Workspace,
    pub persistence_dir: Option<String>,
    pub max_iterations: u32,
    pub stuck_detection: bool,
    pub execution_status: ExecutionStatus,
    pub confirmation_policy: ConfirmationPolicy,
    pub security_analyzer: Option<Value>,
    #[serde(default)]
    pub activated_knowledge_skills: Vec<String>,
    #[serde(default)]
    pub invoked_skills: Vec<Value>,
    #[serde(default)]
    pub blocked_actions: Map<String, Value>,
    #[serde(default)]
    pub blocked_messages: Map<String, Value>,
    pub last_user_message_id: Option<String>,
    pub leaf_event_id: Option<String>,
    #[serde(default)]
    pub stats: ConversationStats,
    #[serde(default)]
    pub secret_registry: Value,
    #[serde(default)]
    pub agent_state: Map<String, Value>,
    pub hook_config: Option<Value>,
    pub title: Option<String>,
    pub metrics: Option<Value>,
    /// UTC ISO with `Z`.
    pub created_at: String,
    pub updated_at: String,
    pub forked_from_conversation_id: Option<String>,
    pub forked_from_event_id: Option<String>,
    pub parent_conversation_id: Option<String>,
    #[serde(default)]
    pub sub_conversation_ids: Vec<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub current_model_id: Option<String>,
    #[serde(default)]
    pub available_models: Vec<Value>,
    #[serde(default)]
    pub supports_runtime_model_switch: bool,
    pub launched_agent_profile: Option<Value>,
    #[serde(default)]
    pub client_tools: Vec<Value>,
    /// Tool name → the Python module that defines it, so the Python client can import the
    /// action/observation classes before it syncs events.
    #[serde(default)]
    pub tool_module_qualnames: BTreeMap<String, String>,
    pub runtime_info: Option<Value>,
    /// The agent, secrets redacted.
    pub agent: AgentSpec,
}
