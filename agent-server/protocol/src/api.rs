//! The bodies of the agent-server routes Berth's app calls, in the shapes of OpenHands'
//! agent-server 1.58.2: the server reads them and the app's client writes them, so the two
//! cannot drift apart. Unknown keys are ignored on the way in, as OpenHands does.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::content::Content;
use crate::state::ConfirmationPolicy;

/// The tools a Berth conversation gives its agent.
pub const DEFAULT_TOOLS: &[&str] = &["terminal", "file_editor", "task_tracker", "glob", "grep"];
/// Steps an agent may take in one run unless the request says otherwise.
pub const DEFAULT_MAX_ITERATIONS: u32 = 500;

/// Where a conversation works, as a path inside the sandbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkspaceRequest {
    pub working_dir: String,
}

/// `POST /api/conversations`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StartConversationRequest {
    /// The agent as JSON: the server reads it into an `AgentSpec` itself, so that a malformed
    /// one is refused with the field it got wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<WorkspaceRequest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<uuid::Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation_policy: Option<ConfirmationPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_analyzer: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_message: Option<SendMessageRequest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_iterations: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stuck_detection: Option<bool>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, SecretInput>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tool_module_qualnames: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub client_tools: Vec<Value>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_settings: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_profile_id: Option<Value>,
}

/// A secret's value in a create request or `POST /api/conversations/{id}/secrets`: a bare
/// string, or OpenHands' `{"kind": "StaticSecret", "value": …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SecretInput {
    Plain(String),
    Source {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kind: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
    },
}

impl SecretInput {
    /// A value given outright, with what it is for (shown to the agent, never the value).
    pub fn fixed(value: impl Into<String>, description: Option<String>) -> Self {
        Self::Source {
            kind: Some("StaticSecret".into()),
            value: Some(value.into()),
            description,
        }
    }
}

/// `POST /api/conversations/{id}/secrets`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SecretsRequest {
    pub secrets: BTreeMap<String, SecretInput>,
}

/// `POST /api/conversations/{id}/events`, and a create request's `initial_message`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendMessageRequest {
    #[serde(default = "user_role")]
    pub role: String,
    #[serde(default)]
    pub content: Vec<Content>,
    #[serde(default)]
    pub run: bool,
}

fn user_role() -> String {
    "user".into()
}

impl SendMessageRequest {
    /// A user's text message; `run` starts the agent on it.
    pub fn user_text(text: impl Into<String>, run: bool) -> Self {
        Self {
            role: user_role(),
            content: vec![Content::text(text)],
            run,
        }
    }
}

/// `POST /api/conversations/{id}/events/respond_to_confirmation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfirmationResponse {
    pub accept: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `POST /api/conversations/{id}/ask_agent`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AskRequest {
    pub question: String,
}

/// The answer to an [`AskRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AskResponse {
    pub response: String,
}

/// `POST /api/bash/execute_bash_command` and `start_bash_command`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecuteBashRequest {
    pub command: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// Seconds.
    #[serde(default = "default_bash_timeout")]
    pub timeout: f64,
}

fn default_bash_timeout() -> f64 {
    300.0
}

/// A command started through `/api/bash`, as its first event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BashCommand {
    pub command: String,
    pub cwd: Option<String>,
    pub timeout: f64,
    pub id: String,
    pub timestamp: String,
    pub kind: String,
}

/// Output of a command run through `/api/bash`; `execute_bash_command` answers with the merged
/// output of the whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BashOutput {
    pub id: String,
    pub timestamp: String,
    pub command_id: String,
    pub order: u64,
    pub exit_code: Option<i64>,
    pub stdout: Option<String>,
    pub stderr: Option<String>,
    pub kind: String,
}

/// One page of a search route (events, conversations, bash events). The app reads items as
/// JSON first, so that one item it cannot read is left out rather than losing the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    #[serde(default)]
    pub next_page_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_create_request_is_written_as_openhands_reads_it() {
        let mut secrets = BTreeMap::new();
        secrets.insert("TOKEN".into(), SecretInput::fixed("v", None));
        let req = StartConversationRequest {
            workspace: Some(WorkspaceRequest {
                working_dir: "/w".into(),
            }),
            initial_message: Some(SendMessageRequest::user_text("hi", true)),
            secrets,
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&req).unwrap(),
            serde_json::json!({
                "workspace": {"working_dir": "/w"},
                "initial_message": {"role": "user", "content": [{"type": "text", "text": "hi", "cache_prompt": false}], "run": true},
                "secrets": {"TOKEN": {"kind": "StaticSecret", "value": "v"}},
            })
        );
        let plain: SecretInput = serde_json::from_str("\"v\"").unwrap();
        assert_eq!(plain, SecretInput::Plain("v".into()));
    }
}
