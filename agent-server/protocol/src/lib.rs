//! `berth-protocol`: the wire types of Berth's agent-server, shared by the engine
//! (`berth-agent`), the server (`berth-agent-server`) and the app (`berth-app`).
//!
//! The shapes are those of OpenHands' agent-server 1.58.2 (`openhands-sdk`): every polymorphic
//! object carries `kind` = the Python class name, optional fields are left out when empty (the
//! server's `exclude_none`), and unknown kinds are kept verbatim rather than rejected. This crate
//! does no I/O; it depends only on serde, chrono (timestamps) and uuid (ids).

pub mod agent;
pub mod api;
pub mod confinement;
pub mod content;
pub mod conversation;
pub mod event;
pub mod keys;
pub mod mcp;
pub mod pending;
pub mod state;
pub mod tool_io;
pub mod workspace;

pub use agent::{
    AgentContext, AgentSpec, CondenserSpec, LlmConfig, SkillSpec, SkillTrigger, ToolSpec,
};
pub use confinement::{CONFINEMENT_ENV, ConfinementPolicy, ConfinementState, NetworkAccess};
pub use content::{
    Content, ImageContent, Message, MessageToolCall, Role, TextContent, content_text,
};
pub use conversation::{ConversationInfo, Workspace};
pub use event::{
    ErrorClassification, Event, EventBody, FailureAction, FailureKind, RejectionSource,
    SecurityRisk, Source, ToolAnnotations, ToolDefinition,
};
pub use keys::{KEYS_FILE_ENV, ServerKeys};
pub use mcp::{
    McpErrorKind, McpServerHealth, McpServerState, McpTestRequest, McpTestResponse,
    McpToolCallResult, McpToolCallSpec, McpToolSummary, McpTransportKind,
};
pub use pending::{PendingAction, pending_actions};
pub use state::{
    ConfirmationPolicy, ConversationStats, ExecutionStatus, Metrics, TokenUsage, state_key,
};
pub use tool_io::*;
pub use workspace::{GitChange, GitChangeStatus};
