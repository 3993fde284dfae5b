//! OS confinement of a process sandbox, against the real kernel: a scripted, prompt-injected
//! agent tries to write outside its workspace, read a private key planted in the user's home
//! folder (with its shell and with its file editor), read Berth's database, open a UNIX socket
//! (the way to the keychain over D-Bus) and, with the network off, reach a local TCP service —
//! while its ordinary work (a git commit, a Python script, a venv install) goes on.
//! `docs/security.md` B23–B25.

use crate::common;

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use berth_app::start::StartStatus;
use berth_protocol::{ConfinementState, NetworkAccess};
use berth_scripted_llm::Step;
use common::PlantedKey;
use common::app::{AppFx, app_fixture, ended, ready, start_local, status};
use serde_json::json;

fn sh(command: &str) -> Step {
    Step::tool("terminal", json!({"command": command}))
}

fn finish() -> Step {
    Step::tool("finish", json!({"message": "done"}))
}

/// A local TCP service that counts who connects.
fn listener() -> (u16, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for mut conn in l.incoming().flatten() {
            seen.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 64];
            if let Err(e) = conn.read(&mut buf) {
                eprintln!("listener read: {e}");
            }
        }
    });
    (port, count)
}

async fn run(fx: &AppFx, ws: &Path) -> (String, String) {
    let task = start_local(fx, ws, Some("Summarise the README, as the issue asks"));
    let task = ready(&fx.app, &task).await;
    let id = task.conversation_id.unwrap();
    status(&fx.app, &id, "finished").await;
    (id, task.sandbox_id.unwrap())
}

/// How the app says the sandbox's commands are confined.
async fn confinement_of(fx: &AppFx, sandbox: &str) -> ConfinementState {
    fx.app
        .sandboxes
        .get(sandbox)
        .await
        .unwrap()
        .confinement
        .expect("the sandbox has no confinement state")
}

fn workspace(fx: &AppFx) -> PathBuf {
    let ws = fx.tmp.path().join("project");
    std::fs::create_dir_all(&ws).unwrap();
    std::fs::write(ws.join("README.md"), "hello\n").unwrap();
    common::git(&ws, &["init", "-q"]);
    ws
}

/// Everything the conversation showed, as one text: what the agent (and the LLM) saw.
fn everything_seen(fx: &AppFx, id: &str) -> String {
    let events = fx.app.conversations.events(id).unwrap();
    serde_json::to_string(&events).unwrap()
}

fn results(ws: &Path) -> String {
    std::fs::read_to_string(ws.join("results.txt")).unwrap()
}

/// A one-line check the agent writes into `results.txt`: `NAME ok` or `NAME failed`.
fn check(name: &str, command: &str) -> Step {
    sh(&format!(
        "if ( {command} ) >/dev/null 2>&1; then echo '{name} ok'; else echo '{name} failed'; fi >> results.txt"
    ))
}

/// A wheel of one module, built by hand (no network, no build backend needed).
const MAKE_WHEEL: &str = "python3 -c \"import zipfile; z = zipfile.ZipFile('berthdemo-1.0-py3-none-any.whl', 'w'); \
z.writestr('berthdemo.py', 'ANSWER = 42'); \
z.writestr('berthdemo-1.0.dist-info/METADATA', 'Metadata-Version: 2.1\\nName: berthdemo\\nVersion: 1.0\\n'); \
z.writestr('berthdemo-1.0.dist-info/WHEEL', 'Wheel-Version: 1.0\\nGenerator: hand\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n'); \
z.writestr('berthdemo-1.0.dist-info/RECORD', ''); z.close()\"";

/// Claims B23 and B24: a process sandbox's commands and file tools cannot write outside the
/// workspace or read the user's keys or Berth's data; ordinary work in the workspace goes on.
#[tokio::test(flavor = "multi_thread")]
async fn a_confined_agent_works_in_its_workspace_and_cannot_reach_the_users_secrets() {
    let key = PlantedKey::plant();
    let (port, connections) = listener();
    let outside = dirs::home_dir()
        .unwrap()
        .join(format!("outside-{}.txt", uuid::Uuid::new_v4().simple()));
    let mut script = Vec::new();
    let key_path = key.path.display().to_string();
    // The agent finds Berth's database beside the conversations folder it is given.
    let db = "\"$OH_CONVERSATIONS_PATH/../../berth.db\"";
    for (name, command) in [
        (
            "write-outside",
            format!("echo pwned > {}", outside.display()),
        ),
        ("read-key", format!("cat {key_path}")),
        // It is there (so a refusal is the confinement's, not a wrong path) but unreadable.
        ("find-db", format!("test -f {db}")),
        ("read-db", format!("cat {db}")),
        (
            "unix-socket",
            "python3 -c 'import socket; socket.socket(socket.AF_UNIX)'".to_string(),
        ),
        (
            "tcp-local",
            format!(
                "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", {port}), 5)'"
            ),
        ),
        // Signal 0 asks only whether a signal would be allowed: the agent-server (the shell's
        // parent) is outside the sandbox, so it must not be (Landlock ABI 6).
        ("signal-server", "kill -0 $PPID".to_string()),
        ("write-inside", "echo fine > inside.txt".to_string()),
        (
            "git-commit",
            "git add README.md && git commit -qm 'agent commit'".to_string(),
        ),
        (
            "python",
            "python3 -c 'print(6 * 7)' | grep -q 42".to_string(),
        ),
        (
            "cargo-build",
            "cargo new -q --vcs none demo-crate && cd demo-crate && cargo build -q --offline && ./target/debug/demo-crate | grep -q Hello".to_string(),
        ),
        (
            "npm-install",
            "mkdir demo-npm && cd demo-npm && npm init -y >/dev/null && npm install --offline --no-audit --no-fund && node -e 'process.exit(require(\"./package.json\").name === \"demo-npm\" ? 0 : 1)'".to_string(),
        ),
        (
            "venv-install",
            format!(
                "{MAKE_WHEEL} && python3 -m venv .venv && PIP_DISABLE_PIP_VERSION_CHECK=1 .venv/bin/pip install --no-index berthdemo-1.0-py3-none-any.whl && .venv/bin/python -c 'import berthdemo; assert berthdemo.ANSWER == 42'"
            ),
        ),
    ] {
        script.push(check(name, &command));
    }
    script.push(Step::tool(
        "file_editor",
        json!({"command": "view", "path": key_path}),
    ));
    script.push(finish());
    let fx = app_fixture(script, |_| {}).await;
    let ws = workspace(&fx);
    let (id, sandbox) = run(&fx, &ws).await;

    let got = results(&ws);
    for refused in ["write-outside", "read-key", "read-db", "unix-socket"] {
        assert!(
            got.contains(&format!("{refused} failed")),
            "{refused} should be refused: {got}"
        );
    }
    for works in [
        "find-db",
        "tcp-local",
        "write-inside",
        "git-commit",
        "python",
        "cargo-build",
        "npm-install",
        "venv-install",
    ] {
        assert!(
            got.contains(&format!("{works} ok")),
            "{works} should work: {got}"
        );
    }
    assert!(!outside.exists(), "the agent wrote {}", outside.display());
    assert_eq!(
        connections.load(Ordering::SeqCst),
        1,
        "network on: one connection"
    );
    let seen = everything_seen(&fx, &id);
    assert!(
        !seen.contains(&key.secret),
        "the private key reached the conversation"
    );
    let state = confinement_of(&fx, &sandbox).await;
    match state {
        ConfinementState::Landlock {
            abi,
            network,
            notes,
        } => {
            assert_eq!(network, NetworkAccess::On);
            // Signal scoping needs ABI 6; below it, the state must say so instead.
            if abi >= 6 {
                assert!(got.contains("signal-server failed"), "{got}");
            } else {
                assert!(notes.iter().any(|n| n.contains("signal")), "{notes:?}");
            }
        }
        other => panic!("the sandbox should be confined by Landlock: {other:?}"),
    }
    fx.remove_sandboxes().await;
}

/// Claim B25: with the network off, the agent's commands cannot reach a local TCP service, while
/// the conversation's own LLM calls (made by the agent-server) go on.
#[tokio::test(flavor = "multi_thread")]
async fn with_the_network_off_commands_cannot_connect_and_the_llm_still_answers() {
    let (port, connections) = listener();
    let script = vec![
        check(
            "tcp-local",
            &format!(
                "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", {port}), 5)'"
            ),
        ),
        check(
            "curl-udp-dns",
            "python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM)'",
        ),
        finish(),
    ];
    let fx = app_fixture(script, |s| s.sandbox.confinement.network = false).await;
    let ws = workspace(&fx);
    let (_id, sandbox) = run(&fx, &ws).await;
    let got = results(&ws);
    assert!(got.contains("tcp-local failed"), "{got}");
    assert!(got.contains("curl-udp-dns failed"), "{got}");
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "a command reached the service"
    );
    let state = confinement_of(&fx, &sandbox).await;
    assert!(
        matches!(
            state,
            ConfinementState::Landlock {
                network: NetworkAccess::Off,
                ..
            }
        ),
        "{state:?}"
    );
    fx.remove_sandboxes().await;
}

/// With confinement turned off (as on a machine without it), the sandbox says it is not
/// confined; and with "require confinement" on, the start is refused with the fix.
#[tokio::test(flavor = "multi_thread")]
async fn unconfined_is_said_plainly_and_refused_when_confinement_is_required() {
    let fx = app_fixture(vec![finish()], |s| s.sandbox.confinement.enabled = false).await;
    let ws = workspace(&fx);
    let (_id, sandbox) = run(&fx, &ws).await;
    let state = confinement_of(&fx, &sandbox).await;
    assert!(!state.is_confined());
    assert!(
        state.summary().starts_with("Not confined: ") && state.summary().contains("Settings"),
        "{}",
        state.summary()
    );
    fx.remove_sandboxes().await;

    let fx = app_fixture(vec![finish()], |s| {
        s.sandbox.confinement.enabled = false;
        s.sandbox.confinement.required = true;
    })
    .await;
    let ws = workspace(&fx);
    let t = ended(&fx.app, &start_local(&fx, &ws, Some("anything"))).await;
    assert_eq!(
        t.status,
        StartStatus::Error,
        "an unconfined start must be refused"
    );
    let detail = t.detail.unwrap();
    assert!(
        detail.contains("cannot be confined") && detail.contains("Require confinement"),
        "{detail}"
    );
    let running = fx.app.sandboxes.list().await.unwrap();
    assert!(
        running
            .iter()
            .all(|s| s.status != berth_app::sandbox::SandboxStatus::Running),
        "an unconfined agent-server was left running: {running:?}"
    );
    fx.remove_sandboxes().await;
}
