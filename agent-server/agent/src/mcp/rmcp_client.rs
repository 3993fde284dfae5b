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
    service: Service,
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
    let (service, group) = match transport {
        McpTransport::Stdio {
            command,
            args,
            env,
            cwd,
        } => start_stdio(command, args, env, cwd.as_deref(), timeouts).await?,
        McpTransport::StreamableHttp { url, headers } => (
            start_http(url, headers, timeouts).await?,
            ProcessGroup(None),
        ),
        McpTransport::Sse { .. } => return Err(McpError::SseUnsupported),
    };
    Ok(Box::new(RmcpClient {
        service,
        timeouts,
        _group: group,
    }))
}

type Service = RunningService<RoleClient, ()>;

/// Spawns a stdio server in a process group of its own (killed if the start fails) and
/// completes the handshake.
async fn start_stdio(
    command: &str,
    args: &[String],
    env: &std::collections::BTreeMap<String, String>,
    cwd: Option<&std::path::Path>,
    timeouts: McpTimeouts,
) -> Result<(Service, ProcessGroup), McpError> {
    // Found first: through a confining launcher, a missing program would be only a
    // closed connection.
    let path = env
        .get("PATH")
        .cloned()
        .or_else(|| std::env::var("PATH").ok())
        .unwrap_or_default();
    if !program_exists(command, &path) {
        return Err(McpError::Start(format!(
            "{command}: no such program (not a file, and not found on PATH)"
        )));
    }
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
    let group = ProcessGroup(child.id().map(|pid| pid as i32));
    let printed = Printed::default();
    if let Some(stderr) = stderr {
        let program = command.to_string();
        let printed = printed.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                tracing::debug!(server = %program, "MCP server stderr: {line}");
                printed.keep(line);
            }
        });
    }
    match within(timeouts.start, ().serve(child)).await {
        Ok(service) => Ok((service, group)),
        Err(McpError::Connection(why)) => {
            // What a server prints as it fails is what tells the user why.
            tokio::time::sleep(Duration::from_millis(100)).await;
            Err(McpError::Connection(printed.after(why)))
        }
        Err(e) => Err(e),
    }
}

async fn start_http(
    url: &str,
    headers: &std::collections::BTreeMap<String, String>,
    timeouts: McpTimeouts,
) -> Result<Service, McpError> {
    let mut config = StreamableHttpClientTransportConfig::with_uri(url.to_string());
    for (name, value) in headers {
        let name = header_name(name)?;
        let value: http::HeaderValue = value
            .parse()
            .map_err(|_| McpError::Start(format!("the header {name} has an invalid value")))?;
        config.custom_headers.insert(name, value);
    }
    let client = StreamableHttpClientTransport::from_config(config);
    within(timeouts.start, ().serve(client)).await
}

/// `command` is a file, or a program on `path`.
fn program_exists(command: &str, path: &str) -> bool {
    let command = std::path::Path::new(command);
    if command.components().count() > 1 {
        return command.is_file();
    }
    std::env::split_paths(path).any(|dir| dir.join(command).is_file())
}

/// The last lines a stdio server printed on stderr.
#[derive(Clone, Default)]
struct Printed(std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<String>>>);

impl Printed {
    const KEPT: usize = 5;

    fn keep(&self, line: String) {
        let mut lines = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if lines.len() == Self::KEPT {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    fn after(&self, why: String) -> String {
        let lines = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if lines.is_empty() {
            why
        } else {
            let said: Vec<&str> = lines.iter().map(String::as_str).collect();
            format!("{why}; it printed: {}", said.join(" / "))
        }
    }
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
                let hints = t.annotations.clone().unwrap_or_default();
                let read_only = hints.read_only_hint.unwrap_or(false);
                McpToolInfo {
                    raw: serde_json::to_value(&t).unwrap_or(Value::Null),
                    name: t.name.to_string(),
                    description: t.description.map(|d| d.to_string()),
                    input_schema: Value::Object((*t.input_schema).clone()),
                    read_only,
                    destructive: hints.destructive_hint.unwrap_or(!read_only),
                    idempotent: hints.idempotent_hint.unwrap_or(false),
                    open_world: hints.open_world_hint.unwrap_or(true),
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
