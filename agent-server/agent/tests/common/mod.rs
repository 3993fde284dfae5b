//! Helpers shared by the engine's integration tests.

pub mod fixture;

use std::path::{Path, PathBuf};
use std::time::Duration;

use berth_agent::conversation::Thresholds;
use berth_agent::tools::ToolOptions;
use berth_agent::tools::terminal::TerminalOptions;
use berth_agent::{EngineOptions, NewConversation};
use berth_protocol::{AgentSpec, Event, LlmConfig};
use berth_scripted_llm::ScriptedLlm;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Format {
    OpenAi,
    Anthropic,
}

/// An agent for the scripted LLM: no retry waits, every standard tool.
pub fn agent(llm: &ScriptedLlm, format: Format, stream: bool) -> AgentSpec {
    let mut config = match format {
        Format::OpenAi => {
            let mut c = LlmConfig::new("openai/scripted");
            c.base_url = Some(llm.openai_base_url());
            c
        }
        Format::Anthropic => {
            let mut c = LlmConfig::new("anthropic/claude-scripted");
            c.base_url = Some(llm.anthropic_base_url());
            c
        }
    };
    config.api_key = Some("sk-test-key".into());
    config.stream = stream;
    config.num_retries = 3;
    config.retry_min_wait = 0;
    config.retry_multiplier = 0.0;
    config.timeout = 30;
    AgentSpec::new(
        config,
        &["terminal", "file_editor", "task_tracker", "glob", "grep"],
    )
}

pub fn options() -> EngineOptions {
    EngineOptions {
        sealer: None,
        tools: ToolOptions {
            terminal: TerminalOptions {
                no_output_timeout: Duration::from_secs(5),
            },
        },
        stuck: Thresholds::default(),
        user_skills_home: None,
        builtin_skills: false,
        extra_tools: Vec::new(),
    }
}

pub fn new_conversation(agent: AgentSpec, workspace: &Path, root: &Path) -> NewConversation {
    let mut req = NewConversation::new(agent, workspace);
    req.persistence_root = Some(root.to_path_buf());
    req
}

/// A git repository holding a small Python project whose unit test fails: `add` subtracts.
pub fn python_project(dir: &Path) -> PathBuf {
    let ws = dir.join("project");
    berth_test_support::committed_repo(
        &ws,
        &[
            (
                "calc.py",
                "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n",
            ),
            (
                "test_calc.py",
                "import unittest\n\nfrom calc import add, mul\n\n\nclass CalcTest(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n\n    def test_mul(self):\n        self.assertEqual(mul(2, 3), 6)\n\n\nif __name__ == \"__main__\":\n    unittest.main()\n",
            ),
        ],
    );
    ws
}

pub fn kinds(events: &[Event]) -> Vec<String> {
    events.iter().map(|e| e.kind().to_string()).collect()
}

/// Event kinds without state updates, for readable sequence assertions.
pub fn core_kinds(events: &[Event]) -> Vec<String> {
    kinds(events)
        .into_iter()
        .filter(|k| k != "ConversationStateUpdateEvent")
        .collect()
}
