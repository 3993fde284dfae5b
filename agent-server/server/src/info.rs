//! `ConversationInfo` from a conversation's state.

use berth_agent::Conversation;
use berth_protocol::ConversationInfo;
use serde_json::{Map, Value, json};

/// The Python module that defines each standard tool: the client imports it before it reads
/// events, so it knows the tool's action and observation classes.
pub fn standard_module(tool: &str) -> Option<&'static str> {
    Some(match tool {
        "terminal" => "openhands.tools.terminal.definition",
        "file_editor" => "openhands.tools.file_editor.definition",
        "task_tracker" => "openhands.tools.task_tracker.definition",
        "glob" => "openhands.tools.glob.definition",
        "grep" => "openhands.tools.grep.definition",
        _ => return None,
    })
}

pub fn conversation_info(conv: &Conversation) -> ConversationInfo {
    let state = conv.state();
    let events_leaf = conv.events().last().map(|e| e.id.clone());
    let full = state.full_state(events_leaf.as_deref());
    let qualnames = conv
        .server_meta("tool_module_qualnames")
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let client_tools = conv
        .server_meta("client_tools")
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    ConversationInfo {
        id: state.id.clone(),
        workspace: state.workspace.clone(),
        persistence_dir: state.persistence_dir.clone(),
        max_iterations: state.max_iterations,
        stuck_detection: state.stuck_detection,
        execution_status: state.execution_status,
        confirmation_policy: state.confirmation_policy,
        security_analyzer: state.security_analyzer.clone(),
        activated_knowledge_skills: state.activated_knowledge_skills.clone(),
        invoked_skills: vec![],
        blocked_actions: Map::new(),
        blocked_messages: Map::new(),
        last_user_message_id: state.last_user_message_id.clone(),
        leaf_event_id: events_leaf,
        stats: state.stats.compact(),
        secret_registry: full
            .get("secret_registry")
            .cloned()
            .unwrap_or_else(|| json!({"secret_sources": {}})),
        agent_state: Map::new(),
        hook_config: None,
        title: state.title.clone(),
        metrics: None,
        created_at: state.created_at.clone(),
        updated_at: state.updated_at.clone(),
        forked_from_conversation_id: None,
        forked_from_event_id: None,
        parent_conversation_id: None,
        sub_conversation_ids: vec![],
        tags: state.tags.clone(),
        current_model_id: None,
        available_models: vec![],
        supports_runtime_model_switch: false,
        launched_agent_profile: None,
        client_tools,
        tool_module_qualnames: qualnames,
        runtime_info: Some(
            json!({"runtime_status": "available", "can_resume": true, "runtime_error": null}),
        ),
        agent: state.agent.redacted(),
    }
}

/// The conversation's info as JSON (what the client receives).
pub fn info_json(conv: &Conversation) -> Value {
    serde_json::to_value(conversation_info(conv)).unwrap_or(Value::Null)
}
