//! What confinement costs per command: `bash -c true` started directly, and through the
//! confinement helper (`berth-agent-server confine -- …`: the Landlock domain and the seccomp
//! filter applied, then the command executed), as the terminal and `/api/bash` start them; and
//! the cost of the confined thread the in-process file tools run on. Figures, not pass/fail.
//!
//! `cargo bench -p berth-agent-server --bench confinement`

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use berth_confine::{ConfinementPolicy, ConfinementState, Confiner, Launch, NetworkAccess};

const RUNS: usize = 200;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn time_runs(launch: &Launch) -> anyhow::Result<Vec<Duration>> {
    let mut out = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let started = Instant::now();
        let status = std::process::Command::new(&launch.program)
            .args(&launch.args)
            .envs(launch.env.iter().cloned())
            .status()?;
        anyhow::ensure!(status.success(), "the command failed: {status}");
        out.push(started.elapsed());
    }
    out.sort();
    Ok(out)
}

fn line(name: &str, t: &[Duration]) -> String {
    format!(
        "{name:<24} p50 {:>7.2} ms   p95 {:>7.2} ms",
        percentile(t, 0.5).as_secs_f64() * 1e3,
        percentile(t, 0.95).as_secs_f64() * 1e3
    )
}

fn main() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let user_home = std::env::var_os("HOME").map(PathBuf::from);
    let mut denied = user_home
        .as_deref()
        .map(|h| berth_confine::secrets::user_secrets(h, None))
        .unwrap_or_default();
    denied.push(tmp.path().join("berth-data"));
    let ws = tmp.path().join("ws");
    std::fs::create_dir_all(&ws)?;
    let policy = ConfinementPolicy {
        writable: vec![ws],
        readable: Vec::new(),
        denied,
        home: tmp.path().join("home"),
        tmp: tmp.path().join("tmp"),
        user_home,
        network: NetworkAccess::On,
        loopback_ports: Vec::new(),
        required: true,
        unavailable: None,
    };
    let helper = PathBuf::from(env!("CARGO_BIN_EXE_berth-agent-server"));
    let confiner = Confiner::new(policy, helper)?;
    if let ConfinementState::Unconfined { reason } = confiner.state() {
        println!("confinement is not available here ({reason}); nothing to compare");
        return Ok(());
    }
    let args: Vec<OsString> = vec!["-c".into(), "true".into()];
    let direct = Launch {
        program: "bash".into(),
        args: args.clone(),
        env: Vec::new(),
    };
    let confined = confiner.command("bash".as_ref(), &args)?;
    let plain = time_runs(&direct)?;
    let through = time_runs(&confined)?;
    let mut threads = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let started = Instant::now();
        std::thread::scope(|s| {
            s.spawn(|| confiner.restrict_this_thread())
                .join()
                .map_err(|_| anyhow::anyhow!("a confined thread panicked"))
        })??;
        threads.push(started.elapsed());
    }
    threads.sort();
    println!("{} ({RUNS} runs each)", confiner.state().summary());
    println!("{}", line("bash -c true, direct", &plain));
    println!("{}", line("bash -c true, confined", &through));
    println!("{}", line("confined file-tool thread", &threads));
    let overhead = percentile(&through, 0.5).saturating_sub(percentile(&plain, 0.5));
    println!(
        "per-command overhead of confinement: {:.2} ms at p50 ({:.1}x a bare bash start)",
        overhead.as_secs_f64() * 1e3,
        percentile(&through, 0.5).as_secs_f64() / percentile(&plain, 0.5).as_secs_f64()
    );
    Ok(())
}
