//! The LLM-summarizing condenser. When the view holds more than `max_size` events (or a
//! `CondensationRequest` asks), it keeps the first `keep_first` events and a tail of about
//! `max_size / 2 - keep_first - 1` events (half the view for a request), and replaces the
//! middle with a summary written by its own LLM. Cuts never separate a tool call from its result.

use berth_protocol::{CondenserSpec, Event, EventBody, Message, Role};
use tokio_util::sync::CancellationToken;

use crate::llm::{Llm, LlmError};
use crate::view::observation_text;

pub struct Condenser {
    pub llm: Llm,
    pub max_size: usize,
    pub keep_first: usize,
}

/// What to forget and what to say instead.
pub struct Plan {
    pub forgotten: Vec<String>,
    pub summary_offset: usize,
}

impl Condenser {
    /// The condenser a spec asks for; `NoOpCondenser` and no spec give none.
    pub fn from_spec(spec: Option<&CondenserSpec>) -> Result<Option<Self>, LlmError> {
        match spec {
            Some(CondenserSpec::LLMSummarizingCondenser {
                llm,
                max_size,
                keep_first,
                ..
            }) => {
                let mut config = (**llm).clone();
                if config.usage_id == "default" {
                    config.usage_id = "condenser".into();
                }
                Ok(Some(Self {
                    llm: Llm::new(config)?,
                    max_size: (*max_size).max(4),
                    keep_first: *keep_first,
                }))
            }
            Some(CondenserSpec::PipelineCondenser { condensers }) => {
                for c in condensers {
                    if let Some(found) = Self::from_spec(Some(c))? {
                        return Ok(Some(found));
                    }
                }
                Ok(None)
            }
            Some(CondenserSpec::NoOpCondenser {}) | None => Ok(None),
        }
    }

    pub fn should_condense(&self, view: &[Event], requested: bool) -> bool {
        requested || view.len() > self.max_size
    }

    /// Which events of the view to forget.
    pub fn plan(&self, view: &[Event], requested: bool) -> Option<Plan> {
        let n = view.len();
        let mut head = self.keep_first.min(n);
        // The head must not end inside a tool call and its results.
        while head < n && view[head].is_observation_like() {
            head += 1;
        }
        let tail = if requested {
            n / 2
        } else {
            (self.max_size / 2)
                .saturating_sub(self.keep_first + 1)
                .max(1)
        };
        let mut start = n.saturating_sub(tail).max(head);
        // The tail must start at the beginning of a tool-call batch, not at one of its results.
        while start > head
            && (view[start].is_observation_like() || same_batch(&view[start - 1], &view[start]))
        {
            start -= 1;
        }
        if start <= head {
            return None;
        }
        Some(Plan {
            forgotten: view[head..start]
                .iter()
                .map(|e| e.id.clone())
                .filter(|id| !id.ends_with("-summary"))
                .collect(),
            summary_offset: head,
        })
    }

    pub async fn summarize(
        &self,
        view: &[Event],
        plan: &Plan,
        cancel: &CancellationToken,
    ) -> Result<(String, String), LlmError> {
        let forgotten: Vec<&Event> = view
            .iter()
            .filter(|e| plan.forgotten.contains(&e.id) || e.id.ends_with("-summary"))
            .collect();
        let mut transcript = String::new();
        for e in forgotten {
            transcript.push_str(&describe(e));
            transcript.push('\n');
        }
        let messages = vec![
            Message::new(
                Role::System,
                vec![berth_protocol::Content::text(
                    "You condense the history of a coding agent's work so it can continue without the full log. \
                     Write a summary that keeps: the user's goals and requirements, decisions made, files created or \
                     changed (with paths), commands run and their important results, errors met and how they were \
                     solved, and what remains to do. Be specific and brief; do not invent anything.",
                )],
            ),
            Message::user(format!("Events to summarize:\n\n{transcript}")),
        ];
        let response = self.llm.complete(&messages, &[], cancel, None).await?;
        Ok((response.message.text(), response.id))
    }
}

fn same_batch(a: &Event, b: &Event) -> bool {
    match (&a.body, &b.body) {
        (
            EventBody::ActionEvent {
                llm_response_id: x, ..
            },
            EventBody::ActionEvent {
                llm_response_id: y, ..
            },
        ) => x == y,
        _ => false,
    }
}

fn describe(e: &Event) -> String {
    let text: String = match &e.body {
        EventBody::MessageEvent { llm_message, .. } => {
            format!("[{:?} message] {}", e.source, llm_message.text())
        }
        EventBody::ActionEvent {
            tool_name,
            tool_call,
            thought,
            ..
        } => {
            let t: Vec<&str> = thought.iter().map(|t| t.text.as_str()).collect();
            format!(
                "[action {tool_name}] {} {}",
                t.join(" "),
                tool_call.arguments
            )
        }
        EventBody::ObservationEvent {
            tool_name,
            observation,
            ..
        } => format!("[result of {tool_name}] {}", observation_text(observation)),
        EventBody::AgentErrorEvent { error, .. } => format!("[error] {error}"),
        EventBody::UserRejectObservation {
            rejection_reason, ..
        } => format!("[rejected] {rejection_reason}"),
        EventBody::CondensationSummaryEvent { summary } => format!("[earlier summary] {summary}"),
        _ => String::new(),
    };
    text.chars().take(4000).collect()
}
