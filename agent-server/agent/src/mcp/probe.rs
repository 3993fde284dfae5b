//! Checking one server a user is about to add, as `POST /api/mcp/test` does in OpenHands: start
//! or reach it, list its tools, call one tool if asked (many servers only use their credentials
//! inside a call), and stop it again. What goes wrong is the answer, not an error.

use std::time::Duration;

use berth_protocol::{McpTestRequest, McpTestResponse, McpToolCallResult, McpToolCallSpec};
use serde_json::{Map, Value};

use super::config::{self, McpConfigError};
use super::{McpClient, McpContent, McpError, McpTimeouts};

/// The longest test OpenHands allows.
const MAX_TEST: Duration = Duration::from_secs(120);

/// The outcome of testing `req.server`, `${VAR}` answered by `secret`; `Err` when the request
/// itself is malformed.
pub async fn probe(
    req: &McpTestRequest,
    secret: impl Fn(&str) -> Option<String>,
) -> Result<McpTestResponse, McpConfigError> {
    let name = match req.name.trim() {
        "" => "test-server",
        n => n,
    };
    let limit = (req.timeout.is_finite() && req.timeout > 0.0)
        .then(|| Duration::from_secs_f64(req.timeout))
        .filter(|t| *t <= MAX_TEST)
        .ok_or_else(|| {
            McpConfigError::Server(
                name.into(),
                format!(
                    "timeout must be more than 0 and at most 120 seconds, got {}",
                    req.timeout
                ),
            )
        })?;
    let mut servers = Map::new();
    servers.insert(name.into(), Value::Object(req.server.clone()));
    let server = config::parse(&Value::Object(servers), secret)?
        .into_iter()
        .next()
        .ok_or_else(|| McpConfigError::Server(name.into(), "is disabled".into()))?;
    let timeouts = McpTimeouts {
        start: limit,
        list: limit,
        call: limit,
    };
    let listed = async {
        let client = super::connect(&server.transport, timeouts).await?;
        let tools = client.tools().await?;
        Ok::<_, McpError>((client, tools))
    };
    let (client, tools) = match listed.await {
        Ok(done) => done,
        Err(e) => return Ok(McpTestResponse::failure(e.to_string(), e.kind())),
    };
    let names: Vec<String> = tools.into_iter().map(|t| t.name).collect();
    let tool_result = match &req.tool_call {
        None => None,
        Some(call) => Some(call_once(client.as_ref(), call, &names).await),
    };
    Ok(McpTestResponse::success(names, tool_result))
}

/// The test's one tool call, verbatim: its text, or why it could not be made.
async fn call_once(
    client: &dyn McpClient,
    call: &McpToolCallSpec,
    names: &[String],
) -> McpToolCallResult {
    if !names.contains(&call.name) {
        let available = if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        };
        return McpToolCallResult {
            is_error: true,
            text: format!(
                "Tool '{}' not advertised by server (available: {available})",
                call.name
            ),
        };
    }
    match client
        .call(&call.name, Value::Object(call.arguments.clone()))
        .await
    {
        Ok(result) => McpToolCallResult {
            is_error: result.is_error,
            text: result
                .content
                .iter()
                .filter_map(|c| match c {
                    McpContent::Text(t) => Some(t.as_str()),
                    McpContent::Image { .. } => None,
                })
                .collect::<Vec<_>>()
                .join("\n"),
        },
        Err(e) => McpToolCallResult {
            is_error: true,
            text: format!("Tool '{}' failed: {e}", call.name),
        },
    }
}
