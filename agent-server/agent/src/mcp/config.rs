//! An agent's `mcp_config` as OpenHands sends it: a map from server name to server, or the same
//! map under `mcpServers` (the Claude Desktop / Cursor shape). A server is stdio (`command`,
//! `args`, `env`, `cwd`) or remote (`url` with `transport` or its alias `type`: `http`,
//! `streamable-http`, `shttp`, or the legacy `sse`), may say `enabled: false`, and may carry
//! `timeout`. Keys Berth does not use are ignored, as OpenHands' coercion drops them.
//!
//! `${VAR}` and `${VAR:-default}` in strings are expanded from the conversation's secrets only,
//! never from the server's own environment.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Map, Value};

use super::McpTransport;

/// One server of the config, ready to connect.
#[derive(Debug, Clone, PartialEq)]
pub struct McpServerConfig {
    pub name: String,
    pub transport: McpTransport,
    /// Its own call deadline (`timeout`, seconds), when it gives one.
    pub timeout: Option<Duration>,
    /// Berth's `allowed_tools`: the only tools the agent gets from it; empty: all.
    pub allowed_tools: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum McpConfigError {
    #[error("mcp_config must be an object of servers by name")]
    NotAnObject,
    #[error("MCP server '{0}': {1}")]
    Server(String, String),
}

/// The enabled servers of `config`, by name; `secret` answers `${VAR}`.
pub fn parse(
    config: &Value,
    secret: impl Fn(&str) -> Option<String>,
) -> Result<Vec<McpServerConfig>, McpConfigError> {
    let servers = match config.get("mcpServers") {
        Some(inner) => inner,
        None => config,
    };
    let Value::Object(servers) = servers else {
        return Err(McpConfigError::NotAnObject);
    };
    let mut out = Vec::new();
    for (name, server) in servers {
        let fail = |why: &str| McpConfigError::Server(name.clone(), why.to_string());
        let Value::Object(server) = server else {
            return Err(fail("is not an object"));
        };
        if server.get("enabled").and_then(Value::as_bool) == Some(false) {
            continue;
        }
        let text = |key: &str| {
            server
                .get(key)
                .and_then(Value::as_str)
                .map(|s| expand(s, &secret))
        };
        let transport = match (text("command"), text("url")) {
            (Some(command), _) => McpTransport::Stdio {
                command,
                args: strings(server.get("args"), &secret).map_err(|w| fail(&w))?,
                env: map(server.get("env"), &secret).map_err(|w| fail(&w))?,
                cwd: text("cwd").map(PathBuf::from),
            },
            (None, Some(url)) => {
                let kind = text("transport").or_else(|| text("type"));
                match kind.as_deref() {
                    Some("sse") => McpTransport::Sse { url },
                    None | Some("http" | "streamable-http" | "shttp") => {
                        McpTransport::StreamableHttp {
                            url,
                            headers: map(server.get("headers"), &secret).map_err(|w| fail(&w))?,
                        }
                    }
                    Some(other) => return Err(fail(&format!("unknown transport '{other}'"))),
                }
            }
            (None, None) => return Err(fail("needs a command (stdio) or a url")),
        };
        let timeout = server
            .get("timeout")
            .and_then(Value::as_f64)
            .and_then(|s| crate::untrusted::seconds(s, crate::untrusted::MAX_WAIT));
        let allowed_tools = strings(server.get("allowed_tools"), &|_: &str| None)
            .map_err(|_| fail("allowed_tools must be a list of tool names"))?;
        out.push(McpServerConfig {
            name: name.clone(),
            transport,
            timeout,
            allowed_tools,
        });
    }
    Ok(out)
}

fn strings(
    v: Option<&Value>,
    secret: &impl Fn(&str) -> Option<String>,
) -> Result<Vec<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(|s| expand(s, secret))
                    .ok_or_else(|| "args must be strings".to_string())
            })
            .collect(),
        Some(_) => Err("args must be a list of strings".into()),
    }
}

fn map(
    v: Option<&Value>,
    secret: &impl Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, String>, String> {
    let empty = Map::new();
    let entries = match v {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(m)) => m,
        Some(_) => return Err("env and headers must be objects of strings".into()),
    };
    entries
        .iter()
        .map(|(k, v)| match v.as_str() {
            Some(s) => Ok((k.clone(), expand(s, secret))),
            None => Err(format!("'{k}' must be a string")),
        })
        .collect()
}

/// `${VAR}` and `${VAR:-default}` replaced from `secret`; an unknown one without a default is
/// left as written, so the server's error names it.
pub fn expand(text: &str, secret: &impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let inner = &after[..end];
        let (name, default) = match inner.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        match (secret(name), default) {
            (Some(value), _) => out.push_str(&value),
            (None, Some(d)) => out.push_str(d),
            (None, None) => out.push_str(&rest[start..start + 2 + end + 1]),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secrets(name: &str) -> Option<String> {
        (name == "TOKEN").then(|| "s3cret".to_string())
    }

    #[test]
    fn both_shapes_and_every_transport_spelling_parse() {
        let direct = json!({
            "time": {"command": "mcp-server-time", "args": ["--local-timezone", "UTC"], "enabled": true},
            "remote": {"url": "https://mcp.example/mcp", "type": "shttp", "headers": {"Authorization": "Bearer ${TOKEN}"}},
            "old": {"url": "https://old.example/sse", "transport": "sse"},
            "off": {"command": "never", "enabled": false},
        });
        let servers = parse(&direct, secrets).unwrap();
        let names: Vec<&str> = servers.iter().map(|s| s.name.as_str()).collect();
        // In the order written (the config's order is the order tools are offered in).
        assert_eq!(names, ["time", "remote", "old"]);
        assert!(matches!(&servers[2].transport, McpTransport::Sse { .. }));
        assert_eq!(
            servers[1].transport,
            McpTransport::StreamableHttp {
                url: "https://mcp.example/mcp".into(),
                headers: BTreeMap::from([("Authorization".into(), "Bearer s3cret".into())]),
            }
        );
        assert!(
            matches!(&servers[0].transport, McpTransport::Stdio { command, args, .. }
            if command == "mcp-server-time" && args == &["--local-timezone", "UTC"])
        );
        let wrapped = json!({"mcpServers": {"time": {"command": "mcp-server-time", "cwd": "/tmp", "env": {"K": "${NOPE:-fallback}"}, "description": "ignored"}}});
        let servers = parse(&wrapped, secrets).unwrap();
        assert!(
            matches!(&servers[0].transport, McpTransport::Stdio { env, cwd, .. }
            if env["K"] == "fallback" && cwd.as_deref() == Some(std::path::Path::new("/tmp")))
        );
    }

    #[test]
    fn a_bad_server_is_named_with_what_is_wrong() {
        let err = parse(&json!({"x": {"args": []}}), secrets).unwrap_err();
        assert_eq!(
            err.to_string(),
            "MCP server 'x': needs a command (stdio) or a url"
        );
        let err = parse(&json!({"y": {"url": "u", "type": "websocket"}}), secrets).unwrap_err();
        assert!(
            err.to_string().contains("unknown transport 'websocket'"),
            "{err}"
        );
        assert!(parse(&json!({"z": {"command": "c", "args": [1]}}), secrets).is_err());
        assert_eq!(
            parse(&json!([1]), secrets),
            Err(McpConfigError::NotAnObject)
        );
    }

    #[test]
    fn variables_come_from_the_secrets_only() {
        assert_eq!(expand("a ${TOKEN} b", &secrets), "a s3cret b");
        assert_eq!(
            expand("${HOME}", &secrets),
            "${HOME}",
            "never the process environment"
        );
        assert_eq!(expand("${X:-d}/${TOKEN}", &secrets), "d/s3cret");
        assert_eq!(expand("open ${TOKEN", &secrets), "open ${TOKEN");
    }
}
