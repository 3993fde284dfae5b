//! The UI in headless Chromium (Playwright, `ui/e2e/flow.mjs`) against web mode with a scripted
//! LLM and process sandboxes: first-run setup, a conversation's start states, output and edit,
//! confirm and reject, search, reload. Screenshots land in `target/e2e-screenshots` (kept by CI).
//! Needs the built UI (`npm ci && npm run build` in `ui/`) and `/usr/bin/chromium`.

use std::path::PathBuf;

use berth_app::app::Library;
use berth_app::paths::Paths;
use berth_scripted_llm::{ScriptedLlm, Step};
use serde_json::json;

fn root() -> PathBuf {
    berth_test_support::workspace_root()
}

/// The built UI, with Playwright beside it.
fn built_ui() -> PathBuf {
    let ui = root().join("ui");
    assert!(
        ui.join("dist/index.html").is_file() && ui.join("node_modules/playwright-core").is_dir(),
        "build the UI first: (cd ui && npm ci && npm run build)"
    );
    ui
}

fn screenshots() -> PathBuf {
    root().join("target/e2e-screenshots")
}

/// The app on `library` in web mode, serving the built UI.
async fn serve_ui(library: Library, ui: &std::path::Path) -> berth_web::WebServer {
    super::serve_library(library, Some(ui.join("dist"))).await
}

/// Runs `ui/e2e/<script>` with `args`; it must end with `ok`.
async fn run_flow(ui: &std::path::Path, script: &str, args: &[&std::ffi::OsStr]) {
    let out = tokio::process::Command::new("node")
        .arg(ui.join("e2e").join(script))
        .args(args)
        .current_dir(ui)
        .output()
        .await
        .expect("cannot run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.trim_end().ends_with("ok"),
        "the browser flow {script} failed (screenshots in {}):\n{stdout}\n{stderr}",
        screenshots().display()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_user_path_in_a_real_browser() {
    let ui = built_ui();
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
    let web = serve_ui(library, &ui).await;

    let shots = screenshots();
    let url = web.url();
    let llm_url = llm.openai_base_url();
    run_flow(
        &ui,
        "flow.mjs",
        &[
            url.as_ref(),
            llm_url.as_ref(),
            ws.as_os_str(),
            shots.as_os_str(),
        ],
    )
    .await;
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
    let ui = built_ui();
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
    let web = serve_ui(library, &ui).await;
    let shots = screenshots();
    let url = web.url();
    let server = berth_test_support::mcp_server_everything();
    run_flow(
        &ui,
        "mcp.mjs",
        &[
            url.as_ref(),
            ws.as_os_str(),
            shots.as_os_str(),
            server.as_os_str(),
        ],
    )
    .await;
}
