//! The real desktop window under Xvfb, driven through tauri-driver and WebKitWebDriver: it
//! starts and shows the home page; a `berth://` link given to a second launch reaches the running
//! instance (which prefills the form; nothing starts); a conversation started with a click ends
//! in an OS notification, and clicking it (dunst's default action) opens that conversation; and
//! script in the window cannot navigate it away from the app.
//! Screenshots of the window land in `target/desktop-screenshots/`. Needs a display (`.ci/test`
//! runs under Xvfb), a D-Bus session (single instance and notifications use it), `dunst`,
//! `tauri-driver` and `WebKitWebDriver` on PATH.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{ClientBuilder, Locator};
use serde_json::json;

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits for an element, asking again when the page re-renders under the driver (WebKit's
/// driver answers "stale element" then, where a wait should just go on).
async fn appear(
    client: &fantoccini::Client,
    locator: Locator<'_>,
    within: Duration,
) -> Result<fantoccini::elements::Element, String> {
    let deadline = Instant::now() + within;
    loop {
        match client.find(locator).await {
            Ok(element) => return Ok(element),
            Err(e) if Instant::now() >= deadline => return Err(e.to_string()),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// The value of the element at `locator` once it is `want`, or the last value read (within 10 s).
/// The element may be replaced while it is read (a React re-render): it is found again.
async fn value_becomes(
    client: &fantoccini::Client,
    locator: Locator<'_>,
    want: &str,
) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = None;
    while Instant::now() < deadline {
        if let Ok(element) = client.find(locator).await
            && let Ok(value) = element.prop("value").await
        {
            last = value;
            if last.as_deref() == Some(want) {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last
}

/// The window as it looks now, as `<name>.png` in the screenshots folder.
async fn screenshot(client: &fantoccini::Client, shots: &Path, name: &str) {
    let png = client.screenshot().await.unwrap();
    std::fs::write(shots.join(format!("{name}.png")), &png).unwrap();
}

/// A window has no terminal: the app logs to a daily file in its data folder, and Settings says
/// where, with a button that opens the folder.
async fn logs_are_in_the_data_folder(client: &fantoccini::Client, home: &Path, shots: &Path) {
    let logs: Vec<_> = std::fs::read_dir(home.join("logs"))
        .expect("the app made no logs folder")
        .map(|e| e.unwrap().path())
        .collect();
    assert!(
        logs.iter().any(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("berth.")
                && std::fs::read_to_string(p)
                    .unwrap()
                    .contains("Berth started")
        }),
        "{logs:?}"
    );
    client
        .execute("window.location.hash = '#/settings'; return true;", vec![])
        .await
        .unwrap();
    let open_logs = appear(
        client,
        Locator::XPath("//button[text()='Open the logs folder']"),
        Duration::from_secs(10),
    )
    .await
    .expect("Settings shows no logs folder");
    client
        .execute(
            "arguments[0].scrollIntoView(); return true;",
            vec![serde_json::to_value(&open_logs).unwrap()],
        )
        .await
        .unwrap();
    screenshot(client, shots, "settings-logs").await;
    client
        .execute("window.location.hash = '#/'; return true;", vec![])
        .await
        .unwrap();
    appear(
        client,
        Locator::XPath("//h1[text()='New conversation']"),
        Duration::from_secs(10),
    )
    .await
    .expect("the home page did not come back");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(4444)
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_shows_home_and_a_second_launch_hands_over_its_link() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "no display: run under Xvfb (`.ci/test` does)"
    );
    let app = PathBuf::from(env!("CARGO_BIN_EXE_berth"));
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("berth-home");
    let llm = berth_scripted_llm::ScriptedLlm::start(vec![berth_scripted_llm::Step::text(
        "All done, from the desktop.",
    )])
    .await
    .unwrap();
    // Set up already (an LLM profile, process sandboxes), so the window opens on the home page.
    let lib = berth_app_library(&home, &llm.openai_base_url());
    drop(lib);

    let port = free_port();
    let driver = Driver(
        Command::new("tauri-driver")
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &free_port().to_string(),
            ])
            .env("BERTH_HOME", &home)
            .env(
                "BERTH_AGENT_SERVER_BIN",
                root().join("target/debug/berth-agent-server"),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start tauri-driver (cargo install tauri-driver): {e}")
            }),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "tauri-driver did not listen");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Two TLS backends are linked (the WebDriver client's, the app's HTTP client's): pick one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("wry"));
    caps.insert("tauri:options".into(), json!({"application": app}));
    let client = ClientBuilder::rustls()
        .unwrap()
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("cannot open the Berth window");
    let shots = root().join("target/desktop-screenshots");
    std::fs::create_dir_all(&shots).unwrap();

    let heading = appear(
        &client,
        Locator::XPath("//h1[text()='New conversation']"),
        Duration::from_secs(30),
    )
    .await
    .expect("the home page did not show");
    assert_eq!(
        heading.text().await.ok().as_deref(),
        Some("New conversation")
    );
    screenshot(&client, &shots, "home").await;

    logs_are_in_the_data_folder(&client, &home, &shots).await;

    // A page that took over the window could call the app's commands: the window refuses to
    // leave the app, whatever script asks; a listener sees if it was asked (2 s to try).
    let remote = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let remote_url = format!("http://{}/take-over.html", remote.local_addr().unwrap());
    remote.set_nonblocking(true).unwrap();
    let before = client.current_url().await.unwrap();
    client
        .execute(
            "window.location.href = arguments[0]; return true;",
            vec![json!(remote_url)],
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = client.current_url().await.unwrap();
    // tauri:// origins are opaque (never equal): compare scheme and host.
    assert_eq!(
        (after.scheme(), after.host_str()),
        (before.scheme(), before.host_str()),
        "the window left the app: {after}"
    );
    assert!(
        remote.accept().is_err(),
        "the window fetched the remote page"
    );
    client
        .find(Locator::XPath("//h1[text()='New conversation']"))
        .await
        .expect("the app's page is gone");

    // A second launch with a link hands it to this window and exits at once.
    let second = Command::new(&app)
        .arg("berth://new?task=hello%20from%20a%20link&repo=%2Ftmp%2Fproject")
        .env("BERTH_HOME", &home)
        .output()
        .unwrap();
    assert!(
        second.status.success(),
        "the second launch failed: {}",
        String::from_utf8_lossy(&second.stderr)
    );
    appear(
        &client,
        Locator::Css("[data-testid=from-link]"),
        Duration::from_secs(20),
    )
    .await
    .expect("the link did not reach the running window");
    // The form re-renders as the link fills it: read the box until it holds the link's task.
    let value = value_becomes(
        &client,
        Locator::Css("textarea[name=task]"),
        "hello from a link",
    )
    .await;
    assert_eq!(value.as_deref(), Some("hello from a link"));
    // The task is marked as the link's, and the repository's setup script waits for a yes.
    client
        .find(Locator::Css("[data-testid=task-from-link]"))
        .await
        .expect("the task is not marked as from the link");
    let setup = client
        .find(Locator::Css("input[name=run-setup]"))
        .await
        .expect("no setup-script choice for a linked repository");
    assert_eq!(setup.is_selected().await.ok(), Some(false));
    screenshot(&client, &shots, "deep-link").await;
    // Nothing started: a link only fills the form.
    let starts: i64 = berth_app_library(&home, "")
        .store
        .lock()
        .query_row("SELECT COUNT(*) FROM start_tasks", [], |r| r.get(0))
        .unwrap_or(-1);
    assert_eq!(starts, 0);

    // The user clicks Start; when the agent finishes, the OS notification opens the conversation.
    let ws = tmp.path().join("project");
    std::fs::create_dir_all(&ws).unwrap();
    let daemon = Driver(
        Command::new("dunst")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start the notification daemon (dunst)"),
    );
    let field = client
        .find(Locator::Css("input[name=where]"))
        .await
        .unwrap();
    field.clear().await.unwrap();
    field.send_keys(&ws.display().to_string()).await.unwrap();
    client
        .find(Locator::XPath("//button[text()='Start']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    appear(
        &client,
        Locator::XPath("//*[@data-testid='status' and text()='finished']"),
        Duration::from_secs(60),
    )
    .await
    .expect("the conversation did not finish");
    let conversation_url = client.current_url().await.unwrap();
    client
        .find(Locator::LinkText("Home"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let shown = Command::new("dunstctl")
            .args(["count", "displayed"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap();
        if shown != "0" && !shown.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "no notification was shown");
        std::thread::sleep(Duration::from_millis(200));
    }
    let clicked = Command::new("dunstctl").args(["action", "0"]).status();
    assert!(clicked.is_ok_and(|s| s.success()));
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.current_url().await.ok().as_ref() != Some(&conversation_url) {
        assert!(
            Instant::now() < deadline,
            "the notification did not open the conversation"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    appear(
        &client,
        Locator::XPath("//*[@data-testid='status' and text()='finished']"),
        Duration::from_secs(20),
    )
    .await
    .expect("the conversation did not show");
    appear(
        &client,
        Locator::XPath("//*[contains(text(), 'All done, from the desktop.')]"),
        Duration::from_secs(20),
    )
    .await
    .expect("the agent's answer did not show");
    screenshot(&client, &shots, "conversation").await;
    drop(daemon);
    let _ = client.close().await;
    drop(driver);
}

fn berth_app_library(home: &Path, llm_url: &str) -> berth_app::app::Library {
    let lib = berth_app::app::Library::open(berth_app::paths::Paths::at(home)).unwrap();
    let mut settings = lib.settings.load().unwrap();
    if settings.active_profile.is_none() {
        settings.llm_profiles = vec![berth_app::settings::LlmProfile {
            name: "scripted".into(),
            model: "openai/scripted".into(),
            base_url: Some(llm_url.into()),
        }];
        settings.active_profile = Some("scripted".into());
        settings.sandbox.runtime = berth_app::settings::Runtime::Process;
        lib.settings.save(&settings).unwrap();
    }
    lib
}
