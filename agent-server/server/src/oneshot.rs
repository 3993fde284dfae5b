//! `berth-agent-server run`: one conversation in-process, for scripts and CI. Events are printed
//! as they happen (readable lines, or one JSON event per line with `--json`); the exit code is 0
//! when the agent finishes, 1 when it errs, gets stuck or stops otherwise.

use std::path::PathBuf;

use berth_agent::{Conversation, EngineOptions, NewConversation};
use berth_protocol::{
    AgentSpec, Event, EventBody, ExecutionStatus, LlmConfig, Message, Observation, content_text,
};

#[derive(clap::Args)]
pub struct RunArgs {
    /// The folder the agent works in (its terminal starts there).
    #[arg(long)]
    workspace: PathBuf,
    /// LiteLLM-style model id, e.g. anthropic/claude-sonnet-4-5, openai/gpt-5, ollama/qwen3-coder.
    #[arg(long)]
    model: String,
    /// What to do.
    #[arg(long)]
    task: String,
    /// Print every event as one JSON line instead of readable text.
    #[arg(long)]
    json: bool,
    /// Stream the LLM's answer as it is written.
    #[arg(long)]
    stream: bool,
    /// Agent steps allowed before the run stops with an error.
    #[arg(long, default_value_t = 100)]
    max_iterations: u32,
    /// Where to keep the conversation (default: <workspace>/.berth/conversations).
    #[arg(long)]
    conversations_dir: Option<PathBuf>,
}

fn readable(e: &Event) -> Option<String> {
    Some(match &e.body {
        EventBody::MessageEvent { llm_message, .. } => {
            format!("[{:?}] {}", e.source, llm_message.text())
                .replace("[User]", "[user]")
                .replace("[Agent]", "[agent]")
        }
        EventBody::ActionEvent {
            tool_name,
            summary,
            thought,
            ..
        } => {
            let t: Vec<&str> = thought.iter().map(|t| t.text.as_str()).collect();
            let lead = if t.is_empty() {
                String::new()
            } else {
                format!("{}\n", t.join(" "))
            };
            format!(
                "{lead}→ {tool_name}: {}",
                summary.clone().unwrap_or_default()
            )
        }
        EventBody::ObservationEvent { observation, .. } => {
            let text = match observation {
                Observation::TerminalObservation(o) => berth_agent::tools::terminal::llm_text(o),
                other => content_text(&other.content_and_error().0),
            };
            let lines: Vec<&str> = text.lines().collect();
            let mut shown = lines
                .iter()
                .take(30)
                .copied()
                .collect::<Vec<_>>()
                .join("\n");
            if lines.len() > 30 {
                shown.push_str(&format!("\n… ({} more lines)", lines.len() - 30));
            }
            shown
        }
        EventBody::AgentErrorEvent { error, .. } => format!("! {error}"),
        EventBody::UserRejectObservation {
            rejection_reason, ..
        } => format!("✗ rejected: {rejection_reason}"),
        EventBody::ConversationErrorEvent { code, detail, .. } => format!("!! {code}: {detail}"),
        EventBody::Condensation {
            forgotten_event_ids,
            ..
        } => format!("(condensed {} events)", forgotten_event_ids.len()),
        _ => return None,
    })
}

pub async fn run(args: RunArgs) -> anyhow::Result<i32> {
    std::fs::create_dir_all(&args.workspace)?;
    let workspace = std::fs::canonicalize(&args.workspace)?;
    let mut llm = LlmConfig::new(args.model);
    llm.api_key = std::env::var("LLM_API_KEY").ok().filter(|k| !k.is_empty());
    llm.base_url = std::env::var("LLM_BASE_URL").ok().filter(|u| !u.is_empty());
    llm.stream = args.stream;
    let mut req = NewConversation::new(
        AgentSpec::new(
            llm,
            &["terminal", "file_editor", "task_tracker", "glob", "grep"],
        ),
        &workspace,
    );
    req.max_iterations = args.max_iterations;
    req.persistence_root = Some(
        args.conversations_dir
            .unwrap_or_else(|| workspace.join(".berth/conversations")),
    );
    let options = EngineOptions {
        builtin_skills: true,
        user_skills_home: std::env::var_os("HOME").map(PathBuf::from),
        ..EngineOptions::default()
    };
    let conv = Conversation::create(req, options)?;
    let mut events = conv.subscribe();
    let json = args.json;
    let printer = tokio::spawn(async move {
        let mut streaming = false;
        while let Ok(e) = events.recv().await {
            if json {
                if !matches!(e.body, EventBody::StreamingDeltaEvent { .. }) {
                    println!("{}", serde_json::to_string(&e).unwrap_or_default());
                }
                continue;
            }
            if let EventBody::StreamingDeltaEvent {
                content: Some(c), ..
            } = &e.body
            {
                print!("{c}");
                streaming = true;
                continue;
            }
            if let Some(line) = readable(&e) {
                if streaming {
                    println!();
                    streaming = false;
                }
                println!("{line}");
            }
        }
    });
    conv.send_message(Message::user(args.task));
    let status = conv.run().await?;
    // Let the printer drain what was published before the run returned.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    printer.abort();
    if !json {
        println!("\nstatus: {}", status.as_str());
        let last = conv.final_response();
        if !last.is_empty() {
            println!("{last}");
        }
    }
    Ok(if status == ExecutionStatus::Finished {
        0
    } else {
        1
    })
}
