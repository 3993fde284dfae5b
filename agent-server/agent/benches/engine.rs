//! Engine benchmark (figures, not a pass/fail test):
//! - the agent loop's own overhead per step, with a scripted LLM that answers at once: wall time
//!   per step minus the time spent inside LLM calls (HTTP on loopback included in the latter),
//!   with persistence on disk and in memory;
//! - the terminal tool's round trip for `echo hi` on a live PTY session.
//!
//! Run: `cargo bench -p berth-agent --bench engine`.

use std::time::{Duration, Instant};

use berth_agent::secrets::SecretRegistry;
use berth_agent::tools::terminal::{TerminalOptions, TerminalTool};
use berth_agent::tools::{Tool, ToolContext};
use berth_agent::{Conversation, EngineOptions, NewConversation};
use berth_protocol::{Action, AgentSpec, LlmConfig, Message, TerminalAction};
use berth_scripted_llm::{ScriptedLlm, Step};
use serde_json::json;

const STEPS: usize = 300;
const ECHOES: usize = 300;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn agent_steps(persist: bool) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let mut script: Vec<Step> = (0..STEPS)
        .map(|i| Step::tool("think", json!({"thought": format!("step {i}")})))
        .collect();
    script.push(Step::tool("finish", json!({"message": "done"})));
    let llm = ScriptedLlm::start(script).await?;
    let mut config = LlmConfig::new("openai/bench");
    config.base_url = Some(llm.openai_base_url());
    config.num_retries = 0;
    let mut req = NewConversation::new(
        AgentSpec::new(config, &["terminal", "file_editor", "task_tracker"]),
        tmp.path().join("ws"),
    );
    if persist {
        req.persistence_root = Some(tmp.path().join("conversations"));
    }
    req.max_iterations = (STEPS + 10) as u32;
    let conv = Conversation::create(req, EngineOptions::default())?;
    conv.send_message(Message::user("benchmark"));
    let started = Instant::now();
    let status = conv.run().await?;
    let wall = started.elapsed();
    let steps = STEPS + 1;
    let metrics = conv.metrics();
    let llm_time: f64 = metrics
        .usage_to_metrics
        .values()
        .flat_map(|m| m.response_latencies.iter())
        .map(|l| l.latency)
        .sum();
    let per_step = wall.as_secs_f64() * 1000.0 / steps as f64;
    let llm_per_step = llm_time * 1000.0 / steps as f64;
    println!(
        "agent step ({}): {steps} steps in {:.1} ms → {per_step:.3} ms/step; inside the LLM call (loopback HTTP) {llm_per_step:.3} ms; engine overhead {:.3} ms/step; {} events; status {}",
        if persist {
            "persisted to disk"
        } else {
            "in memory"
        },
        ms(wall),
        per_step - llm_per_step,
        conv.events().len(),
        status.as_str()
    );
    Ok(())
}

async fn terminal_round_trip() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let tool = TerminalTool::new(TerminalOptions::default());
    let ctx = ToolContext {
        workspace: tmp.path().to_path_buf(),
        persistence_dir: None,
        secrets: SecretRegistry::default(),
    };
    let action = Action::TerminalAction(TerminalAction {
        command: "echo hi".into(),
        is_input: false,
        timeout: None,
        reset: false,
    });
    let first = Instant::now();
    tool.execute(&action, &ctx).await;
    let cold = first.elapsed();
    let mut times = Vec::with_capacity(ECHOES);
    for _ in 0..ECHOES {
        let t = Instant::now();
        tool.execute(&action, &ctx).await;
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "terminal `echo hi`: first call (starts bash) {:.1} ms; then {ECHOES} calls: median {:.2} ms, p95 {:.2} ms, max {:.2} ms",
        ms(cold),
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.95)),
        ms(*times.last().unwrap_or(&Duration::ZERO))
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        agent_steps(false).await?;
        agent_steps(true).await?;
        terminal_round_trip().await
    })
}
