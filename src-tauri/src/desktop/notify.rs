//! OS notifications when an agent finishes, fails, or waits for the user's confirmation.

use berth_app::app::App;
use berth_protocol::{Event, EventBody};
use tauri::AppHandle;
use tauri_plugin_notification::NotificationExt;

/// The new execution status an event announces, if it is one a user wants to hear about.
pub fn status_change(event: &Event) -> Option<&str> {
    match &event.body {
        EventBody::ConversationStateUpdateEvent { key, value } if key == "execution_status" => {
            value.as_str().filter(|s| {
                matches!(
                    *s,
                    "finished" | "error" | "stuck" | "waiting_for_confirmation" | "running"
                )
            })
        }
        _ => None,
    }
}

pub fn agent_status(handle: &AppHandle, app: &App, conversation_id: &str, status: &str) {
    let what = match status {
        "finished" => "finished",
        "error" => "stopped with an error",
        "stuck" => "is stuck",
        "waiting_for_confirmation" => "waits for your confirmation",
        _ => return,
    };
    let title = app
        .conversations
        .get(conversation_id)
        .ok()
        .and_then(|c| c.title)
        .unwrap_or_else(|| "A conversation".into());
    if let Err(e) = handle
        .notification()
        .builder()
        .title("Berth")
        .body(format!("{title} — the agent {what}"))
        .show()
    {
        tracing::debug!(error = %e, "no notification");
    }
}
