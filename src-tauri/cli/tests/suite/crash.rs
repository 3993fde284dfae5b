//! The app killed with SIGKILL at 20 random points (from a seed it prints) during a scripted run: after each restart
//! the mirror holds every event the agent-server has (compared by id), none twice, and at the
//! end the conversation goes on.

use crate::common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use berth_app::agent_client::AgentClient;
use berth_app::app::Library;
use berth_app::paths::Paths;
use berth_app::sandbox::SandboxService;
use berth_app::sandbox::process::ProcessSandboxService;
use berth_scripted_llm::Step;
use common::{Home, llm, server_binary};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

const KILLS: usize = 20;

/// A running `berth` whose stdout lines arrive on a channel.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
}

fn spawn(h: &Home, args: &[&str]) -> Running {
    let mut child = h
        .command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, lines) = mpsc::channel();
    if let Some(out) = child.stdout.take() {
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
    }
    Running { child, lines }
}

impl Running {
    /// The first line starting with `prefix` (the rest of it).
    fn wait_line(&self, prefix: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(100))
                && let Some(rest) = line.strip_prefix(prefix)
            {
                return rest.to_string();
            }
        }
        panic!("berth never printed {prefix:?}");
    }

    fn kill(mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
    }
}

/// The agent-server's persistent event ids, in its order.
async fn server_ids(h: &Home, conversation: &str) -> Vec<String> {
    let lib = Library::open(Paths::at(&h.home)).unwrap();
    let sandbox_id = lib
        .records
        .get(conversation)
        .ok()
        .flatten()
        .and_then(|c| c.sandbox_id)
        .unwrap_or_else(|| panic!("conversation {conversation} has no sandbox"));
    let sandboxes =
        ProcessSandboxService::new(lib.paths.clone(), lib.store.clone(), Some(server_binary()))
            .unwrap();
    let sandbox = sandboxes.get(&sandbox_id).await.unwrap();
    let key = sandboxes.session_key(&sandbox_id).await.unwrap();
    AgentClient::new(&sandbox.agent_url, key)
        .events(conversation)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| !e.is_transient())
        .map(|e| e.id)
        .collect()
}

fn mirror_ids(h: &Home, conversation: &str) -> Vec<String> {
    let lib = Library::open(Paths::at(&h.home)).unwrap();
    lib.mirror
        .events(conversation)
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect()
}

/// Every event the agent-server had a moment ago is in the mirror (the app keeps up within
/// seconds), none twice, and nothing the server does not have.
async fn check(h: &Home, conversation: &str, round: usize) {
    let server: Vec<String> = server_ids(h, conversation).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mirror = loop {
        let mirror = mirror_ids(h, conversation);
        let have: HashSet<&String> = mirror.iter().collect();
        if server.iter().all(|id| have.contains(id)) {
            break mirror;
        }
        assert!(
            Instant::now() < deadline,
            "round {round}: the mirror lacks {} of the server's {} events",
            server.iter().filter(|id| !have.contains(id)).count(),
            server.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let unique: HashSet<&String> = mirror.iter().collect();
    assert_eq!(
        unique.len(),
        mirror.len(),
        "round {round}: an event is mirrored twice"
    );
    let later: HashSet<String> = server_ids(h, conversation).await.into_iter().collect();
    assert!(
        mirror.iter().all(|id| later.contains(id)),
        "round {round}: the mirror holds an event the server does not"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_twenty_times_mid_run_the_mirror_matches_the_agent_server() {
    let mut script: Vec<Step> = (0..80)
        .map(|i| {
            Step::tool("terminal", json!({"command": format!("echo step-{i}")}))
                .delayed(Duration::from_millis(150))
        })
        .collect();
    script.push(Step::text("all steps done"));
    let llm = llm(script).await;
    let h = Home::new();
    h.use_llm(&llm);
    let ws = h.folder("ws").display().to_string();
    // The kill points come from a seed printed here, so a failing run can be replayed.
    let seed = match std::env::var("BERTH_CRASH_SEED") {
        Ok(seed) => seed.parse().expect("BERTH_CRASH_SEED is a number"),
        Err(_) => rand::random(),
    };
    eprintln!("kill points from seed {seed}; replay with BERTH_CRASH_SEED={seed}");
    let mut rng = StdRng::seed_from_u64(seed);

    let first = spawn(
        &h,
        &[
            "run",
            "--folder",
            &ws,
            "--task",
            "count the steps",
            "--runtime",
            "process",
            "--keep-sandbox",
        ],
    );
    let id = first.wait_line("[conversation] ");
    check(&h, &id, 0).await;
    std::thread::sleep(Duration::from_millis(rng.random_range(0..250)));
    first.kill();

    for round in 1..KILLS {
        let app = spawn(&h, &["conversations", "follow", &id]);
        if rng.random_bool(0.25) {
            // Killed while starting up or catching up.
            std::thread::sleep(Duration::from_millis(rng.random_range(0..150)));
        } else {
            app.wait_line("[caught up]");
            check(&h, &id, round).await;
            std::thread::sleep(Duration::from_millis(rng.random_range(0..250)));
        }
        app.kill();
    }
    // Every kill fell during the run: the script is not used up yet.
    assert!(
        llm.remaining() > 0,
        "the run ended before the last kill; lengthen the script"
    );

    // A last restart follows the run to its end.
    let last = h.berth(&["conversations", "follow", &id], None);
    let out = String::from_utf8_lossy(&last.stdout);
    assert_eq!(last.status.code(), Some(0), "{out}");
    assert!(out.contains("[end] finished"), "{out}");
    check(&h, &id, KILLS).await;
    let server: HashSet<String> = server_ids(&h, &id).await.into_iter().collect();
    let mirror = mirror_ids(&h, &id);
    assert_eq!(mirror.iter().cloned().collect::<HashSet<_>>(), server);
    assert!(mirror.len() > 160, "only {} events", mirror.len());

    // And the conversation goes on.
    llm.push(Step::text("still here"));
    let more = h.ok(
        &["conversations", "send", &id, "are you still there?"],
        None,
    );
    assert!(
        more.contains("[agent] still here") && more.contains("[end] finished"),
        "{more}"
    );
    check(&h, &id, KILLS + 1).await;
    h.ok(&["conversations", "delete", &id], None);
}
