//! Runs one task with the engine, printing events as they happen — the way to try
//! `berth-agent` before `berth-agent-server run` exists.
//!
//! ```sh
//! LLM_API_KEY=sk-… cargo run -p berth-agent --example run_task -- \
//!     --workspace /path/to/repo --model anthropic/claude-sonnet-4-5 --task "Fix the failing test"
//! ```
//! `LLM_BASE_URL` points at another server (Ollama: `--model ollama/qwen3-coder`, no key).
//! Conversations are kept in `<workspace>/.berth/conversations`.

use berth_agent::{Conversation, EngineOptions, NewConversation};
use berth_protocol::{AgentSpec, EventBody, LlmConfig, Message, Observation, content_text};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: run_task --workspace DIR --model provider/model --task TEXT [--stream]";
    let (Some(workspace), Some(model), Some(task)) = (
        arg(&args, "--workspace"),
        arg(&args, "--model"),
        arg(&args, "--task"),
    ) else {
        anyhow::bail!(usage);
    };
    let workspace = std::fs::canonicalize(&workspace)?;
    let mut llm = LlmConfig::new(model);
    llm.api_key = std::env::var("LLM_API_KEY").ok();
    llm.base_url = std::env::var("LLM_BASE_URL").ok();
    llm.stream = args.iter().any(|a| a == "--stream");
    let mut req = NewConversation::new(
        AgentSpec::new(
            llm,
            &["terminal", "file_editor", "task_tracker", "glob", "grep"],
        ),
        &workspace,
    );
    req.persistence_root = Some(workspace.join(".berth/conversations"));
    let options = EngineOptions {
        builtin_skills: true,
        ..EngineOptions::default()
    };
    let conv = Conversation::create(req, options)?;
    let mut events = conv.subscribe();
    let printer = tokio::spawn(async move {
        while let Ok(e) = events.recv().await {
            match &e.body {
                EventBody::MessageEvent { llm_message, .. } => {
                    println!("[{:?}] {}", e.source, llm_message.text())
                }
                EventBody::ActionEvent {
                    tool_name, summary, ..
                } => println!("→ {tool_name}: {}", summary.clone().unwrap_or_default()),
                EventBody::ObservationEvent { observation, .. } => {
                    let text = match observation {
                        Observation::TerminalObservation(o) => {
                            berth_agent::tools::terminal::llm_text(o)
                        }
                        other => content_text(&other.content_and_error().0),
                    };
                    let short: String = text.lines().take(20).collect::<Vec<_>>().join("\n");
                    println!("{short}");
                }
                EventBody::AgentErrorEvent { error, .. } => println!("! {error}"),
                EventBody::ConversationErrorEvent { code, detail, .. } => {
                    println!("!! {code}: {detail}")
                }
                EventBody::StreamingDeltaEvent {
                    content: Some(c), ..
                } => print!("{c}"),
                _ => {}
            }
        }
    });
    conv.send_message(Message::user(task));
    let status = conv.run().await?;
    printer.abort();
    println!(
        "\nstatus: {}  final: {}",
        status.as_str(),
        conv.final_response()
    );
    if status != berth_protocol::ExecutionStatus::Finished {
        std::process::exit(1);
    }
    Ok(())
}
