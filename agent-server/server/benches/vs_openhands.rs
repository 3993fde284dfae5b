//! Berth's agent-server side by side with OpenHands' Python agent-server 1.58.2, in one run, on
//! the same machine, each driven over HTTP against its own instant scripted LLM:
//! - start to the first `/alive` answer;
//! - resident memory when idle (the server's process tree);
//! - wall and CPU time of a 50-step conversation (49 `terminal` calls and `finish`);
//! - `/api/bash/execute_bash_command` round trip for `echo hi`, p50 and p95.
//!
//! Run `agent-server/server/benches/vs-openhands.sh` (it installs OpenHands into a venv), or
//! `cargo bench -p berth-agent-server --bench vs_openhands` with `BERTH_OH_VENV` pointing at a
//! venv holding `openhands-agent-server==1.58.2`; without one, only Berth is measured.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use berth_scripted_llm::{ScriptedLlm, Step};
use serde_json::{Value, json};

const KEY: &str = "bench-key";
const STEPS: usize = 50;
const BASH_CALLS: usize = 100;

struct Figures {
    startup: Duration,
    idle_rss_mb: f64,
    conversation_wall: Duration,
    conversation_cpu: Duration,
    bash_p50: Duration,
    bash_p95: Duration,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(18123)
}

/// (pid, parent pid, name, utime+stime ticks, rss kB) for every process.
fn processes() -> Vec<(i32, i32, String, u64, u64)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = stat[open + 1..close].to_string();
        let rest: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        let field = |i: usize| rest.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        let ppid = field(1) as i32;
        let cpu = field(11) + field(12) + field(13) + field(14);
        let rss = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            })
            .unwrap_or(0);
        out.push((pid, ppid, name, cpu, rss));
    }
    out
}

/// CPU ticks and RSS (kB) of `root` and its descendants, plus tmux servers (OpenHands' terminal
/// runs in one, detached from the server's tree).
fn tree_usage(root: i32) -> (u64, u64) {
    let procs = processes();
    let mut members = vec![root];
    let mut i = 0;
    while i < members.len() {
        let parent = members[i];
        members.extend(procs.iter().filter(|p| p.1 == parent).map(|p| p.0));
        i += 1;
    }
    procs
        .iter()
        .filter(|p| members.contains(&p.0) || p.2.starts_with("tmux"))
        .fold((0, 0), |(c, r), p| (c + p.3, r + p.4))
}

fn ticks_to_duration(ticks: u64) -> Duration {
    Duration::from_secs_f64(ticks as f64 / 100.0)
}

fn script() -> Vec<Step> {
    let mut s: Vec<Step> = (1..STEPS)
        .map(|i| Step::tool("terminal", json!({"command": format!("echo step {i}")})))
        .collect();
    s.push(Step::tool("finish", json!({"message": "done"})));
    s
}

async fn measure(
    name: &str,
    mut cmd: tokio::process::Command,
    workdir: &Path,
) -> anyhow::Result<Figures> {
    let port = free_port();
    let llm = ScriptedLlm::start(script()).await?;
    cmd.args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .env("SESSION_API_KEY", KEY)
        .env("OH_CONVERSATIONS_PATH", workdir.join("conversations"))
        .env("OH_BASH_EVENTS_DIR", workdir.join("bash_events"))
        .env("LOG_LEVEL", "warning")
        .current_dir(workdir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let mut child = cmd.spawn()?;
    let pid = child.id().unwrap_or(0) as i32;
    loop {
        if http
            .get(format!("{base}/alive"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        if started.elapsed() > Duration::from_secs(120) {
            anyhow::bail!("{name} did not answer /alive in 120 s");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let startup = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_, idle_rss) = tree_usage(pid);

    let ws = workdir.join("project");
    std::fs::create_dir_all(&ws)?;
    let body = json!({
        "agent": {"kind": "Agent", "llm": {"model": "openai/scripted", "base_url": llm.openai_base_url(), "api_key": "sk-bench", "usage_id": "agent", "num_retries": 0},
                  "tools": [{"name": "terminal"}, {"name": "file_editor"}]},
        "workspace": {"working_dir": ws}, "autotitle": false, "max_iterations": 200,
    });
    let (cpu_before, _) = tree_usage(pid);
    let t = Instant::now();
    let created: Value = http
        .post(format!("{base}/api/conversations"))
        .header("X-Session-API-Key", KEY)
        .json(&body)
        .send()
        .await?
        .json()
        .await?;
    let id = created["id"].as_str().unwrap_or_default().to_string();
    http.post(format!("{base}/api/conversations/{id}/events"))
        .header("X-Session-API-Key", KEY)
        .json(&json!({"role": "user", "content": [{"type": "text", "text": "run the steps"}], "run": true}))
        .send()
        .await?;
    loop {
        let info: Value = http
            .get(format!("{base}/api/conversations/{id}"))
            .header("X-Session-API-Key", KEY)
            .send()
            .await?
            .json()
            .await?;
        match info["execution_status"].as_str() {
            Some("finished") => break,
            Some("error") | Some("stuck") => anyhow::bail!(
                "{name}: the conversation ended in {}",
                info["execution_status"]
            ),
            _ => {}
        }
        if t.elapsed() > Duration::from_secs(600) {
            anyhow::bail!("{name}: the conversation did not finish in 600 s");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let conversation_wall = t.elapsed();
    let (cpu_after, _) = tree_usage(pid);
    if llm.remaining() != 0 {
        anyhow::bail!("{name}: {} scripted steps were not used", llm.remaining());
    }

    let mut times = Vec::with_capacity(BASH_CALLS);
    for _ in 0..BASH_CALLS {
        let t = Instant::now();
        let out: Value = http
            .post(format!("{base}/api/bash/execute_bash_command"))
            .header("X-Session-API-Key", KEY)
            .json(&json!({"command": "echo hi", "timeout": 30}))
            .send()
            .await?
            .json()
            .await?;
        times.push(t.elapsed());
        if out["stdout"].as_str().map(str::trim) != Some("hi") {
            anyhow::bail!("{name}: unexpected bash output {out}");
        }
    }
    times.sort();
    let _ = child.kill().await;
    Ok(Figures {
        startup,
        idle_rss_mb: idle_rss as f64 / 1024.0,
        conversation_wall,
        conversation_cpu: ticks_to_duration(cpu_after.saturating_sub(cpu_before)),
        bash_p50: times[times.len() / 2],
        bash_p95: times[(times.len() * 95 / 100).min(times.len() - 1)],
    })
}

fn openhands_python() -> Option<PathBuf> {
    let venv = std::env::var_os("BERTH_OH_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/oh-venv"));
    let py = venv.join("bin/python");
    let ok = std::process::Command::new(&py)
        .args(["-c", "import openhands.agent_server"])
        .env("OPENHANDS_SUPPRESS_BANNER", "1")
        .env("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(py)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn row(label: &str, berth: String, oh: Option<String>, ratio: Option<f64>) {
    let oh = oh.unwrap_or_else(|| "–".into());
    let ratio = ratio
        .map(|r| format!("{r:.1}×"))
        .unwrap_or_else(|| "–".into());
    println!("| {label:<34} | {berth:>12} | {oh:>12} | {ratio:>8} |");
}

fn main() -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let tmp = tempfile::tempdir()?;
        let berth_dir = tmp.path().join("berth");
        std::fs::create_dir_all(&berth_dir)?;
        // The optimized binary cargo builds for benchmarks.
        let berth_bin = PathBuf::from(env!("CARGO_BIN_EXE_berth-agent-server"));
        let berth = measure("berth", tokio::process::Command::new(&berth_bin), &berth_dir).await?;
        let oh = match openhands_python() {
            Some(py) => {
                let dir = tmp.path().join("openhands");
                std::fs::create_dir_all(&dir)?;
                let mut cmd = tokio::process::Command::new(py);
                cmd.args(["-m", "openhands.agent_server"])
                    .env("OH_ENABLE_VSCODE", "false")
                    .env("OH_ENABLE_BROWSER", "false")
                    .env("OPENHANDS_SUPPRESS_BANNER", "1")
                    .env("LITELLM_LOCAL_MODEL_COST_MAP", "True");
                Some(measure("openhands", cmd, &dir).await?)
            }
            None => {
                println!("(OpenHands' agent-server is not installed in BERTH_OH_VENV: only Berth is measured)");
                None
            }
        };
        let ratio = |b: f64, o: Option<f64>| o.map(|o| o / b.max(1e-9));
        println!("\nBerth agent-server vs OpenHands agent-server 1.58.2 (ratio = OpenHands / Berth; higher is better for Berth)\n");
        println!("| {:<34} | {:>12} | {:>12} | {:>8} |", "measure", "Berth", "OpenHands", "ratio");
        println!("|{:-<36}|{:->14}|{:->14}|{:->10}|", "", "", "", "");
        let o = oh.as_ref();
        row("start to first /alive", ms(berth.startup), o.map(|o| ms(o.startup)), ratio(berth.startup.as_secs_f64(), o.map(|o| o.startup.as_secs_f64())));
        row("idle RSS", format!("{:.1} MB", berth.idle_rss_mb), o.map(|o| format!("{:.1} MB", o.idle_rss_mb)), ratio(berth.idle_rss_mb, o.map(|o| o.idle_rss_mb)));
        row(&format!("{STEPS}-step conversation, wall"), ms(berth.conversation_wall), o.map(|o| ms(o.conversation_wall)), ratio(berth.conversation_wall.as_secs_f64(), o.map(|o| o.conversation_wall.as_secs_f64())));
        row(&format!("{STEPS}-step conversation, CPU"), ms(berth.conversation_cpu), o.map(|o| ms(o.conversation_cpu)), ratio(berth.conversation_cpu.as_secs_f64(), o.map(|o| o.conversation_cpu.as_secs_f64())));
        row("execute_bash_command p50", ms(berth.bash_p50), o.map(|o| ms(o.bash_p50)), ratio(berth.bash_p50.as_secs_f64(), o.map(|o| o.bash_p50.as_secs_f64())));
        row("execute_bash_command p95", ms(berth.bash_p95), o.map(|o| ms(o.bash_p95)), ratio(berth.bash_p95.as_secs_f64(), o.map(|o| o.bash_p95.as_secs_f64())));
        anyhow::Ok(())
    })
}
