//! Events as one line each for a terminal: who, what, and the gist.

use berth_protocol::{Action, Event, EventBody, Observation, content_text};

const WIDTH: usize = 160;

fn short(text: &str) -> String {
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > WIDTH {
        format!("{}…", one.chars().take(WIDTH).collect::<String>())
    } else {
        one
    }
}

/// `None` for events a reader does not need (state snapshots, metrics).
pub fn line(e: &Event) -> Option<String> {
    if let Some(status) = e.execution_status() {
        return Some(format!("[status] {status}"));
    }
    Some(match &e.body {
        EventBody::MessageEvent { llm_message, .. } => {
            format!("[{}] {}", source(e), short(&llm_message.text()))
        }
        EventBody::ActionEvent {
            action,
            tool_name,
            summary,
            ..
        } => match action {
            Some(Action::TerminalAction(t)) => format!("[agent] $ {}", short(&t.command)),
            _ => format!(
                "[agent] {tool_name}: {}",
                short(summary.as_deref().unwrap_or_default())
            ),
        },
        EventBody::ObservationEvent { observation, .. } => match observation {
            Observation::TerminalObservation(o) => format!(
                "[output] {} (exit {})",
                short(&content_text(&o.content)),
                o.exit_code.unwrap_or(o.metadata.exit_code)
            ),
            other => format!(
                "[result] {}",
                short(&content_text(&other.content_and_error().0))
            ),
        },
        EventBody::UserRejectObservation {
            rejection_reason, ..
        } => format!("[rejected] {}", short(rejection_reason)),
        EventBody::AgentErrorEvent { error, .. } => format!("[error] {}", short(error)),
        EventBody::ConversationErrorEvent { code, detail, .. } => {
            format!("[error] {code}: {}", short(detail))
        }
        _ => return None,
    })
}

fn source(e: &Event) -> &'static str {
    match e.source {
        berth_protocol::Source::User => "you",
        berth_protocol::Source::Agent => "agent",
        berth_protocol::Source::Environment => "environment",
        berth_protocol::Source::Hook => "hook",
    }
}
