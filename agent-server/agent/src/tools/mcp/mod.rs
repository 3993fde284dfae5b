//! An MCP server's tool as one of the agent's tools, named, described and typed as its server
//! says (`name`, `description`, `inputSchema`), its calls recorded as OpenHands records them:
//! `MCPToolAction {data}` and `MCPToolObservation {content, is_error, tool_name}`, whose first
//! block is `[Tool '<name>' executed.]`. A failed call is an error observation the agent reads,
//! never an error of the run.

use std::sync::Arc;

use async_trait::async_trait;
use berth_protocol::{
    Action, Content, ImageContent, McpToolAction, McpToolObservation, Observation, SecurityRisk,
    ToolAnnotations,
};
use serde_json::Value;

use super::{Tool, ToolContext, annotations};
use crate::mcp::{McpClient, McpContent, McpError, McpToolInfo};

mod servers;
pub use servers::McpServers;

pub struct McpTool {
    /// What the agent calls it (its server's name first when a conversation has several).
    name: String,
    info: McpToolInfo,
    client: Arc<dyn McpClient>,
}

impl McpTool {
    pub fn new(name: String, info: McpToolInfo, client: Arc<dyn McpClient>) -> Self {
        Self { name, info, client }
    }
}

/// Every tool of a connected server, as agent tools under their own names.
pub async fn tools_of(client: Arc<dyn McpClient>) -> Result<Vec<Arc<dyn Tool>>, McpError> {
    Ok(client
        .tools()
        .await?
        .into_iter()
        .map(|info| {
            Arc::new(McpTool::new(info.name.clone(), info, client.clone())) as Arc<dyn Tool>
        })
        .collect())
}

#[async_trait]
impl Tool for McpTool {
    fn name(&self) -> &str {
        &self.name
    }

    fn kinds(&self) -> (&str, &str, &str) {
        ("MCPToolDefinition", "MCPToolAction", "MCPToolObservation")
    }

    fn description(&self) -> String {
        self.info.description.clone().unwrap_or_default()
    }

    fn parameters(&self) -> Value {
        self.info.input_schema.clone()
    }

    fn annotations(&self) -> ToolAnnotations {
        annotations(
            &self.info.name,
            self.info.read_only,
            self.info.destructive,
            self.info.idempotent,
            self.info.open_world,
        )
    }

    fn mcp_tool(&self) -> Option<Value> {
        Some(self.info.raw.clone())
    }

    fn declared_risk(&self) -> Option<SecurityRisk> {
        Some(if self.info.read_only {
            SecurityRisk::Low
        } else if self.info.destructive {
            SecurityRisk::High
        } else {
            SecurityRisk::Medium
        })
    }

    fn parse(&self, args: Value) -> Result<Action, String> {
        match args {
            Value::Object(data) => Ok(Action::McpToolAction(McpToolAction { data })),
            other => Err(format!(
                "Error validating tool '{}': arguments must be a JSON object, got {other}",
                self.name
            )),
        }
    }

    async fn execute(&self, action: &Action, _ctx: &ToolContext) -> Observation {
        let name = &self.name;
        let arguments = match action {
            Action::McpToolAction(a) => Value::Object(a.data.clone()),
            _ => Value::Object(Default::default()),
        };
        let mut content = vec![Content::text(format!("[Tool '{name}' executed.]"))];
        let is_error = match self.client.call(&self.info.name, arguments).await {
            Ok(result) => {
                content.extend(result.content.into_iter().map(|c| match c {
                    McpContent::Text(text) => Content::text(text),
                    McpContent::Image { mime_type, base64 } => Content::Image(ImageContent {
                        cache_prompt: false,
                        kind: Default::default(),
                        image_urls: vec![format!("data:{mime_type};base64,{base64}")],
                    }),
                }));
                result.is_error
            }
            Err(e) => {
                content.push(Content::text(format!("The MCP tool '{name}' failed: {e}")));
                true
            }
        };
        Observation::McpToolObservation(McpToolObservation {
            content,
            is_error,
            tool_name: name.clone(),
        })
    }
}
