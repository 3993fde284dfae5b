//! Actions (what a tool call asks for) and observations (what the tool answered), one variant per
//! OpenHands class, discriminated by `kind`. Kinds Berth does not know (MCP tools, browser tools
//! of another server) are kept as raw JSON so nothing is lost in transit.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::content::Content;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TerminalAction {
    pub command: String,
    #[serde(default)]
    pub is_input: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<f64>,
    #[serde(default)]
    pub reset: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum FileEditorCommand {
    View,
    Create,
    StrReplace,
    Insert,
    UndoEdit,
}

impl FileEditorCommand {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::View => "view",
            Self::Create => "create",
            Self::StrReplace => "str_replace",
            Self::Insert => "insert",
            Self::UndoEdit => "undo_edit",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FileEditorAction {
    pub command: FileEditorCommand,
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_str: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_str: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(as = "Option<f64>"))]
    pub insert_line: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(as = "Option<Vec<f64>>"))]
    pub view_range: Option<Vec<i64>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    #[default]
    Todo,
    InProgress,
    Done,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TaskItem {
    pub title: String,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub status: TaskStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum TaskTrackerCommand {
    #[default]
    View,
    Plan,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TaskTrackerAction {
    #[serde(default)]
    pub command: TaskTrackerCommand,
    #[serde(default)]
    pub task_list: Vec<TaskItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FinishAction {
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ThinkAction {
    pub thought: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GlobAction {
    pub pattern: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GrepAction {
    pub pattern: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<String>,
}

/// A call of an MCP server's tool: its arguments as the tool's `inputSchema` describes them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct McpToolAction {
    #[cfg_attr(feature = "ts", ts(type = "Record<string, unknown>"))]
    pub data: serde_json::Map<String, Value>,
}

/// An MCP tool's answer as OpenHands records it: first `[Tool '<name>' executed.]`, then each
/// text block and each image (as a `data:` URL).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct McpToolObservation {
    pub content: Vec<Content>,
    #[serde(default)]
    pub is_error: bool,
    pub tool_name: String,
}

/// A validated tool call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind")]
pub enum Action {
    TerminalAction(TerminalAction),
    FileEditorAction(FileEditorAction),
    TaskTrackerAction(TaskTrackerAction),
    FinishAction(FinishAction),
    ThinkAction(ThinkAction),
    GlobAction(GlobAction),
    GrepAction(GrepAction),
    #[serde(rename = "MCPToolAction")]
    McpToolAction(McpToolAction),
    /// Any other kind (tools of another server), kept verbatim including `kind`.
    #[cfg_attr(feature = "ts", ts(skip))]
    #[serde(untagged)]
    Other(serde_json::Map<String, Value>),
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CmdOutputMetadata {
    #[serde(default = "minus_one")]
    #[cfg_attr(feature = "ts", ts(as = "f64"))]
    pub exit_code: i64,
    #[serde(default = "minus_one")]
    #[cfg_attr(feature = "ts", ts(as = "f64"))]
    pub pid: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub py_interpreter_path: Option<String>,
    #[serde(default)]
    pub prefix: String,
    #[serde(default)]
    pub suffix: String,
}

fn minus_one() -> i64 {
    -1
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TerminalObservation {
    pub content: Vec<Content>,
    #[serde(default)]
    pub is_error: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(as = "Option<f64>"))]
    pub exit_code: Option<i64>,
    #[serde(default)]
    pub timeout: bool,
    #[serde(default)]
    pub metadata: CmdOutputMetadata,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_output_save_dir: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FileEditorObservation {
    pub content: Vec<Content>,
    #[serde(default)]
    pub is_error: bool,
    pub command: FileEditorCommand,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default)]
    pub prev_exist: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_content: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TaskTrackerObservation {
    pub content: Vec<Content>,
    #[serde(default)]
    pub is_error: bool,
    #[serde(default)]
    pub command: TaskTrackerCommand,
    #[serde(default)]
    pub task_list: Vec<TaskItem>,
}

/// Observations that carry nothing but content (`FinishObservation`, `ThinkObservation`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PlainObservation {
    pub content: Vec<Content>,
    #[serde(default)]
    pub is_error: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GlobObservation {
    pub content: Vec<Content>,
    #[serde(default)]
    pub is_error: bool,
    pub files: Vec<String>,
    pub pattern: String,
    pub search_path: String,
    #[serde(default)]
    pub truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GrepObservation {
    pub content: Vec<Content>,
    #[serde(default)]
    pub is_error: bool,
    pub matches: Vec<String>,
    pub pattern: String,
    pub search_path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_pattern: Option<String>,
    #[serde(default)]
    pub truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind")]
pub enum Observation {
    TerminalObservation(TerminalObservation),
    FileEditorObservation(FileEditorObservation),
    TaskTrackerObservation(TaskTrackerObservation),
    FinishObservation(PlainObservation),
    ThinkObservation(PlainObservation),
    GlobObservation(GlobObservation),
    GrepObservation(GrepObservation),
    #[serde(rename = "MCPToolObservation")]
    McpToolObservation(McpToolObservation),
    #[cfg_attr(feature = "ts", ts(skip))]
    #[serde(untagged)]
    Other(serde_json::Map<String, Value>),
}

impl Observation {
    /// The content shown to the LLM, and whether it reports an error.
    pub fn content_and_error(&self) -> (Vec<Content>, bool) {
        match self {
            Observation::TerminalObservation(o) => (o.content.clone(), o.is_error),
            Observation::FileEditorObservation(o) => (o.content.clone(), o.is_error),
            Observation::TaskTrackerObservation(o) => (o.content.clone(), o.is_error),
            Observation::FinishObservation(o) | Observation::ThinkObservation(o) => {
                (o.content.clone(), o.is_error)
            }
            Observation::GlobObservation(o) => (o.content.clone(), o.is_error),
            Observation::GrepObservation(o) => (o.content.clone(), o.is_error),
            Observation::McpToolObservation(o) => (o.content.clone(), o.is_error),
            Observation::Other(map) => {
                let content = map
                    .get("content")
                    .and_then(|c| serde_json::from_value(c.clone()).ok())
                    .unwrap_or_default();
                let is_error = map
                    .get("is_error")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                (content, is_error)
            }
        }
    }

    /// Mutable access to the content list, for secret masking.
    pub fn content_mut(&mut self) -> Option<&mut Vec<Content>> {
        match self {
            Observation::TerminalObservation(o) => Some(&mut o.content),
            Observation::FileEditorObservation(o) => Some(&mut o.content),
            Observation::TaskTrackerObservation(o) => Some(&mut o.content),
            Observation::FinishObservation(o) | Observation::ThinkObservation(o) => {
                Some(&mut o.content)
            }
            Observation::GlobObservation(o) => Some(&mut o.content),
            Observation::GrepObservation(o) => Some(&mut o.content),
            Observation::McpToolObservation(o) => Some(&mut o.content),
            Observation::Other(_) => None,
        }
    }
}
