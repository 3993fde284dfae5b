//! Web mode over real HTTP: the token and the Host check guard every route; commands answer JSON
//! or an error with its code; a conversation started through `/api/call` streams its start
//! states and events through `/api/updates`; its zip downloads.

use std::path::{Path, PathBuf};
use std::time::Duration;

use berth_app::app::Library;
use berth_app::paths::Paths;
use berth_scripted_llm::{ScriptedLlm, Step};
use berth_web::WebServer;
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn start(tmp: &Path, ui: Option<PathBuf>) -> WebServer {
    let library = Library::open(Paths::at(tmp.join("home"))).unwrap();
    super::serve_library(library, ui).await
}

async fn call(web: &WebServer, command: &str, args: Value) -> (StatusCode, Value) {
    let resp = reqwest::Client::new()
        .post(format!("http://{}/api/call", web.addr))
        .bearer_auth(&web.token)
        .json(&json!({"command": command, "args": args}))
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

#[tokio::test]
async fn every_route_needs_the_token_and_the_loopback_host() {
    let tmp = tempfile::tempdir().unwrap();
    let ui = tmp.path().join("ui");
    std::fs::create_dir_all(&ui).unwrap();
    std::fs::write(ui.join("index.html"), "<title>Berth</title>").unwrap();
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
        .json(&json!({"command": "AppStatusGet", "args": {}}))
        .send()
        .await
        .map(|r| r.status())
        .ok();
    assert_eq!(s, Some(StatusCode::UNAUTHORIZED));
    // The token in the address sets the cookie the page's own requests then carry, and leaves
    // the address: the answer is a redirect to the same page without it.
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let first = no_redirect
        .get(format!("{}&view=1", web.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        first
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok()),
        Some("/?view=1")
    );
    let cookie = first
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap()
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_string();
    let page = http
        .get(format!("{base}/conversations/abc"))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap()
        .to_string();
    assert!(
        csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(
        page.text().await.unwrap(),
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

/// Claim (hostile): a page of another loopback server — a dev server of the repository the agent
/// just edited — cannot post commands, although the browser sends it Berth's cookie (every
/// `http://127.0.0.1:<port>` is the same site). Before the fix (commit "Web mode: commands only
/// as same-origin JSON"), a `text/plain` form post ran the command.
#[tokio::test]
async fn a_page_of_another_loopback_origin_cannot_post_commands() {
    let tmp = tempfile::tempdir().unwrap();
    let web = start(tmp.path(), None).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cookie = http
        .get(web.url())
        .send()
        .await
        .ok()
        .and_then(|r| {
            r.headers()
                .get("set-cookie")
                .and_then(|v| v.to_str().ok())
                .map(|c| c.split(';').next().unwrap().to_string())
        })
        .expect("no cookie");
    let body = r#"{"command":"SecretSet","args":{"kind":"custom","name":"PWNED","value":"x","description":null}}"#;
    let post = |content_type: &'static str, origin: Option<String>, site: Option<&'static str>| {
        let mut req = http
            .post(format!("http://{}/api/call", web.addr))
            .header("cookie", &cookie)
            .header("content-type", content_type)
            .body(body);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        if let Some(s) = site {
            req = req.header("sec-fetch-site", s);
        }
        req.send()
    };
    let other = format!("http://127.0.0.1:{}", web.addr.port().wrapping_add(1));
    for (ct, origin, site) in [
        ("text/plain", Some(other.clone()), Some("same-site")),
        ("text/plain", None, None),
        ("application/json", Some(other.clone()), Some("same-site")),
        ("application/json", None, Some("cross-site")),
    ] {
        let resp = post(ct, origin.clone(), site).await.unwrap();
        let want = if ct == "text/plain" {
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(resp.status(), want, "{ct} from {origin:?}");
    }
    let (_, listed) = call(&web, "SecretsList", json!({})).await;
    assert!(!listed.to_string().contains("PWNED"), "{listed}");
    // The app's own page still can.
    let own = format!("http://{}", web.addr);
    let resp = http
        .post(format!("{own}/api/call"))
        .header("cookie", &cookie)
        .header("origin", &own)
        .header("sec-fetch-site", "same-origin")
        .json(&json!({"command": "AppStatusGet", "args": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn commands_answer_json_and_errors_carry_their_code() {
    let tmp = tempfile::tempdir().unwrap();
    let web = start(tmp.path(), None).await;
    let (s, status) = call(&web, "AppStatusGet", json!({})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(status["needs_setup"], true);
    assert_eq!(status["sandbox_kind"], "process");

    let (s, e) = call(
        &web,
        "SettingsSave",
        json!({"llm_profiles": [{"name": "a", "model": ""}], "active_profile": "a"}),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(e["code"], "invalid_settings");
    assert_eq!(e["problems"][0]["field"], "llm_profiles[0].model");

    let (s, e) = call(&web, "ConversationGet", json!({"id": "nope"})).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (s, e) = call(
        &web,
        "ConversationStart",
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
    let post = |content_type: &'static str| {
        reqwest::Client::new()
            .post(format!("http://{}/api/call", web.addr))
            .bearer_auth(&web.token)
            .header("content-type", content_type)
            .body("{not json")
            .send()
    };
    let resp = post("application/json").await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let resp = post("text/plain").await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn a_conversation_started_over_http_streams_its_states_and_events() {
    let llm = ScriptedLlm::start(vec![
        Step::tool("terminal", json!({"command": "echo streamed-$((40+2))"})),
        Step::text("All done."),
    ])
    .await
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    std::fs::create_dir_all(&ws).unwrap();
    let web = start(tmp.path(), None).await;
    let (s, _) = call(&web, "SettingsSave", json!({"llm_profiles": [{"name": "scripted", "model": "openai/scripted", "base_url": llm.openai_base_url()}], "active_profile": "scripted"})).await;
    assert_eq!(s, StatusCode::OK);

    let stream = reqwest::Client::new()
        .get(format!("http://{}/api/updates", web.addr))
        .bearer_auth(&web.token)
        .send()
        .await
        .unwrap();
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
        "ConversationStart",
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
            let update: Value = serde_json::from_str(data).unwrap();
            match update["type"].as_str() {
                Some("start_task") => {
                    states.push(update["task"]["status"].as_str().unwrap().to_string())
                }
                Some("event") => {
                    conversation = update["conversation_id"].as_str().unwrap().to_string();
                    let e = &update["event"];
                    if e["kind"] == "ObservationEvent" {
                        outputs.push(
                            e["observation"]["content"][0]["text"]
                                .as_str()
                                .unwrap()
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

    let (_, events) = call(&web, "ConversationEventsList", json!({"id": conversation})).await;
    assert!(events.as_array().is_some_and(|e| e.len() >= 6), "{events}");
    let (_, hits) = call(&web, "ConversationsSearch", json!({"query": "streamed-42"})).await;
    assert_eq!(hits[0]["conversation_id"], conversation.as_str());
    let zip = reqwest::Client::new()
        .get(format!("http://{}/api/export/{conversation}", web.addr))
        .bearer_auth(&web.token)
        .send()
        .await
        .unwrap();
    assert_eq!(zip.status(), StatusCode::OK);
    let body = zip.bytes().await.unwrap();
    assert!(body.starts_with(b"PK"), "not a zip");
    let (s, _) = call(&web, "ConversationDelete", json!({"id": conversation})).await;
    assert_eq!(s, StatusCode::OK);
}
