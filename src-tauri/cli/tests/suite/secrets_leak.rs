//! Secrets stay in the keychain: with an LLM key and a custom secret stored, a conversation in
//! which the agent echoes the secret leaves no plaintext secret bytes in the database, its WAL,
//! the app's log, the agent-server's files or any mirrored or printed event.

use crate::common;

use std::path::Path;

use berth_scripted_llm::Step;
use common::{Home, LLM_KEY, llm};
use serde_json::json;

const SECRET: &str = "tok-deploy-9d8e7f31c2";

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_plaintext_secret_anywhere_berth_writes() {
    let llm = llm(vec![
        Step::tool(
            "terminal",
            json!({"command": "echo \"token is $DEPLOY_TOKEN\""}),
        ),
        Step::text("I printed the token."),
    ])
    .await;
    let h = Home::new();
    h.use_llm(&llm);
    h.ok(
        &["secrets", "set", "DEPLOY_TOKEN", "--description", "deploys"],
        Some(SECRET),
    );
    // An open connection keeps the WAL file in place (the last one to close folds it into the
    // database), as in a running app.
    let open = berth_app::app::Library::open(berth_app::paths::Paths::at(&h.home)).unwrap();
    let ws = h.folder("ws").display().to_string();
    let out = h
        .command(&[
            "--json",
            "run",
            "--folder",
            &ws,
            "--task",
            "print the deploy token",
            "--runtime",
            "process",
            "--keep-sandbox",
        ])
        .env("BERTH_LOG", "debug")
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{printed}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The agent had the secret (its output was masked) and the LLM its key.
    assert!(printed.contains("token is <secret-hidden>"), "{printed}");
    let auth = llm.requests()[0]
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    assert_eq!(auth, Some(format!("Bearer {LLM_KEY}")));

    // The stored and printed events, the database with its WAL, the log, every file of the home.
    let shown = h.ok(&["--json", "conversations", "list"], None);
    let id = serde_json::from_str::<serde_json::Value>(&shown).unwrap()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let events = h.ok(&["--json", "conversations", "show", &id], None);
    assert!(events.contains("<secret-hidden>"));
    let mut scanned = vec![
        ("printed events".to_string(), printed.into_bytes()),
        ("mirrored events".to_string(), events.into_bytes()),
        ("app log".to_string(), std::fs::read(&h.log).unwrap()),
    ];
    for f in files(&h.home) {
        scanned.push((f.display().to_string(), std::fs::read(&f).unwrap()));
    }
    assert!(
        scanned
            .iter()
            .any(|(name, _)| name.ends_with("berth.db-wal")),
        "the WAL was not scanned"
    );
    assert!(!scanned[2].1.is_empty(), "the app wrote no log");
    for (name, bytes) in &scanned {
        for secret in [SECRET, LLM_KEY] {
            assert!(!contains(bytes, secret), "{name} holds a plaintext secret");
        }
    }
    drop(open);
    h.ok(&["conversations", "delete", &id], None);
}
