//! The UI in headless Chromium (Playwright, `ui/e2e/flow.mjs`) against web mode with a scripted
//! LLM and process sandboxes: first-run setup, a conversation's start states, output and edit,
//! confirm and reject, search, reload. Screenshots land in `target/e2e-screenshots` (kept by CI).
//! Needs the built UI (`npm ci && npm run build` in `ui/`) and `/usr/bin/chromium`.

use std::path::PathBuf;
use std::sync::Arc;

use berth_app::app::{App, AppOptions, Library};
use berth_app::paths::Paths;
use berth_app::settings::Runtime;
use berth_scripted_llm::{ScriptedLlm, Step};
use berth_web::{WebOptions, serve};
use serde_json::json;

fn root() -> PathBuf {
    berth_test_support::workspace_root()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_user_path_in_a_real_browser() {
    let ui = root().join("ui");
    assert!(
        ui.join("dist/index.html").is_file() && ui.join("node_modules/playwright-core").is_dir(),
        "build the UI first: (cd ui && npm ci && npm run build)"
    );
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("project");
    std::fs::create_dir_all(&ws).unwrap();
    let ws = std::fs::canonicalize(&ws).unwrap_or(ws);
    let notes = ws.join("notes.md").display().to_string();
    // A hostile agent's last word: a script link, a remote image that would leak on render (to a
    // listener that counts every connection), and a plain link that must not take the tab away.
    let leak = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let leak_url = format!("http://{}/leak.png", leak.local_addr().unwrap());
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = hits.clone();
    std::thread::spawn(move || {
        for _ in leak.incoming() {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let hostile = format!(
        "Done: the notes are written. [docs](https://example.invalid/docs) \
         [run me](javascript:document.title='pwned') ![status]({leak_url}) \
         <img src=\"{leak_url}\">"
    );
    let llm = ScriptedLlm::start(vec![
        // Test connection.
        Step::text("OK"),
        // The first conversation.
        // The agent also makes the folder a repository with an fsmonitor set: the user's git
        // would run it, so the conversation must say so.
        Step::tool(
            "terminal",
            json!({"command": "echo e2e-output-$((40+2)) && git init -q && git config core.fsmonitor 'touch /tmp/owned'"}),
        ),
        Step::tool(
            "file_editor",
            json!({"command": "create", "path": notes, "file_text": "# Notes\nBerth was here\n"}),
        ),
        Step::text(hostile),
        // The second, in confirmation mode.
        Step::tool("terminal", json!({"command": "echo confirmed-once"})),
        Step::tool("terminal", json!({"command": "rm -rf build"})),
        Step::text("Understood, I will not delete it."),
    ])
    .await
    .unwrap();

    let library = Library::open(Paths::at(tmp.path().join("home"))).unwrap();
    let app = App::open(
        library,
        AppOptions {
            runtime: Some(Runtime::Process),
            agent_server_binary: Some(berth_test_support::agent_server_binary()),
            idle_check: None,
        },
    )
    .await
    .unwrap();
    let web = serve(
        Arc::new(app),
        WebOptions {
            port: 0,
            ui_dir: Some(ui.join("dist")),
        },
    )
    .await
    .unwrap();

    let shots = root().join("target/e2e-screenshots");
    let out = tokio::process::Command::new("node")
        .arg(ui.join("e2e/flow.mjs"))
        .arg(web.url())
        .arg(llm.openai_base_url())
        .arg(&ws)
        .arg(&shots)
        .current_dir(&ui)
        .output()
        .await
        .expect("cannot run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the browser flow failed (screenshots in {}):\n{stdout}\n{stderr}",
        shots.display()
    );
    assert!(stdout.trim_end().ends_with("ok"), "{stdout}");
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the page loaded the agent's remote image"
    );
    assert!(shots.join("2-conversation.png").is_file());
}

/// MCP in the browser (`ui/e2e/mcp.mjs`): Settings adds and tests a real npm server and a broken
/// one; a conversation calls the real server's tool and shows each server's health.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_settings_and_tools_in_a_real_browser() {
    let ui = root().join("ui");
    assert!(
        ui.join("dist/index.html").is_file() && ui.join("node_modules/playwright-core").is_dir(),
        "build the UI first: (cd ui && npm ci && npm run build)"
    );
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("project");
    std::fs::create_dir_all(&ws).unwrap();
    let llm = ScriptedLlm::start(vec![
        Step::tool("everything_echo", json!({"message": "through the browser"})),
        Step::tool("finish", json!({"message": "Echoed."})),
    ])
    .await
    .unwrap();
    let library = Library::open(Paths::at(tmp.path().join("home"))).unwrap();
    let settings = berth_app::settings::Settings {
        llm_profiles: vec![berth_app::settings::LlmProfile {
            name: "scripted".into(),
            model: "openai/scripted".into(),
            base_url: Some(llm.openai_base_url()),
        }],
        active_profile: Some("scripted".into()),
        ..Default::default()
    };
    library.settings.save(&settings).unwrap();
    library
        .secrets
        .set(
            berth_app::secrets::SecretKind::Llm,
            "scripted",
            "sk-e2e-mcp",
            None,
        )
        .unwrap();
    let app = App::open(
        library,
        AppOptions {
            runtime: Some(Runtime::Process),
            agent_server_binary: Some(berth_test_support::agent_server_binary()),
            idle_check: None,
        },
    )
    .await
    .unwrap();
    let web = serve(
        Arc::new(app),
        WebOptions {
            port: 0,
            ui_dir: Some(ui.join("dist")),
        },
    )
    .await
    .unwrap();
    let shots = root().join("target/e2e-screenshots");
    let out = tokio::process::Command::new("node")
        .arg(ui.join("e2e/mcp.mjs"))
        .arg(web.url())
        .arg(&ws)
        .arg(&shots)
        .arg(berth_test_support::mcp_server_everything())
        .current_dir(&ui)
        .output()
        .await
        .expect("cannot run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.trim_end().ends_with("ok"),
        "the MCP browser flow failed (screenshots in {}):\n{stdout}\n{stderr}",
        shots.display()
    );
}
