//! The conversation's state apart from its events: what `base_state.json` holds and what the
//! `full_state` update carries.

use std::collections::BTreeMap;

use berth_protocol::{AgentSpec, ConfirmationPolicy, ConversationStats, ExecutionStatus};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub use berth_protocol::Workspace as WorkspaceSpec;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationState {
    /// Dashed UUID.
    pub id: String,
    /// The agent, with its LLM secrets removed (they are never written to disk).
    pub agent: AgentSpec,
    pub workspace: WorkspaceSpec,
    pub persistence_dir: Option<String>,
    pub max_iterations: u32,
    pub stuck_detection: bool,
    pub execution_status: ExecutionStatus,
    pub confirmation_policy: ConfirmationPolicy,
    #[serde(default)]
    pub security_analyzer: Option<Value>,
    #[serde(default)]
    pub activated_knowledge_skills: Vec<String>,
    #[serde(default)]
    pub last_user_message_id: Option<String>,
    #[serde(default)]
    pub stats: ConversationStats,
    /// Secret names and descriptions; values live only in memory.
    #[serde(default)]
    pub secret_descriptions: BTreeMap<String, Option<String>>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub title: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Whether the one-time "you keep hitting the same error" nudge was given in this turn.
    #[serde(default)]
    pub error_nudge_given: bool,
    /// Secrets (LLM keys, secret values) sealed by the embedder's [`crate::Sealer`]; never
    /// plaintext. Without a sealer, secrets are not persisted and must be given again on load.
    #[serde(default)]
    pub sealed_secrets: Option<String>,
    /// Fields the embedding server keeps with the conversation (e.g. `tool_module_qualnames`).
    #[serde(default)]
    pub server_meta: serde_json::Map<String, Value>,
}

impl ConversationState {
    /// Whether the LLM's own `security_risk` assessment counts (an LLM security analyzer is set).
    pub fn llm_assesses_risk(&self) -> bool {
        self.security_analyzer
            .as_ref()
            .and_then(|a| a.get("kind"))
            .and_then(Value::as_str)
            .is_some_and(|k| k == "LLMSecurityAnalyzer")
    }

    /// The `full_state` value: OpenHands' `ConversationState` dump.
    pub fn full_state(&self, leaf_event_id: Option<&str>) -> Value {
        let secret_sources: serde_json::Map<String, Value> = self
            .secret_descriptions
            .iter()
            .map(|(k, d)| {
                (
                    k.clone(),
                    json!({"kind": "StaticSecret", "value": null, "description": d}),
                )
            })
            .collect();
        json!({
            "id": self.id,
            "agent": self.agent,
            "workspace": self.workspace,
            "persistence_dir": self.persistence_dir,
            "max_iterations": self.max_iterations,
            "stuck_detection": self.stuck_detection,
            "execution_status": self.execution_status,
            "confirmation_policy": self.confirmation_policy,
            "security_analyzer": self.security_analyzer,
            "activated_knowledge_skills": self.activated_knowledge_skills,
            "activated_path_rules": {},
            "invoked_skills": [],
            "blocked_actions": {},
            "blocked_messages": {},
            "last_user_message_id": self.last_user_message_id,
            "leaf_event_id": leaf_event_id,
            "head_is_empty": leaf_event_id.is_none(),
            "stats": self.stats,
            "secret_registry": {"secret_sources": secret_sources},
            "tags": self.tags,
            "agent_state": {},
            "hook_config": null,
        })
    }
}
