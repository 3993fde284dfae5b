//! `berth mcp list | add | import | test | remove`: the MCP servers of the settings, as the
//! Settings page edits them.

use std::collections::BTreeMap;

use anyhow::{Context, Result, anyhow, bail};
use berth_app::app::Library;
use berth_app::mcp::{McpServer, McpServerTransport};
use berth_protocol::McpTestResponse;

use crate::console::{read_stdin, save, say};
use crate::{McpAdd, McpCmd};

pub async fn run(library: Library, cmd: McpCmd, json: bool) -> Result<u8> {
    let mut settings = library.settings.load()?;
    match cmd {
        McpCmd::List => {
            for s in &settings.mcp_servers {
                say(json, serde_json::to_value(s)?, line(s));
            }
            Ok(0)
        }
        McpCmd::Add(add) => {
            let server = server_of(add)?;
            settings.mcp_servers.retain(|s| s.name != server.name);
            settings.mcp_servers.push(server);
            save(&library, &settings)?;
            Ok(0)
        }
        McpCmd::Import { file } => {
            let text = if file.as_os_str() == "-" {
                read_stdin()?
            } else {
                std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?
            };
            let found = berth_app::mcp::import(&text)?;
            for s in &found {
                settings.mcp_servers.retain(|m| m.name != s.name);
                println!("imported {}", line(s));
            }
            settings.mcp_servers.extend(found);
            save(&library, &settings)?;
            Ok(0)
        }
        McpCmd::Test { name } => {
            let server = settings
                .mcp_servers
                .iter()
                .find(|s| s.name == name)
                .ok_or_else(|| anyhow!("no MCP server '{name}' (see `berth mcp list`)"))?;
            let answer = berth_app::mcp::test(server, &library.secrets).await?;
            let (code, text) = match &answer {
                McpTestResponse::Success { tools, .. } => (
                    0,
                    format!("{name}: {} tools: {}", tools.len(), tools.join(", ")),
                ),
                McpTestResponse::Failure {
                    error, error_kind, ..
                } => (
                    1,
                    format!("{name}: not usable ({}): {error}", error_kind.as_str()),
                ),
            };
            say(json, serde_json::to_value(&answer)?, text);
            Ok(code)
        }
        McpCmd::Remove { name } => {
            let before = settings.mcp_servers.len();
            settings.mcp_servers.retain(|s| s.name != name);
            if settings.mcp_servers.len() == before {
                bail!("no MCP server '{name}'");
            }
            save(&library, &settings)?;
            Ok(0)
        }
    }
}

fn server_of(add: McpAdd) -> Result<McpServer> {
    let transport = match (add.url, add.command.split_first()) {
        (Some(url), None) => McpServerTransport::Http {
            url,
            headers: pairs(&add.headers, ':')?,
            bearer_secret: add.bearer_secret,
        },
        (None, Some((command, args))) => McpServerTransport::Stdio {
            command: command.clone(),
            args: args.to_vec(),
            env: pairs(&add.env, '=')?,
        },
        _ => bail!("give the program after `--` (berth mcp add NAME -- npx -y …) or --url"),
    };
    Ok(McpServer {
        name: add.name,
        enabled: !add.disabled,
        transport,
        allowed_tools: add.allowed_tools,
    })
}

fn line(s: &McpServer) -> String {
    let what = match &s.transport {
        McpServerTransport::Stdio { command, args, .. } => {
            format!("{command} {}", args.join(" "))
        }
        McpServerTransport::Http { url, .. } => url.clone(),
    };
    let off = if s.enabled { "" } else { " (disabled)" };
    format!("{}{off}\t{}", s.name, what.trim_end())
}

/// `NAME=value` (or `Name: value`) arguments as a map.
fn pairs(items: &[String], sep: char) -> Result<BTreeMap<String, String>> {
    items
        .iter()
        .map(|item| {
            item.split_once(sep)
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| anyhow!("'{item}' is not NAME{sep}VALUE"))
        })
        .collect()
}
