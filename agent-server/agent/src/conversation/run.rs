//! The agent loop. One step: run actions still waiting for a result (this is how an accepted
//! confirmation proceeds); condense if the condenser asks; call the LLM; turn its answer into
//! events — tool calls become `ActionEvent`s that run in order (or wait for confirmation), a
//! text reply ends the turn. The loop repeats until the status leaves `running`.

use berth_protocol::{
    Action, ErrorClassification, EventBody, ExecutionStatus, FailureAction, FailureKind, Message,
    Source, state_key,
};
use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::stuck::{self, Verdict};
use super::{Conversation, ConversationError, PendingAction};
use crate::llm::{LlmError, StreamDelta};
use crate::view::{to_messages, visible_events};

enum Next {
    Continue,
    Stop,
}

impl Conversation {
    /// Runs the agent until it finishes, pauses, errs, gets stuck or waits for confirmation.
    /// Returns the status it stopped in. A second concurrent call fails with `AlreadyRunning`.
    pub async fn run(&self) -> Result<ExecutionStatus, ConversationError> {
        let _guard = self
            .inner
            .run_lock
            .try_lock()
            .map_err(|_| ConversationError::AlreadyRunning)?;
        self.retry_saving();
        self.ensure_system_prompt();
        match self.status() {
            ExecutionStatus::Finished => {
                self.publish_full_state();
                return Ok(ExecutionStatus::Finished);
            }
            _ => self.set_status(ExecutionStatus::Running),
        }
        let cancel = CancellationToken::new();
        *self.inner.cancel.lock().unwrap_or_else(|e| e.into_inner()) = cancel.clone();
        let max = self.data().state.max_iterations;
        let mut iterations: u32 = 0;
        while self.status() == ExecutionStatus::Running {
            if iterations >= max {
                self.emit(
                    Source::Environment,
                    EventBody::ConversationErrorEvent {
                        code: "MaxIterationsReached".into(),
                        detail: format!("Agent reached maximum iterations limit ({max})."),
                        classification: Some(ErrorClassification::new(
                            FailureKind::Config,
                            false,
                            FailureAction::Settings,
                        )),
                    },
                );
                self.set_status(ExecutionStatus::Error);
                break;
            }
            iterations += 1;
            // A bug must not leave the conversation `running` with nobody running it.
            let next = match AssertUnwindSafe(self.step(&cancel)).catch_unwind().await {
                Ok(next) => next,
                Err(panic) => {
                    self.emit(
                        Source::Environment,
                        EventBody::ConversationErrorEvent {
                            code: "InternalError".into(),
                            detail: format!(
                                "The agent stopped on an internal error ({}). Everything before it is kept; send a message to go on.",
                                panic_message(&panic)
                            ),
                            classification: Some(ErrorClassification::new(
                                FailureKind::Internal,
                                true,
                                FailureAction::Retry,
                            )),
                        },
                    );
                    self.set_status(ExecutionStatus::Error);
                    Next::Stop
                }
            };
            if matches!(next, Next::Stop) {
                break;
            }
            if self.data().state.stuck_detection && self.status() == ExecutionStatus::Running {
                self.check_stuck();
            }
        }
        self.save_state();
        self.publish_full_state();
        Ok(self.status())
    }

    fn check_stuck(&self) {
        let verdict = {
            let data = self.data();
            stuck::check(
                &data.events,
                &self.inner.options.stuck,
                data.state.error_nudge_given,
            )
        };
        match verdict {
            Verdict::NotStuck => {}
            Verdict::Nudge => {
                self.data().state.error_nudge_given = true;
                self.emit(Source::Environment, EventBody::MessageEvent {
                    llm_message: Message::user(
                        "You have run the same action several times and got the same error each time. Stop repeating it: read the error, check your assumptions (paths, arguments, state), and try a different approach.",
                    ),
                    llm_response_id: None,
                    activated_skills: vec![],
                    extended_content: vec![],
                    sender: None,
                    critic_result: None,
                });
            }
            Verdict::Stuck(why) => {
                self.emit(Source::Environment, EventBody::ConversationErrorEvent {
                    code: "AgentStuckInLoopError".into(),
                    detail: format!("The agent got stuck: {why}. Send a message with new guidance to continue."),
                    classification: Some(ErrorClassification::new(FailureKind::AgentAction, false, FailureAction::None)),
                });
                self.set_status(ExecutionStatus::Stuck);
            }
        }
    }

    async fn step(&self, cancel: &CancellationToken) -> Next {
        // Actions left without a result run first: this is how an accepted confirmation goes on.
        let pending = self.pending_actions();
        if !pending.is_empty() {
            return self.execute(pending).await;
        }
        let (view, requested) = self.view();
        if let Some(next) = self.condense(&view, requested, cancel).await {
            return next;
        }
        let response = match self.call_llm(&view, cancel).await {
            Ok(response) => response,
            Err(next) => return next,
        };
        self.record_stats(self.inner.llm.usage_id(), self.inner.llm.metrics());
        let calls = response.message.tool_calls.clone().unwrap_or_default();
        if calls.is_empty() {
            return self.on_text_reply(&response);
        }
        let batch = self.actions_from(&response, &calls);
        if batch.is_empty() {
            return Next::Continue;
        }
        if self.needs_confirmation(&batch) {
            self.set_status(ExecutionStatus::WaitingForConfirmation);
            return Next::Stop;
        }
        self.execute(batch).await
    }

    /// What the LLM sees, and whether a condensation was asked for since the last one.
    fn view(&self) -> (Vec<berth_protocol::Event>, bool) {
        let data = self.data();
        let last_condensation = data
            .events
            .iter()
            .rposition(|e| matches!(e.body, EventBody::Condensation { .. }));
        let requested = data.events[last_condensation.map_or(0, |i| i + 1)..]
            .iter()
            .any(|e| matches!(e.body, EventBody::CondensationRequest {}));
        (visible_events(&data.events), requested)
    }

    /// Summarizes the oldest events when the condenser asks; `Some` ends this step.
    async fn condense(
        &self,
        view: &[berth_protocol::Event],
        requested: bool,
        cancel: &CancellationToken,
    ) -> Option<Next> {
        if let Some(condenser) = &self.inner.condenser
            && condenser.should_condense(view, requested)
            && let Some(plan) = condenser.plan(view, requested)
        {
            match condenser.summarize(view, &plan, cancel).await {
                Ok((summary, response_id)) => {
                    self.record_stats(condenser.llm.usage_id(), condenser.llm.metrics());
                    self.emit(
                        Source::Environment,
                        EventBody::Condensation {
                            forgotten_event_ids: plan.forgotten,
                            summary: Some(summary),
                            summary_offset: Some(plan.summary_offset),
                            llm_response_id: response_id,
                        },
                    );
                    return Some(Next::Continue);
                }
                Err(LlmError::Cancelled) => return Some(Next::Stop),
                Err(e) => {
                    tracing::warn!(error = %e, "condensation failed; continuing with the full history")
                }
            }
        }

        None
    }

    /// The LLM's answer to the history, streamed as deltas when the profile streams; `Err` is
    /// what the loop does instead (stop, or go on after asking for a condensation).
    async fn call_llm(
        &self,
        view: &[berth_protocol::Event],
        cancel: &CancellationToken,
    ) -> Result<crate::llm::LlmResponse, Next> {
        let max_chars = self.inner.llm.config().max_message_chars;
        let messages = to_messages(view, max_chars);
        let schemas = self.inner.tools.schemas();
        let tx = self.inner.events_tx.clone();
        let on_delta = move |d: StreamDelta| {
            let body = match d {
                StreamDelta::Content(c) => EventBody::StreamingDeltaEvent {
                    content: Some(c),
                    reasoning_content: None,
                },
                StreamDelta::Reasoning(r) => EventBody::StreamingDeltaEvent {
                    content: None,
                    reasoning_content: Some(r),
                },
            };
            let _ = tx.send(berth_protocol::Event::new(Source::Agent, None, body));
        };
        let streaming = self.inner.llm.config().stream;
        let delta_cb: Option<&(dyn Fn(StreamDelta) + Send + Sync)> =
            if streaming { Some(&on_delta) } else { None };
        match self
            .inner
            .llm
            .complete(&messages, &schemas, cancel, delta_cb)
            .await
        {
            Ok(r) => Ok(r),
            Err(LlmError::Cancelled) => Err(Next::Stop),
            Err(LlmError::ContextWindowExceeded { .. }) if self.inner.condenser.is_some() => {
                self.emit(Source::Environment, EventBody::CondensationRequest {});
                Err(Next::Continue)
            }
            Err(e) => {
                self.emit(
                    Source::Environment,
                    EventBody::ConversationErrorEvent {
                        code: e.code().into(),
                        detail: e.to_string(),
                        classification: Some(e.classification()),
                    },
                );
                self.set_status(ExecutionStatus::Error);
                Err(Next::Stop)
            }
        }
    }

    /// A reply with no tool call ends the turn; an empty one is sent back to the agent.
    fn on_text_reply(&self, response: &crate::llm::LlmResponse) -> Next {
        let text = response.message.text();
        self.emit(
            Source::Agent,
            EventBody::MessageEvent {
                llm_message: response.message.clone(),
                llm_response_id: Some(response.id.clone()),
                activated_skills: vec![],
                extended_content: vec![],
                sender: None,
                critic_result: None,
            },
        );
        if text.trim().is_empty() {
            self.emit(Source::Environment, EventBody::MessageEvent {
                llm_message: Message::user("Your last answer was empty. Call a tool to make progress, or reply with a message (or call finish) if the task is complete."),
                llm_response_id: None,
                activated_skills: vec![],
                extended_content: vec![],
                sender: None,
                critic_result: None,
            });
            return Next::Continue;
        }
        self.set_status(ExecutionStatus::Finished);
        Next::Stop
    }

    /// Runs actions in order, each result recorded as soon as it is there.
    async fn execute(&self, actions: Vec<PendingAction>) -> Next {
        let mut finished = false;
        for p in actions {
            let Some(tool) = self.inner.tools.get(&p.tool_name).cloned() else {
                let error = format!(
                    "Tool '{}' not found. Available: {:?}",
                    p.tool_name,
                    self.inner.tools.names()
                );
                self.tool_error(&p, error, None);
                continue;
            };
            let run = AssertUnwindSafe(tool.execute(&p.action, &self.inner.tool_ctx));
            let observation = match run.catch_unwind().await {
                Ok(observation) => observation,
                Err(panic) => {
                    // The agent sees the failure as a tool error and can try another way.
                    let error = format!(
                        "The tool '{}' failed on an internal error: {}",
                        p.tool_name,
                        panic_message(&panic)
                    );
                    let internal =
                        ErrorClassification::new(FailureKind::Internal, false, FailureAction::None);
                    self.tool_error(&p, error, Some(internal));
                    continue;
                }
            };
            self.emit(
                Source::Environment,
                EventBody::ObservationEvent {
                    tool_name: p.tool_name.clone(),
                    tool_call_id: p.tool_call_id.clone(),
                    observation,
                    action_id: p.action_id.clone(),
                    extended_content: vec![],
                },
            );
            if matches!(p.action, Action::FinishAction(_)) {
                finished = true;
            }
        }
        if finished {
            self.set_status(ExecutionStatus::Finished);
            return Next::Stop;
        }
        Next::Continue
    }

    /// A tool call that produced no observation, as the error the agent reads next.
    fn tool_error(
        &self,
        p: &PendingAction,
        error: String,
        classification: Option<ErrorClassification>,
    ) {
        self.emit(
            Source::Agent,
            EventBody::AgentErrorEvent {
                tool_name: p.tool_name.clone(),
                tool_call_id: p.tool_call_id.clone(),
                error,
                classification,
            },
        );
    }

    fn record_stats(&self, usage_id: &str, metrics: berth_protocol::Metrics) {
        let compact = {
            let mut data = self.data();
            data.state
                .stats
                .usage_to_metrics
                .insert(usage_id.to_string(), metrics);
            data.state.stats.compact()
        };
        self.emit(
            Source::Environment,
            EventBody::ConversationStateUpdateEvent {
                key: state_key::STATS.into(),
                value: json!(compact),
            },
        );
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use async_trait::async_trait;
    use berth_protocol::{AgentSpec, LlmConfig, Observation, ToolAnnotations};
    use berth_scripted_llm::{ScriptedLlm, Step};
    use serde_json::Value;

    use super::*;
    use crate::tools::{Tool, ToolContext, ToolOptions, ToolSet, tool_by_name};
    use crate::{EngineOptions, NewConversation};

    /// The terminal with a bug: it panics on every command.
    struct PanickingTerminal(Arc<dyn Tool>);

    #[async_trait]
    impl Tool for PanickingTerminal {
        fn name(&self) -> &str {
            self.0.name()
        }
        fn kinds(&self) -> (&str, &str, &str) {
            self.0.kinds()
        }
        fn description(&self) -> String {
            self.0.description()
        }
        fn parameters(&self) -> Value {
            self.0.parameters()
        }
        fn annotations(&self) -> ToolAnnotations {
            self.0.annotations()
        }
        fn parse(&self, args: Value) -> Result<Action, String> {
            self.0.parse(args)
        }
        async fn execute(&self, _: &Action, _: &ToolContext) -> Observation {
            panic!("byte index 4 is not a char boundary")
        }
    }

    #[tokio::test]
    async fn a_tool_that_panics_is_an_error_the_agent_sees_and_the_run_goes_on() {
        let llm = ScriptedLlm::start(vec![
            Step::tool("terminal", json!({"command": "echo hi"})),
            Step::tool("finish", json!({"message": "done"})),
        ])
        .await
        .unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let mut config = LlmConfig::new("openai/scripted");
        config.base_url = Some(llm.openai_base_url());
        config.api_key = Some("sk-test".into());
        let agent = AgentSpec::new(config, &["terminal"]);
        let options = EngineOptions {
            sealer: None,
            tools: ToolOptions::default(),
            stuck: Default::default(),
            user_skills_home: None,
            builtin_skills: false,
            extra_tools: Vec::new(),
        };
        let mut conv =
            Conversation::create(NewConversation::new(agent, tmp.path()), options).unwrap();
        let inner = Arc::get_mut(&mut conv.inner).unwrap_or_else(|| unreachable!());
        let terminal = tool_by_name("terminal", &ToolOptions::default());
        let finish = tool_by_name("finish", &ToolOptions::default());
        inner.tools = ToolSet::new(
            [
                terminal.map(|t| Arc::new(PanickingTerminal(t)) as Arc<dyn Tool>),
                finish,
            ]
            .into_iter()
            .flatten()
            .collect(),
        );
        conv.send_message(Message::user("go"));
        let status = conv.run().await.unwrap();
        assert_eq!(status, ExecutionStatus::Finished);
        let errors: Vec<String> = conv
            .events()
            .iter()
            .filter_map(|e| match &e.body {
                EventBody::AgentErrorEvent { error, .. } => Some(error.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("not a char boundary"), "{errors:?}");
    }
}
