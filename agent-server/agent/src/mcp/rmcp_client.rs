//! [`McpClient`] on the `rmcp` crate: the one module that names its types.

use std::process::Stdio;
use std::time::Duration;

use async_trait::async_trait;
use rmcp::model::{CallToolRequestParams, ContentBlock};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

use super::{
    McpCallResult, McpClient, McpContent, McpError, McpTimeouts, McpToolInfo, McpTransport,
};

/// Variables a stdio server gets besides its own: what a program needs to find itself and
/// speak the user's language, nothing that grants access.
const BASICS: &[&str] = &[
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "TERM", "TMPDIR", "TZ",
];

struct RmcpClient {
    service: RunningService<RoleClient, ()>,
    timeouts: McpTimeouts,
    _group: ProcessGroup,
}

/// A stdio server's process group, killed when this goes (with its client, or when the start
/// fails), so nothing the server started outlives the conversation: rmcp stops the server's
/// own process only.
struct ProcessGroup(Option<i32>);

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(group) = self.0
            && let Err(e) = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(group),
                nix::sys::signal::Signal::SIGKILL,
            )
            && e != nix::errno::Errno::ESRCH
        {
            tracing::warn!(group, error = %e, "cannot stop an MCP server's processes");
        }
    }
}

pub(super) async fn connect(
    transport: &McpTransport,
    timeouts: McpTimeouts,
) -> Result<Box<dyn McpClient>, McpError> {
    let mut group = ProcessGroup(None);
    let started = match transport {
        McpTransport::Stdio {
            command,
            args,
            env,
            cwd,
        } => {
            // Like every process the agent starts: OS-confined in a process sandbox.
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let launch = crate::agent_env::launch(command, &args)
                .map_err(|e| McpError::Start(format!("{command}: {e}")))?;
            let mut cmd = tokio::process::Command::new(&launch.program);
            cmd.args(&launch.args).env_clear();
            for name in BASICS {
                if let Some(value) = std::env::var_os(name) {
                    cmd.env(name, value);
                }
            }
            cmd.envs(launch.env).envs(env);
            if let Some(cwd) = cwd {
                cmd.current_dir(cwd);
            }
            #[cfg(unix)]
            cmd.process_group(0);
            let (child, stderr) = TokioChildProcess::builder(cmd)
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| McpError::Start(format!("{command}: {e}")))?;
            // Its pid is its group's id (it leads the group it was started in).
            group = ProcessGroup(child.id().map(|pid| pid as i32));
            if let Some(stderr) = stderr {
                let program = command.clone();
                tokio::spawn(async move {
                    let mut lines = BufReader::new(stderr).lines();
                    while let Ok(Some(line)) = lines.next_line().await {
                        tracing::debug!(server = %program, "MCP server stderr: {line}");
                    }
                });
            }
            within(timeouts.start, ().serve(child)).await?
        }
        McpTransport::StreamableHttp { url, headers } => {
            let mut config = StreamableHttpClientTransportConfig::with_uri(url.as_str());
            for (name, value) in headers {
                let name = header_name(name)?;
                let value: http::HeaderValue = value.parse().map_err(|_| {
                    McpError::Start(format!("the header {name} has an invalid value"))
                })?;
                config.custom_headers.insert(name, value);
            }
            let client = StreamableHttpClientTransport::from_config(config);
            within(timeouts.start, ().serve(client)).await?
        }
        McpTransport::Sse { .. } => return Err(McpError::SseUnsupported),
    };
    Ok(Box::new(RmcpClient {
        service: started,
        timeouts,
        _group: group,
    }))
}

fn header_name(name: &str) -> Result<http::HeaderName, McpError> {
    name.parse()
        .map_err(|_| McpError::Start(format!("{name:?} is not a header name")))
}

/// `f` within `limit`; its own error as a connection error.
async fn within<T, E: std::fmt::Display>(
    limit: Duration,
    f: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, McpError> {
    match tokio::time::timeout(limit, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(McpError::Connection(e.to_string())),
        Err(_) => Err(McpError::Timeout(limit)),
    }
}

#[async_trait]
impl McpClient for RmcpClient {
    async fn tools(&self) -> Result<Vec<McpToolInfo>, McpError> {
        let tools = within(self.timeouts.list, self.service.list_all_tools()).await?;
        Ok(tools
            .into_iter()
            .map(|t| {
                let read_only = t
                    .annotations
                    .as_ref()
                    .and_then(|a| a.read_only_hint)
                    .unwrap_or(false);
                McpToolInfo {
                    name: t.name.to_string(),
                    description: t.description.map(|d| d.to_string()),
                    input_schema: Value::Object((*t.input_schema).clone()),
                    read_only,
                    destructive: t
                        .annotations
                        .as_ref()
                        .and_then(|a| a.destructive_hint)
                        .unwrap_or(!read_only),
                }
            })
            .collect())
    }

    async fn call(&self, tool: &str, arguments: Value) -> Result<McpCallResult, McpError> {
        let mut params = CallToolRequestParams::new(tool.to_string());
        if let Value::Object(args) = arguments {
            params = params.with_arguments(args);
        }
        let result = within(self.timeouts.call, self.service.call_tool(params)).await?;
        let content = result
            .content
            .into_iter()
            .filter_map(|block| match block {
                ContentBlock::Text(t) => Some(McpContent::Text(t.text)),
                ContentBlock::Image(i) => Some(McpContent::Image {
                    mime_type: i.mime_type,
                    base64: i.data,
                }),
                other => {
                    tracing::warn!(tool, kind = ?std::mem::discriminant(&other), "an MCP result block that is neither text nor image is dropped");
                    None
                }
            })
            .collect();
        Ok(McpCallResult {
            content,
            is_error: result.is_error.unwrap_or(false),
        })
    }
}
