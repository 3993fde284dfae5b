//! What the LLM sees of the event log: condensations applied (forgotten events dropped, the
//! summary placed where they were), then converted to chat messages — one assistant message per
//! LLM response (its tool calls grouped), one tool message per result. Tool calls without a
//! result and results without a call are dropped, so the history is always one a provider
//! accepts.

use std::collections::HashSet;

use berth_protocol::{Content, Event, EventBody, Message, Observation, Role, content_text};

use crate::llm::ERROR_PREFIX;
use crate::tools::terminal::{MAX_OUTPUT_CHARS, llm_text, truncate_middle};

/// The events the LLM can see, after condensation. A summary becomes a
/// `CondensationSummaryEvent` at the condensation's `summary_offset`.
pub fn visible_events(events: &[Event]) -> Vec<Event> {
    let mut forgotten: HashSet<&str> = HashSet::new();
    let mut summary: Option<(String, usize, String)> = None;
    for e in events {
        if let EventBody::Condensation {
            forgotten_event_ids,
            summary: s,
            summary_offset,
            ..
        } = &e.body
        {
            forgotten.extend(forgotten_event_ids.iter().map(String::as_str));
            if let (Some(s), Some(offset)) = (s, summary_offset) {
                summary = Some((s.clone(), *offset, e.id.clone()));
            }
        }
    }
    let mut view: Vec<Event> = events
        .iter()
        .filter(|e| is_llm_convertible(e) && !forgotten.contains(e.id.as_str()))
        .cloned()
        .collect();
    if let Some((text, offset, id)) = summary {
        let event = Event {
            id: format!("{id}-summary"),
            timestamp: String::new(),
            source: berth_protocol::Source::Environment,
            parent_id: None,
            body: EventBody::CondensationSummaryEvent { summary: text },
        };
        view.insert(offset.min(view.len()), event);
    }
    view
}

pub fn is_llm_convertible(e: &Event) -> bool {
    matches!(
        e.body,
        EventBody::SystemPromptEvent { .. }
            | EventBody::MessageEvent { .. }
            | EventBody::ActionEvent { .. }
            | EventBody::ObservationEvent { .. }
            | EventBody::UserRejectObservation { .. }
            | EventBody::AgentErrorEvent { .. }
            | EventBody::CondensationSummaryEvent { .. }
    )
}

/// The text a tool result shows the LLM.
pub fn observation_text(observation: &Observation) -> String {
    let (content, is_error) = observation.content_and_error();
    let text = match observation {
        Observation::TerminalObservation(t) => llm_text(t),
        _ => content_text(&content),
    };
    if is_error {
        format!("{ERROR_PREFIX}{text}")
    } else {
        text
    }
}

fn cap(text: String, max: usize) -> String {
    if text.chars().count() <= max {
        text
    } else {
        truncate_middle(&text, max, None)
    }
}

/// Chat messages for the LLM. `max_chars` caps each message's text (OpenHands' `max_message_chars`).
pub fn to_messages(view: &[Event], max_chars: usize) -> Vec<Message> {
    let max_chars = if max_chars == 0 {
        MAX_OUTPUT_CHARS
    } else {
        max_chars
    };
    let answered: HashSet<&str> = view
        .iter()
        .filter(|e| e.is_observation_like())
        .filter_map(Event::tool_call_id)
        .collect();
    let called: HashSet<&str> = view
        .iter()
        .filter(|e| matches!(e.body, EventBody::ActionEvent { .. }))
        .filter_map(Event::tool_call_id)
        .collect();
    let mut out: Vec<Message> = Vec::new();
    let mut current_response: Option<String> = None;
    for e in view {
        match &e.body {
            EventBody::SystemPromptEvent {
                system_prompt,
                dynamic_context,
                ..
            } => {
                let mut content = vec![Content::Text(system_prompt.clone())];
                if let Some(d) = dynamic_context {
                    content.push(Content::Text(d.clone()));
                }
                out.push(Message::new(Role::System, content));
                current_response = None;
            }
            EventBody::MessageEvent {
                llm_message,
                extended_content,
                ..
            } => {
                let mut m = llm_message.clone();
                m.content = m
                    .content
                    .into_iter()
                    .map(|c| match c {
                        Content::Text(mut t) => {
                            t.text = cap(t.text, max_chars);
                            Content::Text(t)
                        }
                        other => other,
                    })
                    .collect();
                m.content
                    .extend(extended_content.iter().cloned().map(Content::Text));
                out.push(m);
                current_response = None;
            }
            EventBody::ActionEvent {
                thought,
                reasoning_content,
                tool_call,
                llm_response_id,
                thinking_blocks,
                ..
            } => {
                if !answered.contains(tool_call.id.as_str()) {
                    continue;
                }
                let same = current_response.as_deref() == Some(llm_response_id.as_str())
                    && out.last().is_some_and(|m| m.role == Role::Assistant);
                if same {
                    if let Some(last) = out.last_mut() {
                        last.tool_calls
                            .get_or_insert_with(Vec::new)
                            .push(tool_call.clone());
                    }
                } else {
                    let mut m = Message::new(
                        Role::Assistant,
                        thought.iter().cloned().map(Content::Text).collect(),
                    );
                    m.reasoning_content = reasoning_content.clone();
                    m.thinking_blocks = thinking_blocks.clone();
                    m.tool_calls = Some(vec![tool_call.clone()]);
                    out.push(m);
                    current_response = Some(llm_response_id.clone());
                }
            }
            EventBody::ObservationEvent {
                tool_name,
                tool_call_id,
                observation,
                ..
            } if called.contains(tool_call_id.as_str()) => {
                out.push(tool_message(
                    tool_name,
                    tool_call_id,
                    cap(observation_text(observation), max_chars),
                ));
            }
            EventBody::UserRejectObservation {
                tool_name,
                tool_call_id,
                rejection_reason,
                ..
            } if called.contains(tool_call_id.as_str()) => {
                out.push(tool_message(
                    tool_name,
                    tool_call_id,
                    format!("Action rejected: {rejection_reason}"),
                ));
            }
            EventBody::AgentErrorEvent {
                tool_name,
                tool_call_id,
                error,
                ..
            } => {
                if called.contains(tool_call_id.as_str()) {
                    out.push(tool_message(
                        tool_name,
                        tool_call_id,
                        cap(format!("{ERROR_PREFIX}{error}"), max_chars),
                    ));
                } else {
                    out.push(Message::user(format!("{ERROR_PREFIX}{error}")));
                }
            }
            EventBody::CondensationSummaryEvent { summary } => {
                out.push(Message::user(format!(
                    "Summary of the earlier part of this conversation:\n{summary}"
                )));
                current_response = None;
            }
            _ => {}
        }
    }
    out
}

fn tool_message(name: &str, id: &str, text: String) -> Message {
    let mut m = Message::new(Role::Tool, vec![Content::text(text)]);
    m.tool_call_id = Some(id.to_string());
    m.name = Some(name.to_string());
    m
}
