//! A conversation's MCP servers: started side by side, each within its own deadlines, so one
//! that fails or hangs costs only its own tools; each one's health kept for the user to see; a
//! server whose connection is lost started again once per call before the call fails.
//!
//! Tool names follow OpenHands: with one server its tools keep their names; with several, each
//! is `{server}_{tool}` (FastMCP mounts every server under its name). Characters an LLM API
//! refuses in a function name become `_`, and a name that would repeat another is skipped.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use berth_protocol::{McpServerHealth, McpServerState, McpToolSummary, McpTransportKind};
use serde_json::Value;

use super::McpTool;
use crate::mcp::config::McpServerConfig;
use crate::mcp::{McpCallResult, McpClient, McpError, McpTimeouts, McpToolInfo, McpTransport};
use crate::tools::Tool;

/// The longest function name OpenAI's and Anthropic's APIs take.
const MAX_TOOL_NAME: usize = 64;

/// The servers of one conversation; dropping it stops the stdio ones.
#[derive(Default)]
pub struct McpServers {
    servers: Vec<Server>,
}

struct Server {
    name: String,
    transport: McpTransportKind,
    health: Arc<Mutex<McpServerHealth>>,
    /// The tools it listed, with the names the agent calls them by.
    tools: Vec<(String, McpToolInfo)>,
    client: Option<Arc<Supervised>>,
}

impl McpServers {
    /// Connects every server at once and lists its tools; `timeouts` apply to each server
    /// whose config names no call deadline of its own.
    pub async fn start(configs: Vec<McpServerConfig>, timeouts: McpTimeouts) -> Self {
        let several = configs.len() > 1;
        let servers =
            futures::future::join_all(configs.into_iter().map(|c| start_one(c, timeouts))).await;
        let mut taken = std::collections::HashSet::new();
        let servers = servers
            .into_iter()
            .map(|(mut server, listed, allowed)| {
                for info in listed {
                    if !allowed.is_empty() && !allowed.contains(&info.name) {
                        continue;
                    }
                    let raw = if several {
                        format!("{}_{}", server.name, info.name)
                    } else {
                        info.name.clone()
                    };
                    let name = tool_name(&raw);
                    if taken.insert(name.clone()) {
                        server.tools.push((name, info));
                    } else {
                        tracing::warn!(server = %server.name, tool = %info.name, "an MCP tool whose name another tool has is left out");
                    }
                }
                server
            })
            .collect();
        Self { servers }
    }

    /// Every connected server's tools, as agent tools.
    pub fn tools(&self) -> Vec<Arc<dyn Tool>> {
        self.servers
            .iter()
            .filter_map(|s| s.client.as_ref().map(|c| (s, c)))
            .flat_map(|(s, client)| {
                s.tools.iter().map(|(name, info)| {
                    Arc::new(McpTool::new(
                        name.clone(),
                        info.clone(),
                        client.clone() as Arc<dyn McpClient>,
                    )) as Arc<dyn Tool>
                })
            })
            .collect()
    }

    /// Each server's health and tools, now.
    pub fn states(&self) -> Vec<McpServerState> {
        self.servers
            .iter()
            .map(|s| McpServerState {
                name: s.name.clone(),
                transport: s.transport,
                health: s.health.lock().unwrap_or_else(|e| e.into_inner()).clone(),
                tools: s
                    .tools
                    .iter()
                    .map(|(name, info)| McpToolSummary {
                        name: name.clone(),
                        description: info.description.clone(),
                        read_only: info.read_only,
                        destructive: info.destructive,
                    })
                    .collect(),
            })
            .collect()
    }
}

async fn start_one(
    config: McpServerConfig,
    timeouts: McpTimeouts,
) -> (Server, Vec<McpToolInfo>, Vec<String>) {
    let timeouts = McpTimeouts {
        call: config.timeout.unwrap_or(timeouts.call),
        ..timeouts
    };
    let transport = match &config.transport {
        McpTransport::Stdio { .. } => McpTransportKind::Stdio,
        McpTransport::StreamableHttp { .. } => McpTransportKind::Http,
        McpTransport::Sse { .. } => McpTransportKind::Sse,
    };
    let started = async {
        let client = crate::mcp::connect(&config.transport, timeouts).await?;
        let tools = client.tools().await?;
        Ok::<_, McpError>((client, tools))
    }
    .await;
    let (health, client, tools) = match started {
        Ok((client, tools)) => {
            tracing::info!(server = %config.name, tools = tools.len(), "MCP server connected");
            let health = Arc::new(Mutex::new(McpServerHealth::Connected));
            let client = Arc::new(Supervised {
                transport: config.transport.clone(),
                timeouts,
                current: tokio::sync::Mutex::new(Arc::from(client)),
                health: health.clone(),
            });
            (health, Some(client), tools)
        }
        Err(e) => {
            tracing::warn!(server = %config.name, error = %e, "MCP server not connected");
            (Arc::new(Mutex::new(failed(&e))), None, Vec::new())
        }
    };
    let server = Server {
        name: config.name.clone(),
        transport,
        health,
        tools: Vec::new(),
        client,
    };
    (server, tools, config.allowed_tools)
}

fn failed(e: &McpError) -> McpServerHealth {
    McpServerHealth::Failed {
        error: e.to_string(),
        error_kind: e.kind(),
    }
}

/// `raw` as a function name an LLM API takes: `[A-Za-z0-9_-]`, at most 64 characters.
fn tool_name(raw: &str) -> String {
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(MAX_TOOL_NAME)
        .collect()
}

/// A server's client that connects again once when a call finds the connection lost.
struct Supervised {
    transport: McpTransport,
    timeouts: McpTimeouts,
    current: tokio::sync::Mutex<Arc<dyn McpClient>>,
    health: Arc<Mutex<McpServerHealth>>,
}

impl Supervised {
    fn set_health(&self, health: McpServerHealth) {
        *self.health.lock().unwrap_or_else(|e| e.into_inner()) = health;
    }
}

#[async_trait]
impl McpClient for Supervised {
    async fn tools(&self) -> Result<Vec<McpToolInfo>, McpError> {
        let client = self.current.lock().await.clone();
        client.tools().await
    }

    async fn call(&self, tool: &str, arguments: Value) -> Result<McpCallResult, McpError> {
        let client = self.current.lock().await.clone();
        match client.call(tool, arguments.clone()).await {
            Err(McpError::Connection(lost)) => {
                tracing::warn!(tool, error = %lost, "MCP server lost; connecting again");
                let mut current = self.current.lock().await;
                // Another call may have reconnected meanwhile.
                if Arc::ptr_eq(&current, &client) {
                    match crate::mcp::connect(&self.transport, self.timeouts).await {
                        Ok(fresh) => *current = Arc::from(fresh),
                        Err(e) => {
                            let e = McpError::Connection(format!(
                                "{lost}; connecting again failed: {e}"
                            ));
                            self.set_health(failed(&e));
                            return Err(e);
                        }
                    }
                }
                let client = current.clone();
                drop(current);
                let result = client.call(tool, arguments).await;
                match &result {
                    Err(e @ McpError::Connection(_)) => self.set_health(failed(e)),
                    _ => self.set_health(McpServerHealth::Connected),
                }
                result
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_protocol::McpErrorKind;

    #[test]
    fn tool_names_are_what_llm_apis_take() {
        assert_eq!(tool_name("my server_get time"), "my_server_get_time");
        assert_eq!(tool_name("a.b/c-d"), "a_b_c-d");
        assert_eq!(tool_name(&"x".repeat(80)).len(), 64);
    }

    #[test]
    fn error_kinds_are_openhands_kinds() {
        assert_eq!(
            McpError::Timeout(std::time::Duration::from_secs(1)).kind(),
            McpErrorKind::Timeout
        );
        assert_eq!(McpError::Start("x".into()).kind(), McpErrorKind::Connection);
    }
}
