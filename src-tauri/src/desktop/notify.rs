//! OS notifications when an agent finishes, fails, or waits for the user's confirmation.

use berth_app::app::App;
use berth_protocol::{Event, ExecutionStatus};
use tauri::AppHandle;

/// The new execution status an event announces, if it is one a user wants to hear about.
pub fn status_change(event: &Event) -> Option<ExecutionStatus> {
    event
        .execution_status()
        .filter(|s| s.is_terminal() || s.is_active())
}

pub fn agent_status(handle: &AppHandle, app: &App, conversation_id: &str, status: ExecutionStatus) {
    let what = match status {
        ExecutionStatus::Finished => "finished",
        ExecutionStatus::Error => "stopped with an error",
        ExecutionStatus::Stuck => "is stuck",
        ExecutionStatus::WaitingForConfirmation => "waits for your confirmation",
        _ => return,
    };
    let title = app
        .conversations
        .get(conversation_id)
        .ok()
        .and_then(|c| c.title)
        .unwrap_or_else(|| "A conversation".into());
    let body = format!("{title} — the agent {what}");
    show(handle, conversation_id, &body);
}

/// On Linux, clicking the notification (its default action) opens the conversation.
#[cfg(target_os = "linux")]
fn show(handle: &AppHandle, conversation_id: &str, body: &str) {
    let handle = handle.clone();
    let path = format!("/c/{conversation_id}");
    let body = body.to_string();
    // Waiting for the click blocks on D-Bus: one short-lived thread per notification.
    std::thread::spawn(move || {
        let shown = notify_rust::Notification::new()
            .appname("Berth")
            .summary("Berth")
            .body(&body)
            .action("default", "Open")
            .show();
        match shown {
            Ok(notification) => notification.wait_for_action(|action| {
                if action == "default" {
                    super::show(&handle, Some(&path));
                }
            }),
            Err(e) => tracing::debug!(error = %e, "no notification"),
        }
    });
}

#[cfg(not(target_os = "linux"))]
fn show(handle: &AppHandle, _conversation_id: &str, body: &str) {
    if let Err(e) = handle
        .notification()
        .builder()
        .title("Berth")
        .body(body)
        .show()
    {
        tracing::debug!(error = %e, "no notification");
    }
}
