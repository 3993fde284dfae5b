//! The `berth` command line as a user runs it: settings and secrets, a headless run that prints
//! its events and exits with the outcome, then listing, searching, showing, exporting and
//! deleting the conversation.

use crate::common;

use berth_scripted_llm::Step;
use common::{Home, LLM_KEY, llm};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_then_list_search_show_export_delete() {
    let llm = llm(vec![
        Step::tool("terminal", json!({"command": "echo quokka-$((6*7))"})),
        Step::text("The quokka said 42."),
    ])
    .await;
    let h = Home::new();
    h.use_llm(&llm);
    let ws = h.folder("project");
    let ws_arg = ws.display().to_string();

    let out = h.berth(
        &[
            "run",
            "--folder",
            &ws_arg,
            "--task",
            "Greet the quokka",
            "--runtime",
            "process",
        ],
        None,
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for want in [
        "[start] WAITING_FOR_SANDBOX",
        "[start] READY",
        "[you] Greet the quokka",
        "[agent] $ echo quokka-$((6*7))",
        "[output] quokka-42 (exit 0)",
        "[agent] The quokka said 42.",
        "[end] finished",
    ] {
        assert!(stdout.contains(want), "missing {want:?} in:\n{stdout}");
    }
    let auth = llm.requests()[0]
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    assert_eq!(auth, Some(format!("Bearer {LLM_KEY}")));
    let id = stdout
        .lines()
        .find_map(|l| l.strip_prefix("[conversation] "))
        .unwrap_or_else(|| panic!("no conversation id in:\n{stdout}"))
        .to_string();

    // The sandbox was stopped at the end; the conversation stays, archived.
    let list: Value =
        serde_json::from_str(&h.ok(&["--json", "conversations", "list"], None)).unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], id.as_str());
    assert_eq!(list["items"][0]["title"], "Greet the quokka");
    assert_eq!(list["items"][0]["status"], "finished");
    assert_eq!(list["items"][0]["archived"], true);

    let found = h.ok(&["conversations", "search", "quokka-42"], None);
    assert!(found.contains(&id), "{found}");
    let nothing = h.ok(&["conversations", "search", "wombat"], None);
    assert!(nothing.contains("nothing found"), "{nothing}");

    let shown = h.ok(&["conversations", "show", &id], None);
    assert!(shown.contains("[output] quokka-42 (exit 0)"), "{shown}");

    let zip = h.tmp.path().join("quokka.zip");
    let exported = h.ok(
        &[
            "conversations",
            "export",
            &id,
            "--output",
            &zip.display().to_string(),
        ],
        None,
    );
    assert!(exported.starts_with("exported "), "{exported}");
    assert!(std::fs::metadata(&zip).is_ok_and(|m| m.len() > 200));

    h.ok(&["conversations", "delete", &id], None);
    let list: Value =
        serde_json::from_str(&h.ok(&["--json", "conversations", "list"], None)).unwrap();
    assert_eq!(list["total"], 0);
    let out = h.berth(&["conversations", "show", &id], None);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no conversation"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_and_secrets_from_the_command_line() {
    let h = Home::new();
    // A secret is read from stdin and listed without its value.
    h.ok(
        &[
            "secrets",
            "set",
            "NPM_TOKEN",
            "--description",
            "npm registry",
        ],
        Some("npm-7f3a9c\n"),
    );
    let listed = h.ok(&["secrets", "list"], None);
    assert!(
        listed.contains("NPM_TOKEN") && listed.contains("npm registry"),
        "{listed}"
    );
    assert!(!listed.contains("npm-7f3a9c"));
    let bad = h.berth(&["secrets", "set", "not a name"], Some("x"));
    assert_eq!(bad.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("letters, digits and _"));
    h.ok(&["secrets", "delete", "NPM_TOKEN"], None);
    assert!(!h.ok(&["secrets", "list"], None).contains("NPM_TOKEN"));

    // Invalid settings are refused field by field and nothing is saved.
    let file = h.tmp.path().join("settings.json");
    std::fs::write(&file, json!({"llm_profiles": [{"name": "x", "model": ""}], "active_profile": "y", "sandbox": {"memory_mb": 10}}).to_string()).unwrap();
    let out = h.berth(&["settings", "import", &file.display().to_string()], None);
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    for field in [
        "llm_profiles[0].model",
        "active_profile",
        "sandbox.memory_mb",
    ] {
        assert!(err.contains(field), "{field} not reported:\n{err}");
    }
    let shown: Value = serde_json::from_str(&h.ok(&["settings", "show"], None)).unwrap();
    assert_eq!(shown["llm_profiles"], json!([]));
    let schema: Value = serde_json::from_str(&h.ok(&["settings", "schema"], None)).unwrap();
    assert!(schema["properties"]["webhooks"].is_object());

    // Without a keychain, a secret is refused with what to do, and nothing lands on disk.
    let out = h
        .command(&["secrets", "set", "API_TOKEN"])
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            if let Some(mut i) = c.stdin.take() {
                i.write_all(b"tok-0b7d1e").unwrap();
            }
            c.wait_with_output()
        })
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no keychain answers") && err.contains("gnome-keyring"),
        "{err}"
    );
    assert!(!h.ok(&["secrets", "list"], None).contains("API_TOKEN"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_test_checks_the_active_profile_with_its_keychain_key() {
    let llm = llm(vec![
        Step::text("OK"),
        Step::error(401, r#"{"error": {"message": "invalid key"}}"#),
    ])
    .await;
    let h = Home::new();
    h.use_llm(&llm);
    let ok = h.ok(&["settings", "test"], None);
    assert!(ok.contains("openai/scripted answered in"), "{ok}");
    let auth = llm.requests()[0]
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    assert_eq!(auth, Some(format!("Bearer {LLM_KEY}")));
    let refused = h.berth(&["settings", "test", "scripted"], None);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stdout).contains("The API key was refused"));
    let missing = h.berth(&["settings", "test", "nope"], None);
    assert_eq!(missing.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no LLM profile nope"));
}

/// `berth run` says how the agent's commands are confined before the agent starts: by Landlock
/// on this kernel, and plainly "Not confined" when confinement is unavailable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn berth_run_says_how_the_agent_is_confined() {
    let llm = llm(vec![Step::text("done"), Step::text("done")]).await;
    let h = Home::new();
    h.use_llm(&llm);
    let ws = h.folder("project").display().to_string();
    let args = [
        "run",
        "--folder",
        &ws,
        "--task",
        "Look around",
        "--runtime",
        "process",
    ];
    let confined = h.ok(&args, None);
    assert!(
        confined.contains("[sandbox] Confined: Landlock ABI "),
        "{confined}"
    );
    let out = h
        .command(&args)
        .env("BERTH_CONFINEMENT_UNAVAILABLE", "forced by the test")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout
            .contains("[sandbox] Not confined: forced by the test — the agent can read your files"),
        "{stdout}"
    );
    let sandbox_line = stdout.find("[sandbox]").unwrap_or(usize::MAX);
    let agent_line = stdout.find("[agent]").unwrap_or(0);
    assert!(
        sandbox_line < agent_line,
        "said after the agent began: {stdout}"
    );
}
