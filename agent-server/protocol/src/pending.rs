//! Which actions wait for their result: an action whose tool call no observation, rejection or
//! tool error has answered yet. The engine runs or rejects exactly these when the user answers a
//! confirmation; the app shows exactly these — one rule for both.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::{Action, Event, EventBody, SecurityRisk};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PendingAction {
    /// The `ActionEvent`'s id.
    pub action_id: String,
    pub tool_name: String,
    pub tool_call_id: String,
    pub action: Action,
    pub security_risk: SecurityRisk,
}

/// The kinds of event [`pending_actions`] looks at, for a reader that fetches only those.
pub const KINDS_READ: [&str; 4] = [
    "ActionEvent",
    "ObservationEvent",
    "UserRejectObservation",
    "AgentErrorEvent",
];

/// The actions among `events` (a conversation's, in order) that wait for their result.
pub fn pending_actions<'a>(
    events: impl IntoIterator<Item = &'a Event> + Clone,
) -> Vec<PendingAction> {
    let answered: HashSet<&str> = events
        .clone()
        .into_iter()
        .filter(|e| e.is_observation_like())
        .filter_map(Event::tool_call_id)
        .collect();
    events
        .into_iter()
        .filter_map(|e| match &e.body {
            EventBody::ActionEvent {
                action: Some(action),
                tool_name,
                tool_call_id,
                security_risk,
                ..
            } if !answered.contains(tool_call_id.as_str()) => Some(PendingAction {
                action_id: e.id.clone(),
                tool_name: tool_name.clone(),
                tool_call_id: tool_call_id.clone(),
                action: action.clone(),
                security_risk: *security_risk,
            }),
            _ => None,
        })
        .collect()
}
