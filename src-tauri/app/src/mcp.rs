//! MCP servers the user sets up: how the settings hold them, what a conversation's agent is
//! given (`mcp_config`, in OpenHands' shape), a one-click test, and import of the `mcpServers`
//! JSON that Claude Desktop, Cursor and most servers' READMEs give.
//!
//! Credentials are never written in the settings: an environment or header value may name a
//! custom secret as `${NAME}`, and a bearer token is a secret's name. The agent-server expands
//! them from the conversation's secrets, so the settings file holds no token.

use std::collections::BTreeMap;

use berth_protocol::{McpTestRequest, McpTestResponse};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::secrets::{SecretError, SecretStore};

/// One MCP server of the settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
pub struct McpServer {
    /// Its tools are `{name}_{tool}` when a conversation has several servers.
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(flatten)]
    pub transport: McpServerTransport,
    /// The tools the agent may use; empty: all of them.
    #[serde(default)]
    pub allowed_tools: Vec<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum McpServerTransport {
    /// A program started in the sandbox, speaking MCP on stdin/stdout.
    Stdio {
        command: String,
        #[serde(default)]
        args: Vec<String>,
        /// Its environment; a value may be `${SECRET_NAME}`.
        #[serde(default)]
        env: BTreeMap<String, String>,
    },
    /// A server reached over streamable HTTP.
    Http {
        url: String,
        /// Extra headers; a value may be `${SECRET_NAME}`.
        #[serde(default)]
        headers: BTreeMap<String, String>,
        /// The custom secret sent as `Authorization: Bearer …`.
        #[serde(default)]
        bearer_secret: Option<String>,
    },
}

impl McpServer {
    /// This server as one entry of OpenHands' `mcp_config`.
    fn config(&self) -> Map<String, Value> {
        let mut out = match &self.transport {
            McpServerTransport::Stdio { command, args, env } => {
                json!({"command": command, "args": args, "env": env})
            }
            McpServerTransport::Http {
                url,
                headers,
                bearer_secret,
            } => {
                let mut headers = headers.clone();
                if let Some(secret) = bearer_secret.as_deref().filter(|s| !s.is_empty()) {
                    headers.insert("Authorization".into(), format!("Bearer ${{{secret}}}"));
                }
                json!({"url": url, "transport": "http", "headers": headers})
            }
        };
        if !self.allowed_tools.is_empty()
            && let Some(o) = out.as_object_mut()
        {
            o.insert("allowed_tools".into(), json!(self.allowed_tools));
        }
        match out {
            Value::Object(o) => o,
            _ => Map::new(),
        }
    }
}

/// The enabled servers as an agent's `mcp_config`; `None` when there are none.
pub fn mcp_config(servers: &[McpServer]) -> Option<Value> {
    let map: Map<String, Value> = servers
        .iter()
        .filter(|s| s.enabled)
        .map(|s| (s.name.clone(), Value::Object(s.config())))
        .collect();
    (!map.is_empty()).then_some(Value::Object(map))
}

/// Tests one server on this computer: starts or reaches it, lists its tools, stops it. The
/// `${NAME}`s it uses are read from the custom secrets.
pub async fn test(server: &McpServer, secrets: &SecretStore) -> Result<McpTestResponse, McpError> {
    let secrets = secrets.custom_values()?;
    let secret = |name: &str| {
        secrets
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, v, _)| v.clone())
    };
    let req = McpTestRequest {
        name: server.name.clone(),
        server: server.config(),
        timeout: TEST_SECONDS,
        tool_call: None,
    };
    berth_agent::mcp::probe(&req, secret)
        .await
        .map_err(|e| McpError::Invalid(e.to_string()))
}

/// How long a test may take to start a server and list its tools (`npx` may download first).
const TEST_SECONDS: f64 = 60.0;

#[derive(Debug, thiserror::Error)]
pub enum McpError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Secrets(#[from] SecretError),
}

/// The servers of an `mcpServers` JSON (or a plain map of servers), as settings. Servers that
/// use the legacy SSE transport are refused with the reason.
pub fn import(text: &str) -> Result<Vec<McpServer>, McpError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| McpError::Invalid(format!("this is not JSON: {e}")))?;
    let servers = value.get("mcpServers").unwrap_or(&value);
    let Value::Object(servers) = servers else {
        return Err(McpError::Invalid(
            "expected {\"mcpServers\": {\"name\": {…}}}".into(),
        ));
    };
    servers.iter().map(|(name, s)| imported(name, s)).collect()
}

fn imported(name: &str, s: &Value) -> Result<McpServer, McpError> {
    let fail = |why: &str| McpError::Invalid(format!("MCP server '{name}': {why}"));
    let text = |key: &str| s.get(key).and_then(Value::as_str).map(str::to_string);
    let strings = |key: &str| -> BTreeMap<String, String> {
        s.get(key)
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    };
    let transport = match (text("command"), text("url")) {
        (Some(command), _) => McpServerTransport::Stdio {
            command,
            args: s
                .get("args")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            env: strings("env"),
        },
        (None, Some(url)) => {
            let kind = text("transport").or_else(|| text("type"));
            if kind.as_deref() == Some("sse") {
                return Err(fail(
                    "uses the legacy SSE transport, which Berth does not support; use its streamable HTTP URL",
                ));
            }
            McpServerTransport::Http {
                url,
                headers: strings("headers"),
                bearer_secret: None,
            }
        }
        (None, None) => return Err(fail("needs a command or a url")),
    };
    Ok(McpServer {
        name: name.to_string(),
        enabled: s.get("enabled").and_then(Value::as_bool).unwrap_or(true),
        transport,
        allowed_tools: Vec::new(),
    })
}

/// What is wrong with the servers, by field (`mcp_servers[1].command`).
pub fn problems(servers: &[McpServer], bad: &mut impl FnMut(String, String)) {
    let mut seen = std::collections::HashSet::new();
    for (i, m) in servers.iter().enumerate() {
        let name = m.name.trim();
        if name.is_empty() {
            bad(
                format!("mcp_servers[{i}].name"),
                "give the MCP server a name".into(),
            );
        } else if !seen.insert(name.to_string()) {
            bad(
                format!("mcp_servers[{i}].name"),
                format!("another MCP server is called '{name}'"),
            );
        }
        match &m.transport {
            McpServerTransport::Stdio { command, .. } if command.trim().is_empty() => bad(
                format!("mcp_servers[{i}].command"),
                "the program to start".into(),
            ),
            McpServerTransport::Http { url, .. }
                if !(url.starts_with("http://") || url.starts_with("https://")) =>
            {
                bad(
                    format!("mcp_servers[{i}].url"),
                    format!("'{url}' is not an http(s) URL"),
                )
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stdio(name: &str) -> McpServer {
        McpServer {
            name: name.into(),
            enabled: true,
            transport: McpServerTransport::Stdio {
                command: "npx".into(),
                args: vec!["-y".into(), "@modelcontextprotocol/server-github".into()],
                env: BTreeMap::from([("GITHUB_TOKEN".into(), "${GH_TOKEN}".into())]),
            },
            allowed_tools: vec![],
        }
    }

    #[test]
    fn settings_become_openhands_mcp_config_with_secret_references_only() {
        let mut off = stdio("off");
        off.enabled = false;
        let web = McpServer {
            name: "web".into(),
            enabled: true,
            transport: McpServerTransport::Http {
                url: "https://mcp.example/mcp".into(),
                headers: BTreeMap::new(),
                bearer_secret: Some("WEB_TOKEN".into()),
            },
            allowed_tools: vec!["search".into()],
        };
        let config = mcp_config(&[stdio("github"), off, web]).unwrap();
        assert_eq!(
            config,
            json!({
                "github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"],
                           "env": {"GITHUB_TOKEN": "${GH_TOKEN}"}},
                "web": {"url": "https://mcp.example/mcp", "transport": "http",
                        "headers": {"Authorization": "Bearer ${WEB_TOKEN}"},
                        "allowed_tools": ["search"]},
            })
        );
        assert_eq!(mcp_config(&[]), None);
    }

    #[test]
    fn the_old_settings_shape_still_reads() {
        let old: McpServer = serde_json::from_value(
            json!({"kind": "stdio", "name": "fs", "command": "mcp-fs", "args": ["/tmp"]}),
        )
        .unwrap();
        assert!(old.enabled);
        assert!(
            matches!(old.transport, McpServerTransport::Stdio { ref args, .. } if args == &["/tmp"])
        );
    }

    #[test]
    fn claude_desktop_json_imports() {
        let servers = import(
            r#"{"mcpServers": {
                "fs": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]},
                "remote": {"url": "https://x.example/mcp", "headers": {"X-Key": "${KEY}"}, "enabled": false}
            }}"#,
        )
        .unwrap();
        assert_eq!(servers.len(), 2);
        assert_eq!(servers[0].name, "fs");
        assert!(!servers[1].enabled);
        let sse = import(r#"{"mcpServers": {"old": {"url": "https://x/sse", "type": "sse"}}}"#)
            .unwrap_err();
        assert!(sse.to_string().contains("SSE"), "{sse}");
        assert!(import("not json").is_err());
    }

    #[test]
    fn two_servers_may_not_share_a_name() {
        let mut found = Vec::new();
        problems(&[stdio("gh"), stdio("gh")], &mut |f, m| found.push((f, m)));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "mcp_servers[1].name");
    }
}
