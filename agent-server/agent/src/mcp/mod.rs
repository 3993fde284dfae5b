//! MCP servers the agent uses tools from: a local program speaking MCP on stdin/stdout, or a
//! server over streamable HTTP. This module is Berth's own small interface ([`McpClient`]);
//! the `rmcp` crate (the official Rust SDK, pinned to one exact version because its API changes
//! with every major release) is used only in [`rmcp_client`], so an upgrade touches one file.
//!
//! A stdio server starts through `agent_env::launch`, like every process the agent starts (so
//! it is OS-confined in a process sandbox), with a cleared environment plus its own variables
//! (never the agent-server's keys), in a process group of its own killed when its client goes.
//! Every request has a deadline: a server that hangs fails with a timeout, never holds the
//! agent. The legacy HTTP+SSE transport is not supported: rmcp dropped its client, and the
//! error says so.

pub mod config;
mod probe;
mod rmcp_client;

pub use probe::probe;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use berth_protocol::McpErrorKind;
use serde_json::Value;

/// How to reach one MCP server.
#[derive(Debug, Clone, PartialEq)]
pub enum McpTransport {
    Stdio {
        command: String,
        args: Vec<String>,
        /// Its whole environment besides a few basics (`PATH`, `HOME`, locale).
        env: BTreeMap<String, String>,
        cwd: Option<PathBuf>,
    },
    StreamableHttp {
        url: String,
        headers: BTreeMap<String, String>,
    },
    /// The deprecated HTTP+SSE transport: refused with the reason.
    Sse { url: String },
}

/// Deadlines for one server.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct McpTimeouts {
    /// From spawning or connecting to an answered `initialize`.
    pub start: Duration,
    /// For listing its tools.
    pub list: Duration,
    /// For one tool call.
    pub call: Duration,
}

impl Default for McpTimeouts {
    fn default() -> Self {
        // OpenHands waits 30 s for the listing and 300 s for a call.
        Self {
            start: Duration::from_secs(30),
            list: Duration::from_secs(30),
            call: Duration::from_secs(300),
        }
    }
}

/// One tool a server offers, as the agent will see it.
#[derive(Debug, Clone, PartialEq)]
pub struct McpToolInfo {
    pub name: String,
    pub description: Option<String>,
    /// JSON Schema of its arguments (`inputSchema`).
    pub input_schema: Value,
    /// `readOnlyHint`: it changes nothing.
    pub read_only: bool,
    /// `destructiveHint`: it may destroy (the MCP default when not read-only).
    pub destructive: bool,
    /// `idempotentHint` (MCP default: false).
    pub idempotent: bool,
    /// `openWorldHint`: it reaches beyond the server (MCP default: true).
    pub open_world: bool,
    /// The tool as the server listed it (`name`, `inputSchema`, `annotations`…).
    pub raw: Value,
}

/// One block of a tool's answer; other kinds (audio, resources) are dropped, as OpenHands does.
#[derive(Debug, Clone, PartialEq)]
pub enum McpContent {
    Text(String),
    Image { mime_type: String, base64: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct McpCallResult {
    pub content: Vec<McpContent>,
    /// The server said the call failed (`isError`).
    pub is_error: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum McpError {
    #[error("cannot start the MCP server: {0}")]
    Start(String),
    #[error("the MCP server did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the MCP server's connection failed: {0}")]
    Connection(String),
    #[error(
        "the MCP server uses the legacy HTTP+SSE transport, which Berth does not support (the MCP SDK dropped it); use the server's streamable HTTP endpoint"
    )]
    SseUnsupported,
}

impl McpError {
    /// The kind `POST /api/mcp/test` reports.
    pub fn kind(&self) -> McpErrorKind {
        match self {
            Self::Timeout(_) => McpErrorKind::Timeout,
            Self::Connection(_) | Self::Start(_) => McpErrorKind::Connection,
            Self::SseUnsupported => McpErrorKind::Unknown,
        }
    }
}

/// A connected MCP server.
#[async_trait]
pub trait McpClient: Send + Sync {
    async fn tools(&self) -> Result<Vec<McpToolInfo>, McpError>;
    async fn call(&self, tool: &str, arguments: Value) -> Result<McpCallResult, McpError>;
}

/// Starts or connects to a server and completes the MCP handshake, within `timeouts.start`.
pub async fn connect(
    transport: &McpTransport,
    timeouts: McpTimeouts,
) -> Result<Box<dyn McpClient>, McpError> {
    rmcp_client::connect(transport, timeouts).await
}
