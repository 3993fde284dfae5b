//! MCP on the wire: a conversation's servers and their health (Berth's
//! `GET /api/conversations/{id}/mcp`), and `POST /api/mcp/test` in the shapes of OpenHands'
//! agent-server 1.58.2 (`MCPTestRequest`, `MCPTestSuccess`, `MCPTestFailure`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// How a server is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum McpTransportKind {
    Stdio,
    Http,
    Sse,
}

/// Why a server could not be used, as coarsely as OpenHands reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum McpErrorKind {
    Timeout,
    Connection,
    Unknown,
}

impl McpErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Connection => "connection",
            Self::Unknown => "unknown",
        }
    }
}

/// One tool of a server, as the agent sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct McpToolSummary {
    /// The name the agent calls it by (`{server}_{tool}` when the conversation has several
    /// servers, as OpenHands names them).
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub read_only: bool,
    pub destructive: bool,
}

/// Whether a server's tools can be used now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum McpServerHealth {
    Connected,
    /// It never started, or it was lost and did not come back.
    Failed {
        error: String,
        error_kind: McpErrorKind,
    },
}

/// One MCP server of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct McpServerState {
    pub name: String,
    pub transport: McpTransportKind,
    #[serde(flatten)]
    pub health: McpServerHealth,
    /// Its tools, as listed when it connected (empty when it never did).
    pub tools: Vec<McpToolSummary>,
}

/// `POST /api/mcp/test`: one server, connected and listed in isolation, never stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McpTestRequest {
    #[serde(default = "default_test_name")]
    pub name: String,
    /// One server as `mcp_config` holds it (`command`… or `url`…; `type` or `transport`).
    pub server: Map<String, Value>,
    /// Seconds for connecting and listing (OpenHands: 15 by default, at most 120).
    #[serde(default = "default_test_timeout")]
    pub timeout: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call: Option<McpToolCallSpec>,
}

fn default_test_name() -> String {
    "test-server".into()
}

fn default_test_timeout() -> f64 {
    15.0
}

/// A tool to call once the listing worked, to exercise credentials a server only uses then.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McpToolCallSpec {
    pub name: String,
    #[serde(default)]
    pub arguments: Map<String, Value>,
}

/// The outcome of [`McpToolCallSpec`], verbatim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct McpToolCallResult {
    pub is_error: bool,
    pub text: String,
}

/// The answer of `POST /api/mcp/test` (HTTP 200 either way: a failure is the expected outcome
/// of checking what a user typed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(untagged)]
pub enum McpTestResponse {
    Success {
        /// Always `true`.
        ok: bool,
        tools: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tool_result: Option<McpToolCallResult>,
    },
    Failure {
        /// Always `false`.
        ok: bool,
        error: String,
        error_kind: McpErrorKind,
    },
}

impl McpTestResponse {
    pub fn success(tools: Vec<String>, tool_result: Option<McpToolCallResult>) -> Self {
        Self::Success {
            ok: true,
            tools,
            tool_result,
        }
    }

    pub fn failure(error: impl Into<String>, error_kind: McpErrorKind) -> Self {
        Self::Failure {
            ok: false,
            error: error.into(),
            error_kind,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn test_answers_read_as_openhands_writes_them() -> Result<(), serde_json::Error> {
        let ok: McpTestResponse = serde_json::from_value(json!({"ok": true, "tools": ["echo"]}))?;
        assert_eq!(ok, McpTestResponse::success(vec!["echo".into()], None));
        let failed: McpTestResponse = serde_json::from_value(
            json!({"ok": false, "error": "Connection closed", "error_kind": "connection"}),
        )?;
        assert_eq!(
            failed,
            McpTestResponse::failure("Connection closed", McpErrorKind::Connection)
        );
        Ok(())
    }

    #[test]
    fn a_test_request_takes_openhands_defaults() -> Result<(), serde_json::Error> {
        let req: McpTestRequest =
            serde_json::from_value(json!({"server": {"type": "stdio", "command": "x"}}))?;
        assert_eq!(req.name, "test-server");
        assert_eq!(req.timeout, 15.0);
        Ok(())
    }

    #[test]
    fn a_server_state_is_flat() -> Result<(), serde_json::Error> {
        let state = McpServerState {
            name: "time".into(),
            transport: McpTransportKind::Stdio,
            health: McpServerHealth::Failed {
                error: "no such program".into(),
                error_kind: McpErrorKind::Connection,
            },
            tools: vec![],
        };
        assert_eq!(
            serde_json::to_value(&state)?,
            json!({"name": "time", "transport": "stdio", "status": "failed",
                   "error": "no such program", "error_kind": "connection", "tools": []})
        );
        Ok(())
    }
}
