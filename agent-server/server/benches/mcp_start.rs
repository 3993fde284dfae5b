//! From conversation start to MCP tools ready, per transport: `POST /api/conversations` to a
//! real `berth-agent-server` with one MCP server in the agent's `mcp_config`, timed until the
//! answer (the server answers once the conversation's servers are connected and listed) — an npm
//! server over stdio, a PyPI server over stdio, the npm server over streamable HTTP (already
//! running), and, for scale, no MCP server. Figures, not pass/fail.
//!
//! `cargo bench -p berth-agent-server --bench mcp_start` (needs `tests/mcp-servers/install.sh`)

use std::time::{Duration, Instant};

use serde_json::{Value, json};

const RUNS: usize = 7;
const KEY: &str = "bench-key";

fn median(mut t: Vec<Duration>) -> Duration {
    t.sort();
    t[t.len() / 2]
}

async fn start_ms(
    http: &reqwest::Client,
    url: &str,
    ws: &std::path::Path,
    mcp: Option<Value>,
) -> anyhow::Result<Duration> {
    let mut agent = json!({"kind": "Agent", "llm": {"model": "openai/none", "base_url": "http://127.0.0.1:9/v1", "api_key": "x"}});
    if let Some(mcp) = mcp {
        agent["mcp_config"] = mcp;
    }
    let started = Instant::now();
    let answer: Value = http
        .post(format!("{url}/api/conversations"))
        .header("X-Session-API-Key", KEY)
        .json(&json!({"agent": agent, "workspace": {"working_dir": ws}}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let took = started.elapsed();
    let id = answer["id"].as_str().unwrap_or_default();
    let servers: Value = http
        .get(format!("{url}/api/conversations/{id}/mcp"))
        .header("X-Session-API-Key", KEY)
        .send()
        .await?
        .json()
        .await?;
    for s in servers.as_array().into_iter().flatten() {
        anyhow::ensure!(s["status"] == "connected", "a server did not connect: {s}");
    }
    Ok(took)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let ws = tmp.path().join("ws");
    std::fs::create_dir_all(&ws)?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let _server = tokio::process::Command::new(env!("CARGO_BIN_EXE_berth-agent-server"))
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .env("SESSION_API_KEY", KEY)
        .env("OH_CONVERSATIONS_PATH", tmp.path().join("conversations"))
        .env("OH_BASH_EVENTS_DIR", tmp.path().join("bash_events"))
        .env("LOG_LEVEL", "error")
        .kill_on_drop(true)
        .spawn()?;
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    berth_test_support::wait_until("the agent-server", Duration::from_secs(20), || async {
        http.get(format!("{url}/alive")).send().await.ok()
    })
    .await;
    let remote = berth_test_support::McpHttpServer::start().await;
    let everything = berth_test_support::mcp_server_everything();
    let time = berth_test_support::mcp_server_time();
    let cases: Vec<(&str, Option<Value>)> = vec![
        ("no MCP server", None),
        (
            "stdio, npm",
            Some(json!({"e": {"command": everything, "args": ["stdio"]}})),
        ),
        ("stdio, PyPI", Some(json!({"t": {"command": time}}))),
        (
            "streamable HTTP",
            Some(json!({"r": {"url": remote.url, "type": "http"}})),
        ),
    ];
    println!("conversation start to MCP tools ready (median of {RUNS})");
    for (name, mcp) in cases {
        let mut times = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            times.push(start_ms(&http, &url, &ws, mcp.clone()).await?);
        }
        println!("{name:<18} {:>8.1} ms", median(times).as_secs_f64() * 1e3);
    }
    Ok(())
}
