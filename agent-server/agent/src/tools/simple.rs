//! The built-ins every agent has: `finish` (ends the task with a message) and `think` (logs a
//! thought, changes nothing).

use async_trait::async_trait;
use berth_protocol::{
    Action, FinishAction, Observation, PlainObservation, ThinkAction, ToolAnnotations,
};
use serde_json::{Value, json};

use super::{Tool, ToolContext, annotations, from_args, text_content};

pub struct FinishTool;
pub struct ThinkTool;

#[async_trait]
impl Tool for FinishTool {
    fn name(&self) -> &str {
        "finish"
    }
    fn kinds(&self) -> (&str, &str, &str) {
        ("FinishTool", "FinishAction", "FinishObservation")
    }
    fn description(&self) -> String {
        "Signal that the task is done (or cannot be done) and give the user a final message: what \
         was done, what was verified, and anything left for them."
            .into()
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {
            "message": {"type": "string", "description": "Final message to send to the user."}
        }, "required": ["message"]})
    }
    fn annotations(&self) -> ToolAnnotations {
        annotations("finish", true, false, true, false)
    }
    fn parse(&self, args: Value) -> Result<Action, String> {
        from_args::<FinishAction>(self.name(), args).map(Action::FinishAction)
    }
    async fn execute(&self, action: &Action, ctx: &ToolContext) -> Observation {
        let message = match action {
            Action::FinishAction(a) => a.message.clone(),
            _ => String::new(),
        };
        Observation::FinishObservation(PlainObservation {
            content: text_content(ctx.secrets.mask(&message)),
            is_error: false,
        })
    }
}

#[async_trait]
impl Tool for ThinkTool {
    fn name(&self) -> &str {
        "think"
    }
    fn kinds(&self) -> (&str, &str, &str) {
        ("ThinkTool", "ThinkAction", "ThinkObservation")
    }
    fn description(&self) -> String {
        "Think something through: brainstorm fixes, weigh options, plan a refactor. Nothing is \
         run or changed; the thought is only logged."
            .into()
    }
    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {
            "thought": {"type": "string", "description": "The thought to log."}
        }, "required": ["thought"]})
    }
    fn annotations(&self) -> ToolAnnotations {
        let mut a = annotations("think", true, false, true, false);
        a.title = None;
        a
    }
    fn parse(&self, args: Value) -> Result<Action, String> {
        from_args::<ThinkAction>(self.name(), args).map(Action::ThinkAction)
    }
    async fn execute(&self, _action: &Action, _ctx: &ToolContext) -> Observation {
        Observation::ThinkObservation(PlainObservation {
            content: text_content("Your thought has been logged."),
            is_error: false,
        })
    }
}
