//! The agent configuration a client sends (`Agent` JSON with its `llm`, tools, context,
//! condenser). Fields Berth acts on are typed; everything else is kept in `extra` so a
//! round trip through Berth returns what the client sent.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LlmConfig {
    pub model: String,
    #[serde(default)]
    pub api_key: Option<String>,
    #[serde(default)]
    pub base_url: Option<String>,
    #[serde(default = "default_usage_id")]
    pub usage_id: String,
    #[serde(default = "default_num_retries")]
    pub num_retries: u32,
    #[serde(default = "default_retry_multiplier")]
    pub retry_multiplier: f64,
    /// Seconds.
    #[serde(default = "default_retry_min_wait")]
    pub retry_min_wait: u64,
    /// Seconds.
    #[serde(default = "default_retry_max_wait")]
    pub retry_max_wait: u64,
    /// Seconds per attempt.
    #[serde(default = "default_timeout")]
    pub timeout: u64,
    #[serde(default = "default_max_message_chars")]
    pub max_message_chars: usize,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub top_p: Option<f64>,
    #[serde(default)]
    pub max_output_tokens: Option<u64>,
    #[serde(default)]
    pub input_cost_per_token: Option<f64>,
    #[serde(default)]
    pub output_cost_per_token: Option<f64>,
    #[serde(default)]
    pub stream: bool,
    #[serde(default = "default_true")]
    pub caching_prompt: bool,
    #[serde(default = "default_true")]
    pub native_tool_calling: bool,
    #[serde(default)]
    pub reasoning_effort: Option<String>,
    #[serde(default)]
    pub extra_headers: Option<Map<String, Value>>,
    #[serde(flatten)]
    #[cfg_attr(feature = "ts", ts(skip))]
    pub extra: Map<String, Value>,
}

fn default_usage_id() -> String {
    "default".into()
}
fn default_num_retries() -> u32 {
    5
}
fn default_retry_multiplier() -> f64 {
    8.0
}
fn default_retry_min_wait() -> u64 {
    8
}
fn default_retry_max_wait() -> u64 {
    64
}
fn default_timeout() -> u64 {
    300
}
fn default_max_message_chars() -> usize {
    30_000
}
fn default_true() -> bool {
    true
}

impl LlmConfig {
    /// A config with OpenHands' defaults for everything but the model.
    pub fn new(model: impl Into<String>) -> Self {
        let mut v = Map::new();
        v.insert("model".into(), Value::String(model.into()));
        // Every other field has a serde default, so this cannot fail.
        serde_json::from_value(Value::Object(v)).unwrap_or_else(|_| unreachable!())
    }

    /// The same config with secrets removed, as responses must show it.
    pub fn redacted(&self) -> Self {
        let mut c = self.clone();
        c.api_key = None;
        for k in [
            "aws_access_key_id",
            "aws_secret_access_key",
            "aws_session_token",
        ] {
            if c.extra.contains_key(k) {
                c.extra.insert(k.into(), Value::Null);
            }
        }
        // Headers often carry credentials (`Authorization`, `x-api-key`): names stay, values go.
        if let Some(headers) = c.extra_headers.as_mut() {
            for v in headers.values_mut() {
                *v = Value::String(SECRET_HIDDEN.into());
            }
        }
        c
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ToolSpec {
    pub name: String,
    #[serde(default)]
    pub params: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum SkillTrigger {
    Keyword { keywords: Vec<String> },
    Task { triggers: Vec<String> },
    Path { paths: Vec<String> },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SkillSpec {
    pub name: String,
    pub content: String,
    #[serde(default)]
    pub trigger: Option<SkillTrigger>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(flatten)]
    #[cfg_attr(feature = "ts", ts(skip))]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AgentContext {
    #[serde(default)]
    pub skills: Vec<SkillSpec>,
    #[serde(default)]
    pub system_message_suffix: Option<String>,
    #[serde(default)]
    pub user_message_suffix: Option<String>,
    #[serde(default)]
    pub load_user_skills: bool,
    #[serde(default)]
    pub load_public_skills: bool,
    #[serde(default)]
    pub load_project_skills: bool,
    #[serde(flatten)]
    #[cfg_attr(feature = "ts", ts(skip))]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind")]
pub enum CondenserSpec {
    NoOpCondenser {},
    LLMSummarizingCondenser {
        llm: Box<LlmConfig>,
        #[serde(default = "default_max_size")]
        max_size: usize,
        #[serde(default)]
        max_tokens: Option<u64>,
        #[serde(default = "default_keep_first")]
        keep_first: usize,
    },
    PipelineCondenser {
        condensers: Vec<CondenserSpec>,
    },
}

impl CondenserSpec {
    /// Summarizes the oldest events with `llm` once the history passes `max_size` events,
    /// keeping the first ones (the system prompt and the task) as OpenHands does.
    pub fn summarizing(llm: LlmConfig, max_size: usize) -> Self {
        Self::LLMSummarizingCondenser {
            llm: Box::new(llm),
            max_size,
            max_tokens: None,
            keep_first: default_keep_first(),
        }
    }
}

fn default_max_size() -> usize {
    240
}
fn default_keep_first() -> usize {
    2
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AgentSpec {
    #[serde(default = "default_agent_kind")]
    pub kind: String,
    pub llm: LlmConfig,
    #[serde(default)]
    pub tools: Vec<ToolSpec>,
    #[serde(default = "default_include_tools")]
    pub include_default_tools: Vec<String>,
    #[serde(default)]
    pub agent_context: Option<AgentContext>,
    #[serde(default)]
    pub system_prompt: Option<String>,
    #[serde(default)]
    pub condenser: Option<CondenserSpec>,
    #[serde(default)]
    pub filter_tools_regex: Option<String>,
    /// MCP servers by name, as OpenHands sends them (the `mcpServers` wrapper allowed): the
    /// engine's `mcp::config` reads it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(type = "Record<string, unknown> | null"))]
    pub mcp_config: Option<Value>,
    #[serde(flatten)]
    #[cfg_attr(feature = "ts", ts(skip))]
    pub extra: Map<String, Value>,
}

/// What a secret's value is replaced by wherever it would be seen.
pub const SECRET_HIDDEN: &str = "<secret-hidden>";

/// Masks the values of every server's `env` and `headers`, as OpenHands dumps them: they hold
/// tokens. A value that only names secrets (`${VAR}`) carries none and is kept.
fn redact_mcp(config: &mut Value) {
    let servers = match config.get_mut("mcpServers") {
        Some(inner) => inner,
        None => config,
    };
    let Some(servers) = servers.as_object_mut() else {
        return;
    };
    for server in servers.values_mut() {
        for key in ["env", "headers"] {
            if let Some(Value::Object(values)) = server.get_mut(key) {
                for v in values.values_mut() {
                    if !v.as_str().is_some_and(|s| s.contains("${")) {
                        *v = Value::String(SECRET_HIDDEN.into());
                    }
                }
            }
        }
    }
}

fn default_agent_kind() -> String {
    "Agent".into()
}
fn default_include_tools() -> Vec<String> {
    vec!["FinishTool".into(), "ThinkTool".into()]
}

impl AgentSpec {
    pub fn new(llm: LlmConfig, tools: &[&str]) -> Self {
        Self {
            kind: default_agent_kind(),
            llm,
            tools: tools
                .iter()
                .map(|n| ToolSpec {
                    name: (*n).to_string(),
                    params: Map::new(),
                })
                .collect(),
            include_default_tools: default_include_tools(),
            agent_context: None,
            system_prompt: None,
            condenser: None,
            filter_tools_regex: None,
            mcp_config: None,
            extra: Map::new(),
        }
    }

    /// The same agent with every LLM secret removed.
    pub fn redacted(&self) -> Self {
        let mut a = self.clone();
        a.llm = a.llm.redacted();
        if let Some(CondenserSpec::LLMSummarizingCondenser { llm, .. }) = &mut a.condenser {
            **llm = llm.redacted();
        }
        if let Some(config) = &mut a.mcp_config {
            redact_mcp(config);
        }
        a
    }
}

#[cfg(test)]
mod redaction_tests {
    use super::*;

    #[test]
    fn redaction_masks_mcp_env_and_headers_but_keeps_secret_references() {
        let mut a = AgentSpec::new(LlmConfig::new("openai/x"), &[]);
        a.mcp_config = Some(serde_json::json!({"mcpServers": {
            "gh": {"command": "gh-mcp", "env": {"TOKEN": "ghp-literal", "REF": "${GH}"}},
            "web": {"url": "https://x", "headers": {"Authorization": "Bearer tok-9"}},
        }}));
        let r = serde_json::to_string(&a.redacted()).unwrap_or_default();
        assert!(!r.contains("ghp-literal") && !r.contains("tok-9"), "{r}");
        assert!(
            r.contains("${GH}") && r.contains("Authorization") && r.contains("gh-mcp"),
            "{r}"
        );
    }

    #[test]
    fn redaction_drops_keys_and_header_values_but_keeps_header_names() {
        let mut c = LlmConfig::new("openai/x");
        c.api_key = Some("sk-1".into());
        let mut h = Map::new();
        h.insert("Authorization".into(), Value::String("Bearer sk-2".into()));
        c.extra_headers = Some(h);
        let r = serde_json::to_string(&c.redacted()).unwrap_or_default();
        assert!(!r.contains("sk-1") && !r.contains("sk-2"), "{r}");
        assert!(r.contains("Authorization"), "{r}");
    }
}
