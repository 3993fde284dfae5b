//! A conversation on a scripted LLM, for the loop tests.

use berth_agent::Conversation;
use berth_protocol::{Event, EventBody};
use berth_scripted_llm::{ScriptedLlm, Step};
use serde_json::json;

use super::{Format, agent, new_conversation, options};

pub struct Fx {
    pub llm: ScriptedLlm,
    pub conv: Conversation,
    pub tmp: tempfile::TempDir,
}

pub async fn setup(script: Vec<Step>, tweak: impl FnOnce(&mut berth_agent::NewConversation)) -> Fx {
    build(script, tweak, Vec::new()).await
}

/// [`setup`] with tools made outside the engine (an MCP server's) offered too.
pub async fn setup_with_tools(
    script: Vec<Step>,
    tools: Vec<std::sync::Arc<dyn berth_agent::tools::Tool>>,
    tweak: impl FnOnce(&mut berth_agent::NewConversation),
) -> Fx {
    build(script, tweak, tools).await
}

async fn build(
    script: Vec<Step>,
    tweak: impl FnOnce(&mut berth_agent::NewConversation),
    tools: Vec<std::sync::Arc<dyn berth_agent::tools::Tool>>,
) -> Fx {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    std::fs::create_dir_all(&ws).unwrap();
    let llm = ScriptedLlm::start(script).await.unwrap();
    let mut req = new_conversation(
        agent(&llm, Format::OpenAi, false),
        &ws,
        &tmp.path().join("conversations"),
    );
    tweak(&mut req);
    let mut opts = options();
    opts.extra_tools = tools;
    let conv = Conversation::create(req, opts).unwrap();
    Fx { llm, conv, tmp }
}

pub fn statuses(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::ConversationStateUpdateEvent { key, value } if key == "execution_status" => {
                value.as_str().map(str::to_string)
            }
            _ => None,
        })
        .collect()
}

pub fn count(events: &[Event], kind: &str) -> usize {
    events.iter().filter(|e| e.kind() == kind).count()
}

pub fn finish(msg: &str) -> Step {
    Step::tool("finish", json!({"message": msg}))
}
