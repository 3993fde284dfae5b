//! Tools the agent can call. Each tool has the registered name, parameters and limits of its
//! OpenHands counterpart so that events and prompts are interchangeable. Every schema offered to
//! the LLM gains `security_risk` (except read-only tools) and `summary`, placed first; both are
//! stripped before the arguments are validated.

pub mod file_editor;
mod files;
pub mod mcp;
pub mod search;
pub mod simple;
pub mod task_tracker;
pub mod terminal;

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use berth_protocol::{Action, Content, Observation, ToolAnnotations, ToolDefinition};
use serde_json::{Map, Value, json};

use crate::llm::ToolSchema;
use crate::secrets::SecretRegistry;

/// What a tool may use while it runs.
#[derive(Clone)]
pub struct ToolContext {
    /// The workspace directory (the terminal starts there; relative paths are refused).
    pub workspace: PathBuf,
    /// The conversation's persistence directory, for `TASKS.json` and full terminal outputs.
    pub persistence_dir: Option<PathBuf>,
    pub secrets: SecretRegistry,
}

impl ToolContext {
    /// A context for `workspace` alone: nothing persisted, no secrets.
    pub fn new(workspace: impl Into<PathBuf>) -> Self {
        Self {
            workspace: workspace.into(),
            persistence_dir: None,
            secrets: SecretRegistry::default(),
        }
    }
}

#[async_trait]
pub trait Tool: Send + Sync {
    /// The registered snake_case name (the LLM function name).
    fn name(&self) -> &str;
    /// The OpenHands class names: tool, action, observation.
    fn kinds(&self) -> (&str, &str, &str);
    fn description(&self) -> String;
    /// JSON schema of the tool's own parameters.
    fn parameters(&self) -> Value;
    fn annotations(&self) -> ToolAnnotations;
    /// The risk the tool declares of itself (an MCP tool's annotations): the LLM's own
    /// assessment may raise it, never lower it.
    fn declared_risk(&self) -> Option<berth_protocol::SecurityRisk> {
        None
    }
    /// An MCP tool's definition as its server gave it, listed with the tool as OpenHands does.
    fn mcp_tool(&self) -> Option<Value> {
        None
    }
    /// Turns validated JSON arguments into an action.
    fn parse(&self, args: Value) -> Result<Action, String>;
    async fn execute(&self, action: &Action, ctx: &ToolContext) -> Observation;

    fn definition(&self) -> ToolDefinition {
        let (tool, action, observation) = self.kinds();
        ToolDefinition {
            description: self.description(),
            action_type: action.into(),
            observation_type: observation.into(),
            annotations: self.annotations(),
            meta: None,
            mcp_tool: self.mcp_tool(),
            kind: tool.into(),
            title: self.name().into(),
        }
    }

    /// The schema offered to the LLM: `security_risk` and `summary` first, then the tool's own.
    fn schema(&self) -> ToolSchema {
        let own = self.parameters();
        let mut props = Map::new();
        if !self.annotations().read_only_hint {
            props.insert(
                "security_risk".into(),
                json!({"type": "string", "enum": ["UNKNOWN", "LOW", "MEDIUM", "HIGH"],
                       "description": "How risky this call is: LOW for reading, MEDIUM for changing files in the workspace, HIGH for anything that deletes data, touches secrets, the network or the system."}),
            );
        }
        props.insert(
            "summary".into(),
            json!({"type": "string", "description": "About ten words saying what this call does, shown to the user."}),
        );
        if let Some(own_props) = own["properties"].as_object() {
            for (k, v) in own_props {
                props.insert(k.clone(), v.clone());
            }
        }
        ToolSchema {
            name: self.name().into(),
            description: self.description(),
            parameters: json!({"type": "object", "properties": props,
                               "required": own["required"].clone()}),
        }
    }
}

pub fn annotations(
    title: &str,
    read_only: bool,
    destructive: bool,
    idempotent: bool,
    open_world: bool,
) -> ToolAnnotations {
    ToolAnnotations {
        title: Some(title.into()),
        read_only_hint: read_only,
        destructive_hint: destructive,
        idempotent_hint: idempotent,
        open_world_hint: open_world,
    }
}

/// Checks arguments against a tool's parameters: required ones present, no unknown ones.
/// Returns the message OpenHands gives, so the LLM can correct itself.
pub fn validate_args(tool: &dyn Tool, args: &Value) -> Result<Value, String> {
    let Value::Object(map) = args else {
        return Err(format!(
            "Error validating tool '{}': arguments must be a JSON object, got {args}",
            tool.name()
        ));
    };
    let mut map = map.clone();
    map.remove("security_risk");
    map.remove("summary");
    let params = tool.parameters();
    let known: Vec<&str> = params["properties"]
        .as_object()
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let provided: Vec<String> = map.keys().cloned().collect();
    let fail = |why: String| {
        format!(
            "Error validating tool '{}': {why}. Parameters provided: {:?}",
            tool.name(),
            provided
        )
    };
    if let Some(unknown) = map.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(fail(format!(
            "unknown parameter '{unknown}' (accepted: {known:?})"
        )));
    }
    for req in params["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !map.contains_key(req) || map[req].is_null() {
            return Err(fail(format!("missing required parameter '{req}'")));
        }
    }
    // Drop explicit nulls: they mean "not given".
    map.retain(|_, v| !v.is_null());
    Ok(Value::Object(map))
}

/// Deserializes validated arguments into an action struct, with a readable error.
pub fn from_args<T: serde::de::DeserializeOwned>(tool: &str, args: Value) -> Result<T, String> {
    let provided: Vec<String> = args
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    serde_json::from_value(args).map_err(|e| {
        format!("Error validating tool '{tool}': {e}. Parameters provided: {provided:?}")
    })
}

pub fn text_content(text: impl Into<String>) -> Vec<Content> {
    vec![Content::text(text)]
}

/// The tools of one agent, in the order they are offered.
#[derive(Clone)]
pub struct ToolSet {
    tools: Vec<Arc<dyn Tool>>,
}

impl ToolSet {
    pub fn new(tools: Vec<Arc<dyn Tool>>) -> Self {
        Self { tools }
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn Tool>> {
        self.tools.iter().find(|t| t.name() == name)
    }

    pub fn names(&self) -> Vec<&str> {
        self.tools.iter().map(|t| t.name()).collect()
    }

    pub fn schemas(&self) -> Vec<ToolSchema> {
        self.tools.iter().map(|t| t.schema()).collect()
    }

    pub fn definitions(&self) -> Vec<ToolDefinition> {
        self.tools.iter().map(|t| t.definition()).collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Tool>> {
        self.tools.iter()
    }
}

/// Builds a tool by its registered name (`terminal`, `file_editor`, …, `FinishTool`, `ThinkTool`).
pub fn tool_by_name(name: &str, options: &ToolOptions) -> Option<Arc<dyn Tool>> {
    Some(match name {
        "terminal" | "TerminalTool" | "execute_bash" | "bash" => {
            Arc::new(terminal::TerminalTool::new(options.terminal.clone()))
        }
        "file_editor" | "FileEditorTool" | "str_replace_editor" => {
            Arc::new(file_editor::FileEditorTool::default())
        }
        "task_tracker" | "TaskTrackerTool" => Arc::new(task_tracker::TaskTrackerTool::default()),
        "finish" | "FinishTool" => Arc::new(simple::FinishTool),
        "think" | "ThinkTool" => Arc::new(simple::ThinkTool),
        "glob" | "GlobTool" => Arc::new(search::GlobTool),
        "grep" | "GrepTool" => Arc::new(search::GrepTool),
        _ => return None,
    })
}

/// Settings that shape tools (tests shorten the terminal's timeouts).
#[derive(Debug, Clone, Default)]
pub struct ToolOptions {
    pub terminal: terminal::TerminalOptions,
}
