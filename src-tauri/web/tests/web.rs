//! Web mode over real HTTP: the token and the Host check guard every route; commands answer JSON
//! or an error with its code; a conversation started through `/api/call` streams its start
//! states and events through `/api/updates`; its zip downloads.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use berth_app::app::{App, AppOptions, Library};
use berth_app::paths::Paths;
use berth_app::settings::Runtime;
use berth_scripted_llm::{ScriptedLlm, Step};
use berth_web::{WebOptions, WebServer, serve};
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn start(tmp: &Path, ui: Option<PathBuf>) -> WebServer {
    let library = Library::open(Paths::at(tmp.join("home"))).unwrap_or_else(|e| panic!("{e}"));
    let app = App::open(
        library,
        AppOptions {
            runtime: Some(Runtime::Process),
            agent_server_binary: Some(berth_test_support::agent_server_binary()),
            idle_check: None,
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    serve(
        Arc::new(app),
        WebOptions {
            port: 0,
            ui_dir: ui,
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"))
}

async fn call(web: &WebServer, command: &str, args: Value) -> (StatusCode, Value) {
    let resp = reqwest::Client::new()
        .post(format!("http://{}/api/call", web.addr))
        .bearer_auth(&web.token)
        .json(&json!({"command": command, "args": args}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let status = resp.status();
    (status, resp.json().await.unwrap_or_default())
}

#[tokio::test]
async fn every_route_needs_the_token_and_the_loopback_host() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let ui = tmp.path().join("ui");
    std::fs::create_dir_all(&ui).unwrap_or_default();
    std::fs::write(ui.join("index.html"), "<title>Berth</title>").unwrap_or_default();
    let web = start(tmp.path(), Some(ui)).await;
    let http = reqwest::Client::new();
    let base = format!("http://{}", web.addr);
    for path in ["/", "/api/updates", "/api/export/x", "/conversations/abc"] {
        let s = http
            .get(format!("{base}{path}"))
            .send()
            .await
            .map(|r| r.status())
            .ok();
        assert_eq!(s, Some(StatusCode::UNAUTHORIZED), "{path}");
        let s = http
            .get(format!("{base}{path}"))
            .bearer_auth("wrong")
            .send()
            .await
            .map(|r| r.status())
            .ok();
        assert_eq!(s, Some(StatusCode::UNAUTHORIZED), "{path}");
    }
    let s = http
        .post(format!("{base}/api/call"))
        .json(&json!({"command": "AppStatus", "args": {}}))
        .send()
        .await
        .map(|r| r.status())
        .ok();
    assert_eq!(s, Some(StatusCode::UNAUTHORIZED));
    // The token in the address sets the cookie the page's own requests then carry.
    let first = http
        .get(web.url())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first.status(), StatusCode::OK);
    let cookie = first
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap_or_default().to_string();
    let page = http
        .get(format!("{base}/conversations/abc"))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(
        page.text().await.unwrap_or_default(),
        "<title>Berth</title>",
        "client routes get the UI"
    );
    // A DNS-rebinding page reaches 127.0.0.1 under another host name: refused even with the token.
    let s = http
        .get(format!("{base}/api/updates"))
        .bearer_auth(&web.token)
        .header("host", "evil.example:80")
        .send()
        .await
        .map(|r| r.status())
        .ok();
    assert_eq!(s, Some(StatusCode::FORBIDDEN));
}

#[tokio::test]
async fn commands_answer_json_and_errors_carry_their_code() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let web = start(tmp.path(), None).await;
    let (s, status) = call(&web, "AppStatus", json!({})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(status["needs_setup"], true);
    assert_eq!(status["sandbox_kind"], "process");

    let (s, e) = call(
        &web,
        "SaveSettings",
        json!({"llm_profiles": [{"name": "a", "model": ""}], "active_profile": "a"}),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(e["code"], "invalid_settings");
    assert_eq!(e["problems"][0]["field"], "llm_profiles[0].model");

    let (s, e) = call(&web, "GetConversation", json!({"id": "nope"})).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (s, e) = call(
        &web,
        "StartConversation",
        json!({"repository": {"kind": "local_folder", "path": "/tmp"}, "task": "x"}),
    )
    .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("no_model"))
    );
    let (s, e) = call(&web, "NoSuchCommand", json!({})).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_request"))
    );
    let resp = reqwest::Client::new()
        .post(format!("http://{}/api/call", web.addr))
        .bearer_auth(&web.token)
        .body("{not json")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_conversation_started_over_http_streams_its_states_and_events() {
    let llm = ScriptedLlm::start(vec![
        Step::tool("terminal", json!({"command": "echo streamed-$((40+2))"})),
        Step::text("All done."),
    ])
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let ws = tmp.path().join("ws");
    std::fs::create_dir_all(&ws).unwrap_or_default();
    let web = start(tmp.path(), None).await;
    let (s, _) = call(&web, "SaveSettings", json!({"llm_profiles": [{"name": "scripted", "model": "openai/scripted", "base_url": llm.openai_base_url()}], "active_profile": "scripted"})).await;
    assert_eq!(s, StatusCode::OK);

    let stream = reqwest::Client::new()
        .get(format!("http://{}/api/updates", web.addr))
        .bearer_auth(&web.token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        stream
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    let mut bytes = stream.bytes_stream();
    let (s, task) = call(
        &web,
        "StartConversation",
        json!({"repository": {"kind": "local_folder", "path": ws}, "task": "stream it"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{task}");

    let mut buffer = String::new();
    let mut states = Vec::new();
    let mut outputs = Vec::new();
    let mut conversation = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    'read: while tokio::time::Instant::now() < deadline {
        let Ok(Some(Ok(chunk))) = tokio::time::timeout(Duration::from_secs(5), bytes.next()).await
        else {
            continue;
        };
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data: ")) else {
                continue;
            };
            let update: Value = serde_json::from_str(data).unwrap_or_default();
            match update["type"].as_str() {
                Some("start_task") => states.push(
                    update["task"]["status"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                ),
                Some("event") => {
                    conversation = update["conversation_id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    let e = &update["event"];
                    if e["kind"] == "ObservationEvent" {
                        outputs.push(
                            e["observation"]["content"][0]["text"]
                                .as_str()
                                .unwrap_or_default()
                                .to_string(),
                        );
                    }
                    if e["kind"] == "ConversationStateUpdateEvent"
                        && e["key"] == "execution_status"
                        && e["value"] == "finished"
                    {
                        break 'read;
                    }
                }
                _ => {}
            }
        }
    }
    assert_eq!(
        states.first().map(String::as_str),
        Some("WORKING"),
        "{states:?}"
    );
    assert!(states.iter().any(|s| s == "READY"), "{states:?}");
    assert!(
        outputs.iter().any(|o| o.contains("streamed-42")),
        "{outputs:?}"
    );

    let (_, events) = call(&web, "ConversationEvents", json!({"id": conversation})).await;
    assert!(events.as_array().is_some_and(|e| e.len() >= 6), "{events}");
    let (_, hits) = call(&web, "SearchConversations", json!({"query": "streamed-42"})).await;
    assert_eq!(hits[0]["conversation_id"], conversation.as_str());
    let zip = reqwest::Client::new()
        .get(format!("http://{}/api/export/{conversation}", web.addr))
        .bearer_auth(&web.token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(zip.status(), StatusCode::OK);
    let body = zip.bytes().await.unwrap_or_default();
    assert!(body.starts_with(b"PK"), "not a zip");
    let (s, _) = call(&web, "DeleteConversation", json!({"id": conversation})).await;
    assert_eq!(s, StatusCode::OK);
}
