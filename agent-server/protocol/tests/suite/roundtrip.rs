//! Every event must survive a parse and a re-serialization unchanged: the samples captured from
//! OpenHands' agent-server 1.58.2 and reference-shaped ones for the kinds the capture lacks.

use berth_protocol::{Action, Event, EventBody, ExecutionStatus, Observation, Source};
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = format!("{}/tests/samples/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn roundtrip(original: &Value) -> Event {
    let event: Event = serde_json::from_value(original.clone())
        .unwrap_or_else(|e| panic!("parse failed: {e}\n{original}"));
    let back = serde_json::to_value(&event).unwrap();
    assert_eq!(&back, original, "round trip changed the event");
    event
}

#[test]
fn captured_openhands_events_roundtrip_exactly() {
    let sample = load("conversation-1.58.2.json");
    let events = sample["events"].as_array().expect("no events");
    let kinds: Vec<String> = events
        .iter()
        .map(|e| roundtrip(e).kind().to_string())
        .collect();
    assert_eq!(
        kinds,
        [
            "SystemPromptEvent",
            "MessageEvent",
            "ConversationStateUpdateEvent",
            "ConversationStateUpdateEvent",
            "ActionEvent",
            "ObservationEvent",
            "ConversationStateUpdateEvent",
            "ConversationStateUpdateEvent",
            "ActionEvent",
            "ObservationEvent",
            "ConversationStateUpdateEvent",
        ]
    );
}

#[test]
fn captured_events_parse_into_typed_variants() {
    let sample = load("conversation-1.58.2.json");
    let events: Vec<Event> = serde_json::from_value(sample["events"].clone()).unwrap();
    let EventBody::ActionEvent { action, .. } = &events[4].body else {
        panic!("event 4 is not an action: {:?}", events[4]);
    };
    assert!(
        matches!(action, Some(Action::TerminalAction(a)) if a.command.starts_with("echo hello"))
    );
    let EventBody::ObservationEvent { observation, .. } = &events[5].body else {
        panic!("event 5 is not an observation");
    };
    let Observation::TerminalObservation(obs) = observation else {
        panic!("not a terminal observation: {observation:?}");
    };
    assert_eq!(obs.exit_code, Some(0));
    assert_eq!(
        obs.metadata.working_dir.as_deref(),
        Some("/workspace/project")
    );
    assert_eq!(events[1].source, Source::User);
    let EventBody::ConversationStateUpdateEvent { key, value } = &events[10].body else {
        panic!("last event is not a state update");
    };
    assert_eq!(key, "execution_status");
    let status: ExecutionStatus = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(status, ExecutionStatus::Finished);
}

#[test]
fn reference_shaped_events_roundtrip_exactly() {
    let sample = load("reference-shaped-events.json");
    let events = sample.as_array().expect("not an array");
    let parsed: Vec<Event> = events.iter().map(roundtrip).collect();
    // Known kinds are typed, unknown kinds kept verbatim.
    assert!(matches!(
        parsed[0].body,
        EventBody::ActionEvent {
            action: Some(Action::FileEditorAction(_)),
            ..
        }
    ));
    assert!(matches!(
        parsed[13].body,
        EventBody::ActionEvent { action: None, .. }
    ));
    assert_eq!(parsed[14].kind(), "SecurityAnalysisEvent");
    assert!(matches!(parsed[14].body, EventBody::Other(_)));
    let EventBody::ObservationEvent { observation, .. } = &parsed[16].body else {
        panic!("not an observation");
    };
    assert!(matches!(observation, Observation::McpToolObservation(_)));
}

#[test]
fn agent_and_llm_config_keep_unknown_fields_and_redact_secrets() {
    let sample = load("conversation-1.58.2.json");
    let agent_json = sample["create_response"]["agent"].clone();
    let agent: berth_protocol::AgentSpec = serde_json::from_value(agent_json.clone()).unwrap();
    assert_eq!(agent.llm.model, "openai/mock");
    assert_eq!(agent.tools[0].name, "terminal");
    assert_eq!(serde_json::to_value(&agent).unwrap(), agent_json);

    let request_agent: berth_protocol::AgentSpec =
        serde_json::from_value(sample["request"]["agent"].clone()).unwrap();
    assert_eq!(request_agent.llm.api_key.as_deref(), Some("x"));
    assert_eq!(request_agent.llm.usage_id, "agent");
    assert_eq!(request_agent.llm.num_retries, 0);
    assert_eq!(request_agent.llm.max_message_chars, 30_000);
    assert_eq!(request_agent.redacted().llm.api_key, None);
}

#[test]
fn confirmation_policy_thresholds() {
    use berth_protocol::{ConfirmationPolicy, SecurityRisk};
    let risky: ConfirmationPolicy = serde_json::from_str(r#"{"kind":"ConfirmRisky"}"#).unwrap();
    assert!(risky.should_confirm(SecurityRisk::High));
    assert!(!risky.should_confirm(SecurityRisk::Medium));
    assert!(risky.should_confirm(SecurityRisk::Unknown));
    let medium: ConfirmationPolicy = serde_json::from_str(
        r#"{"kind":"ConfirmRisky","threshold":"MEDIUM","confirm_unknown":false}"#,
    )
    .unwrap();
    assert!(medium.should_confirm(SecurityRisk::Medium));
    assert!(!medium.should_confirm(SecurityRisk::Unknown));
    assert!(ConfirmationPolicy::AlwaysConfirm.should_confirm(SecurityRisk::Low));
    assert!(!ConfirmationPolicy::NeverConfirm.should_confirm(SecurityRisk::High));
    assert_eq!(
        serde_json::to_value(ConfirmationPolicy::NeverConfirm).unwrap(),
        serde_json::json!({"kind": "NeverConfirm"})
    );
}

#[test]
fn conversation_info_roundtrips_with_its_nulls() {
    let sample = load("conversation-1.58.2.json");
    let original = sample["create_response"].clone();
    let info: berth_protocol::ConversationInfo = serde_json::from_value(original.clone()).unwrap();
    assert_eq!(info.execution_status, ExecutionStatus::Idle);
    assert_eq!(info.workspace.kind, "LocalWorkspace");
    assert_eq!(
        info.tool_module_qualnames["terminal"],
        "openhands.tools.terminal.definition"
    );
    assert_eq!(serde_json::to_value(&info).unwrap(), original);
}

/// An MCP tool call as OpenHands' agent-server records it parses into the typed MCP variants
/// and is written back unchanged.
#[test]
fn a_captured_mcp_call_roundtrips_as_typed_mcp_events() {
    let sample = load("mcp-1.58.2.json");
    let events: Vec<Event> = sample["events"]
        .as_array()
        .expect("no events")
        .iter()
        .map(roundtrip)
        .collect();
    let action = events.iter().find_map(|e| match &e.body {
        EventBody::ActionEvent {
            action: Some(Action::McpToolAction(a)),
            tool_name,
            ..
        } => Some((tool_name.clone(), a.data.clone())),
        _ => None,
    });
    let (tool, data) = action.expect("no MCPToolAction");
    assert_eq!(tool, "get_current_time");
    assert_eq!(data["timezone"], "UTC");
    let observation = events.iter().find_map(|e| match &e.body {
        EventBody::ObservationEvent {
            observation: Observation::McpToolObservation(o),
            ..
        } => Some(o.clone()),
        _ => None,
    });
    let o = observation.expect("no MCPToolObservation");
    assert_eq!(o.tool_name, "get_current_time");
    assert!(!o.is_error);
    assert_eq!(
        o.content[0].as_text(),
        Some("[Tool 'get_current_time' executed.]")
    );
}

/// An MCP tool as OpenHands lists it in the system prompt event keeps the server's own
/// definition (`mcp_tool`), which OpenHands' client requires.
#[test]
fn a_captured_mcp_tool_definition_roundtrips() {
    let sample = load("mcp-1.58.2.json");
    let listed = sample["system_prompt_tool_schema_for_mcp_tool"][0].clone();
    let tool: berth_protocol::ToolDefinition = serde_json::from_value(listed.clone()).unwrap();
    assert_eq!(tool.kind, "MCPToolDefinition");
    assert_eq!(tool.mcp_tool.as_ref().unwrap()["name"], "get_current_time");
    assert_eq!(serde_json::to_value(&tool).unwrap(), listed);
}
