//! What a user (or the server on their behalf) does to a conversation: send messages, pause,
//! interrupt, answer confirmations, change policies and secrets, ask side questions.

use std::collections::BTreeMap;

use berth_protocol::{
    ConfirmationPolicy, Event, EventBody, ExecutionStatus, Message, RejectionSource, Source,
    TextContent,
};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::{Conversation, ConversationError};
use crate::skills;
use crate::view;

impl Conversation {
    /// Adds a user message; keyword skills it mentions are attached to it (once per conversation).
    pub fn send_message(&self, message: Message) -> Event {
        self.ensure_system_prompt();
        let text = message.text();
        let mut extended = Vec::new();
        let mut activated = Vec::new();
        {
            let data = self.data();
            for skill in &self.inner.skills {
                if data.state.activated_knowledge_skills.contains(&skill.name) {
                    continue;
                }
                if let Some(kw) = skills::matched_keyword(skill, &text) {
                    extended.push(TextContent::new(skills::render_triggered(skill, &kw)));
                    activated.push(skill.name.clone());
                }
            }
        }
        if let Some(suffix) = self
            .data()
            .state
            .agent
            .agent_context
            .as_ref()
            .and_then(|c| c.user_message_suffix.clone())
            && !suffix.trim().is_empty()
        {
            extended.push(TextContent::new(suffix));
        }
        let event = self.emit(
            Source::User,
            EventBody::MessageEvent {
                llm_message: message,
                llm_response_id: None,
                activated_skills: activated.clone(),
                extended_content: extended,
                sender: None,
                critic_result: None,
            },
        );
        {
            let mut data = self.data();
            data.state.activated_knowledge_skills.extend(activated);
            data.state.last_user_message_id = Some(event.id.clone());
            data.state.error_nudge_given = false;
        }
        self.emit(
            Source::Environment,
            EventBody::ConversationStateUpdateEvent {
                key: "last_user_message_id".into(),
                value: json!(event.id),
            },
        );
        if matches!(
            self.status(),
            ExecutionStatus::Finished | ExecutionStatus::Stuck
        ) {
            self.set_status(ExecutionStatus::Idle);
        }
        self.save_state();
        event
    }

    /// Pauses between steps (from idle or running); the running step completes first.
    pub fn pause(&self) {
        if !matches!(
            self.status(),
            ExecutionStatus::Idle | ExecutionStatus::Running
        ) {
            return;
        }
        self.emit(Source::User, EventBody::PauseEvent {});
        self.set_status(ExecutionStatus::Paused);
        self.publish_full_state();
    }

    /// Undoes a pause while the run loop is still finishing its step, so that loop carries on
    /// instead of stopping (and announcing a stop the client would take for the end of the
    /// run). Returns whether the conversation was paused.
    pub fn resume_if_paused(&self) -> bool {
        if self.status() != ExecutionStatus::Paused {
            return false;
        }
        self.set_status(ExecutionStatus::Running);
        true
    }

    /// Cancels the LLM call in flight and pauses.
    pub fn interrupt(&self) {
        self.inner
            .cancel
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .cancel();
        self.emit(Source::User, EventBody::InterruptEvent {});
        if matches!(
            self.status(),
            ExecutionStatus::Running | ExecutionStatus::Idle
        ) {
            self.set_status(ExecutionStatus::Paused);
        }
        self.publish_full_state();
    }

    /// Rejects every action waiting for confirmation; the conversation goes back to idle.
    pub fn reject_pending(&self, reason: Option<String>) {
        let reason = reason
            .filter(|r| !r.trim().is_empty())
            .unwrap_or_else(berth_protocol::event::default_rejection_reason);
        for p in self.pending_actions() {
            self.emit(
                Source::User,
                EventBody::UserRejectObservation {
                    tool_name: p.tool_name,
                    tool_call_id: p.tool_call_id,
                    rejection_reason: reason.clone(),
                    rejection_source: RejectionSource::User,
                    action_id: p.action_id,
                },
            );
        }
        if self.status() == ExecutionStatus::WaitingForConfirmation {
            self.set_status(ExecutionStatus::Idle);
        }
        self.publish_full_state();
    }

    pub fn set_confirmation_policy(&self, policy: ConfirmationPolicy) {
        self.data().state.confirmation_policy = policy;
        self.emit(
            Source::Environment,
            EventBody::ConversationStateUpdateEvent {
                key: "confirmation_policy".into(),
                value: json!(policy),
            },
        );
        self.save_state();
    }

    pub fn set_security_analyzer(&self, analyzer: Option<Value>) {
        self.data().state.security_analyzer = analyzer.clone();
        self.emit(
            Source::Environment,
            EventBody::ConversationStateUpdateEvent {
                key: "security_analyzer".into(),
                value: analyzer.unwrap_or(Value::Null),
            },
        );
        self.save_state();
    }

    pub fn set_secret(&self, name: &str, value: &str, description: Option<String>) {
        self.inner
            .tool_ctx
            .secrets
            .set(name, value, description.clone());
        self.data()
            .state
            .secret_descriptions
            .insert(name.to_string(), description);
        self.reseal();
        self.save_state();
    }

    pub fn set_title(&self, title: Option<String>) {
        self.data().state.title = title;
        self.save_state();
    }

    pub fn set_tags(&self, tags: BTreeMap<String, String>) {
        self.data().state.tags = tags;
        self.save_state();
    }

    pub fn server_meta(&self, key: &str) -> Option<Value> {
        self.data().state.server_meta.get(key).cloned()
    }

    pub fn set_server_meta(&self, key: &str, value: Value) {
        self.data().state.server_meta.insert(key.to_string(), value);
        self.save_state();
    }

    pub fn has_condenser(&self) -> bool {
        self.inner.condenser.is_some()
    }

    /// A side question about the conversation: one LLM call over the history plus the question,
    /// without tools; nothing is recorded.
    pub async fn ask(&self, question: &str) -> Result<String, ConversationError> {
        let view = view::visible_events(&self.events());
        let mut messages = view::to_messages(&view, self.inner.llm.config().max_message_chars);
        // A question must follow a complete exchange, not tool calls still waiting for results.
        while messages
            .last()
            .is_some_and(|m| m.tool_calls.as_ref().is_some_and(|c| !c.is_empty()))
        {
            messages.pop();
        }
        messages.push(Message::user(format!(
            "Answer this question about the conversation so far, without using tools:\n{question}"
        )));
        let response = self
            .inner
            .llm
            .complete(&messages, &[], &CancellationToken::new(), None)
            .await?;
        Ok(self.inner.tool_ctx.secrets.mask(&response.message.text()))
    }

    /// Asks the conversation's condenser to run at the next step.
    pub fn request_condensation(&self) -> Result<(), ConversationError> {
        if self.inner.condenser.is_none() {
            return Err(ConversationError::Invalid(
                "Cannot condense conversation: No condenser configured".into(),
            ));
        }
        self.emit(Source::Environment, EventBody::CondensationRequest {});
        Ok(())
    }
}
