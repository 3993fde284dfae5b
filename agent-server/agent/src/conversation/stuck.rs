//! Stuck detection over the events since the last user message, with OpenHands' four patterns
//! and thresholds. Ids and timestamps are ignored: two steps are "the same" when their action
//! and their result are.

use berth_protocol::{Event, EventBody, Source};
use serde_json::Value;

use crate::view::observation_text;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    pub action_observation: usize,
    pub action_error: usize,
    pub monologue: usize,
    pub alternating_pattern: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            action_observation: 4,
            action_error: 3,
            monologue: 3,
            alternating_pattern: 6,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    NotStuck,
    /// The same action failed the same way `action_error` times: tell the agent once.
    Nudge,
    Stuck(&'static str),
}

#[derive(PartialEq)]
struct Step {
    action: Value,
    result: String,
    error: bool,
}

/// Looks at the events after the last user message.
pub fn check(events: &[Event], t: &Thresholds, nudge_given: bool) -> Verdict {
    let start = events
        .iter()
        .rposition(|e| {
            matches!(&e.body, EventBody::MessageEvent { .. }) && e.source == Source::User
        })
        .map_or(0, |i| i + 1);
    let recent = &events[start..];

    // Monologue: N agent messages in a row with nothing else in between.
    let mut run = 0;
    for e in recent.iter().rev() {
        match &e.body {
            EventBody::MessageEvent { .. } if e.source == Source::Agent => run += 1,
            EventBody::ConversationStateUpdateEvent { .. } => continue,
            _ => break,
        }
    }
    if run >= t.monologue {
        return Verdict::Stuck("the agent kept sending messages without acting");
    }

    let steps = pair_steps(recent);
    let n = steps.len();
    if n >= t.action_observation {
        let last = &steps[n - t.action_observation..];
        if last.iter().all(|s| *s == last[0]) && !last[0].error {
            return Verdict::Stuck("the agent repeated the same action with the same result");
        }
    }
    // The same action failing the same way: a nudge at N, stuck at N + 1 after the nudge.
    if let Some(last) = steps.last().filter(|s| s.error) {
        let k = steps.iter().rev().take_while(|s| *s == last).count();
        if k >= t.action_error {
            if !nudge_given {
                return Verdict::Nudge;
            }
            if k > t.action_error {
                return Verdict::Stuck("the agent repeated the same action and got the same error");
            }
        }
    }
    if n >= t.alternating_pattern {
        let last = &steps[n - t.alternating_pattern..];
        let alternates = last.iter().enumerate().all(|(i, s)| *s == last[i % 2]);
        if alternates && last[0] != last[1] {
            return Verdict::Stuck("the agent alternated between the same two actions");
        }
    }
    Verdict::NotStuck
}

/// (action, result) pairs in order; the action's `kind`-tagged JSON stands for the action.
fn pair_steps(events: &[Event]) -> Vec<Step> {
    let mut steps = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let EventBody::ActionEvent {
            action,
            tool_name,
            tool_call,
            ..
        } = &e.body
        else {
            continue;
        };
        let action_key = match action {
            Some(a) => serde_json::to_value(a).unwrap_or(Value::Null),
            None => serde_json::json!({"tool": tool_name, "arguments": tool_call.arguments}),
        };
        let result = events[i + 1..]
            .iter()
            .find(|o| o.is_observation_like() && o.tool_call_id() == Some(&tool_call.id));
        let Some(result) = result else { continue };
        let (text, error) = match &result.body {
            EventBody::ObservationEvent { observation, .. } => {
                let (_, is_error) = observation.content_and_error();
                (observation_text(observation), is_error)
            }
            EventBody::AgentErrorEvent { error, .. } => (error.clone(), true),
            EventBody::UserRejectObservation {
                rejection_reason, ..
            } => (rejection_reason.clone(), false),
            _ => continue,
        };
        steps.push(Step {
            action: action_key,
            result: text,
            error,
        });
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_protocol::{Message, Role};

    fn agent_message(text: &str) -> Event {
        Event::new(
            Source::Agent,
            None,
            EventBody::MessageEvent {
                llm_message: Message::new(
                    Role::Assistant,
                    vec![berth_protocol::Content::text(text)],
                ),
                llm_response_id: Some("r".into()),
                activated_skills: vec![],
                extended_content: vec![],
                sender: None,
                critic_result: None,
            },
        )
    }

    fn user_message() -> Event {
        Event::new(
            Source::User,
            None,
            EventBody::MessageEvent {
                llm_message: Message::user("hi"),
                llm_response_id: None,
                activated_skills: vec![],
                extended_content: vec![],
                sender: None,
                critic_result: None,
            },
        )
    }

    #[test]
    fn monologue_needs_three_agent_messages_since_the_user_spoke() {
        let t = Thresholds::default();
        let mut events = vec![user_message(), agent_message("a"), agent_message("b")];
        assert_eq!(check(&events, &t, false), Verdict::NotStuck);
        events.push(agent_message("c"));
        assert!(matches!(check(&events, &t, false), Verdict::Stuck(_)));
        events.push(user_message());
        assert_eq!(check(&events, &t, false), Verdict::NotStuck);
    }
}
