//! Which tools a conversation's agent has.

use std::sync::Arc;

use berth_protocol::{AgentSpec, ToolSpec};

use super::{ConversationError, EngineOptions};
use crate::tools::{Tool, tool_by_name};

/// The agent's tools: the named ones, then those made outside the engine, each once, all
/// passing the spec's `filter_tools_regex`.
pub(super) fn tools_for(
    agent: &AgentSpec,
    options: &EngineOptions,
) -> Result<Vec<Arc<dyn Tool>>, ConversationError> {
    let mut tools = Vec::new();
    let mut wanted: Vec<ToolSpec> = agent.tools.clone();
    for d in &agent.include_default_tools {
        wanted.push(ToolSpec {
            name: d.clone(),
            params: Default::default(),
        });
    }
    let filter = match &agent.filter_tools_regex {
        Some(r) => Some(
            regex::Regex::new(r)
                .map_err(|e| ConversationError::Invalid(format!("filter_tools_regex: {e}")))?,
        ),
        None => None,
    };
    let named = wanted.iter().map(|spec| {
        tool_by_name(&spec.name, &options.tools)
            .ok_or_else(|| ConversationError::Invalid(format!("unknown tool '{}'", spec.name)))
    });
    let extra = options.extra_tools.iter().cloned().map(Ok);
    for tool in named.chain(extra) {
        let tool = tool?;
        if filter.as_ref().is_some_and(|f| !f.is_match(tool.name())) {
            continue;
        }
        if !tools
            .iter()
            .any(|t: &Arc<dyn Tool>| t.name() == tool.name())
        {
            tools.push(tool);
        }
    }
    Ok(tools)
}
