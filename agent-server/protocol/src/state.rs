//! Conversation state values: execution status, confirmation policy, metrics.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How risky the agent says an action is; confirmation policies compare against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "UPPERCASE")]
pub enum SecurityRisk {
    #[default]
    Unknown,
    Low,
    Medium,
    High,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ExecutionStatus {
    #[default]
    Idle,
    Running,
    Paused,
    WaitingForConfirmation,
    Finished,
    Error,
    Stuck,
    Deleting,
}

impl ExecutionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Running => "running",
            Self::Paused => "paused",
            Self::WaitingForConfirmation => "waiting_for_confirmation",
            Self::Finished => "finished",
            Self::Error => "error",
            Self::Stuck => "stuck",
            Self::Deleting => "deleting",
        }
    }

    /// Finished, error and stuck end a run for good.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Finished | Self::Error | Self::Stuck)
    }

    /// The run has stopped and waits for the user: it ended, was paused, or asks for a
    /// confirmation.
    pub fn is_settled(self) -> bool {
        self.is_terminal() || matches!(self, Self::Paused | Self::WaitingForConfirmation)
    }

    /// An agent is at work, or waits for the user to let it go on.
    pub fn is_active(self) -> bool {
        matches!(self, Self::Running | Self::WaitingForConfirmation)
    }

    /// The status a wire or stored string names; `None` for anything else (an agent-server's
    /// events are its own to write, so an odd value is ignored, never guessed at).
    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
    }
}

impl std::fmt::Display for ExecutionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `key`s of a `ConversationStateUpdateEvent` that have a meaning of their own.
pub mod state_key {
    /// The value is the new [`super::ExecutionStatus`].
    pub const EXECUTION_STATUS: &str = "execution_status";
    /// The value is a snapshot of the whole state, sent to a new subscriber; never stored.
    pub const FULL_STATE: &str = "full_state";
    /// The value is the conversation's [`super::ConversationStats`].
    pub const STATS: &str = "stats";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind")]
pub enum ConfirmationPolicy {
    #[default]
    NeverConfirm,
    AlwaysConfirm,
    ConfirmRisky {
        #[serde(default = "default_threshold")]
        threshold: SecurityRisk,
        #[serde(default = "default_true")]
        confirm_unknown: bool,
    },
}

fn default_threshold() -> SecurityRisk {
    SecurityRisk::High
}

fn default_true() -> bool {
    true
}

impl ConfirmationPolicy {
    /// Whether an action of this risk must wait for the user.
    pub fn should_confirm(&self, risk: SecurityRisk) -> bool {
        match self {
            Self::NeverConfirm => false,
            Self::AlwaysConfirm => true,
            Self::ConfirmRisky {
                threshold,
                confirm_unknown,
            } => {
                if risk == SecurityRisk::Unknown {
                    *confirm_unknown
                } else {
                    risk >= *threshold
                }
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TokenUsage {
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub prompt_tokens: u64,
    #[serde(default)]
    pub completion_tokens: u64,
    #[serde(default)]
    pub cache_read_tokens: u64,
    #[serde(default)]
    pub cache_write_tokens: u64,
    #[serde(default)]
    pub reasoning_tokens: u64,
    #[serde(default)]
    pub context_window: u64,
    #[serde(default)]
    pub per_turn_token: u64,
    #[serde(default)]
    pub response_id: String,
}

impl TokenUsage {
    pub fn add(&mut self, other: &TokenUsage) {
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
        self.cache_read_tokens += other.cache_read_tokens;
        self.cache_write_tokens += other.cache_write_tokens;
        self.reasoning_tokens += other.reasoning_tokens;
        self.context_window = self.context_window.max(other.context_window);
        self.per_turn_token = other.per_turn_token;
        self.response_id = other.response_id.clone();
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Cost {
    pub model: String,
    pub cost: f64,
    pub timestamp: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ResponseLatency {
    pub model: String,
    pub latency: f64,
    pub response_id: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Metrics {
    #[serde(default)]
    pub model_name: String,
    #[serde(default)]
    pub accumulated_cost: f64,
    #[serde(default)]
    pub max_budget_per_task: Option<f64>,
    #[serde(default)]
    pub accumulated_token_usage: Option<TokenUsage>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub costs: Vec<Cost>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub response_latencies: Vec<ResponseLatency>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub token_usages: Vec<TokenUsage>,
}

impl Metrics {
    /// The compact form sent in `stats` state updates: no per-call lists.
    pub fn compact(&self) -> Metrics {
        Metrics {
            costs: Vec::new(),
            response_latencies: Vec::new(),
            token_usages: Vec::new(),
            ..self.clone()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConversationStats {
    #[serde(default)]
    pub usage_to_metrics: BTreeMap<String, Metrics>,
}

impl ConversationStats {
    pub fn compact(&self) -> ConversationStats {
        ConversationStats {
            usage_to_metrics: self
                .usage_to_metrics
                .iter()
                .map(|(k, v)| (k.clone(), v.compact()))
                .collect(),
        }
    }
}
