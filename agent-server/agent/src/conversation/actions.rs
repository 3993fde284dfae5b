//! The LLM's tool calls as actions: each call checked against its tool (known, JSON object
//! arguments, the tool's parameters), recorded as an `ActionEvent` with the risk and summary the
//! LLM gave, and the batch held for the user when the confirmation policy says so.

use berth_protocol::{
    Action, ErrorClassification, EventBody, FailureAction, FailureKind, MessageToolCall,
    SecurityRisk, Source, TextContent,
};
use serde_json::{Value, json};

use super::{Conversation, PendingAction};
use crate::llm::LlmResponse;
use crate::tools::validate_args;

impl Conversation {
    /// Actions with no result yet (waiting for confirmation, or cut short).
    pub fn pending_actions(&self) -> Vec<PendingAction> {
        berth_protocol::pending_actions(&self.data().events)
    }

    /// The answer's tool calls as `ActionEvent`s (a call that does not parse becomes an error
    /// the agent sees); the valid ones, in order, to run.
    pub(super) fn actions_from(
        &self,
        response: &LlmResponse,
        calls: &[MessageToolCall],
    ) -> Vec<PendingAction> {
        let thought: Vec<TextContent> = {
            let t = response.message.text();
            if t.trim().is_empty() {
                vec![]
            } else {
                vec![TextContent::new(t)]
            }
        };
        let llm_assesses = self.data().state.llm_assesses_risk();
        calls
            .iter()
            .enumerate()
            .filter_map(|(i, call)| {
                // The thought and reasoning go with the first call of the answer.
                let first = (i == 0).then_some(&thought);
                self.action_from(response, call, first, llm_assesses)
            })
            .collect()
    }

    /// One tool call as an `ActionEvent`; the action to run, or `None` when the call does not
    /// parse (then an `AgentErrorEvent` tells the agent why).
    fn action_from(
        &self,
        response: &LlmResponse,
        call: &MessageToolCall,
        first: Option<&Vec<TextContent>>,
        llm_assesses: bool,
    ) -> Option<PendingAction> {
        let (action, risk, summary, error) = match self.parse_call(call) {
            Ok((action, args)) => {
                let risk = if llm_assesses {
                    args.get("security_risk")
                        .and_then(|r| serde_json::from_value::<SecurityRisk>(r.clone()).ok())
                        .unwrap_or_default()
                } else {
                    SecurityRisk::Unknown
                };
                let declared = self
                    .inner
                    .tools
                    .get(&call.name)
                    .and_then(|t| t.declared_risk());
                let risk = risk.max(declared.unwrap_or_default());
                let summary = args
                    .get("summary")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                (Some(action), risk, summary, None)
            }
            Err(msg) => (None, SecurityRisk::Unknown, None, Some(msg)),
        };
        let event = self.emit(
            Source::Agent,
            EventBody::ActionEvent {
                thought: first.cloned().unwrap_or_default(),
                reasoning_content: first.and(response.message.reasoning_content.clone()),
                thinking_blocks: first
                    .map(|_| response.message.thinking_blocks.clone())
                    .unwrap_or_default(),
                responses_reasoning_item: None,
                action: action.clone(),
                tool_name: call.name.clone(),
                tool_call_id: call.id.clone(),
                tool_call: call.clone(),
                llm_response_id: response.id.clone(),
                security_risk: risk,
                critic_result: None,
                summary,
            },
        );
        if let Some(msg) = error {
            self.emit(
                Source::Agent,
                EventBody::AgentErrorEvent {
                    tool_name: call.name.clone(),
                    tool_call_id: call.id.clone(),
                    error: msg,
                    classification: Some(ErrorClassification::new(
                        FailureKind::AgentAction,
                        false,
                        FailureAction::None,
                    )),
                },
            );
        }
        Some(PendingAction {
            action_id: event.id,
            tool_name: call.name.clone(),
            tool_call_id: call.id.clone(),
            action: action?,
            security_risk: risk,
        })
    }

    /// Whether the policy holds the batch for the user (finishing or thinking alone never is).
    pub(super) fn needs_confirmation(&self, batch: &[PendingAction]) -> bool {
        let policy = self.data().state.confirmation_policy;
        let only_builtins = batch.len() == 1
            && matches!(
                batch[0].action,
                Action::FinishAction(_) | Action::ThinkAction(_)
            );
        !only_builtins && batch.iter().any(|p| policy.should_confirm(p.security_risk))
    }

    /// Validates one tool call: known tool, JSON object arguments, the tool's parameters.
    fn parse_call(
        &self,
        call: &MessageToolCall,
    ) -> Result<(Action, serde_json::Map<String, Value>), String> {
        let Some(tool) = self.inner.tools.get(&call.name) else {
            return Err(format!(
                "Tool '{}' not found. Available: {:?}",
                call.name,
                self.inner.tools.names()
            ));
        };
        let raw: Value = if call.arguments.trim().is_empty() {
            json!({})
        } else {
            serde_json::from_str(&call.arguments).map_err(|e| {
                format!(
                    "Error validating tool '{}': the arguments are not valid JSON ({e}): {}",
                    call.name, call.arguments
                )
            })?
        };
        let args = raw.as_object().cloned().unwrap_or_default();
        let validated = validate_args(tool.as_ref(), &raw)?;
        let action = tool.parse(validated)?;
        Ok((action, args))
    }
}
