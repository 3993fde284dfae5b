//! The event socket `/sockets/events/{id}` against a real server: authentication (query, header,
//! first frame), close codes, the `full_state` snapshot, resend, live events, inbound messages,
//! and the subscriber limit.

use crate::common;

use std::time::Duration;

use berth_scripted_llm::{ScriptedLlm, Step};
use common::{KEY, Server};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn create(
    server: &Server,
    llm: &ScriptedLlm,
    ws: &std::path::Path,
    message: Option<&str>,
) -> String {
    let mut body = json!({"agent": {"llm": {"model": "openai/scripted", "base_url": llm.openai_base_url(), "num_retries": 0}, "tools": [{"name": "terminal"}]},
                          "workspace": {"working_dir": ws}});
    if let Some(m) = message {
        body["initial_message"] = json!({"role": "user", "content": [{"type": "text", "text": m}]});
    }
    let v: Value = reqwest::Client::new()
        .post(format!("{}/api/conversations", server.url))
        .header("X-Session-API-Key", KEY)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["id"].as_str().unwrap().to_string()
}

async fn connect(
    url: &str,
    header_key: Option<&str>,
) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let mut req = url.into_client_request()?;
    if let Some(k) = header_key {
        req.headers_mut()
            .insert("X-Session-API-Key", k.parse().expect("header"));
    }
    tokio_tungstenite::connect_async(req).await.map(|(s, _)| s)
}

/// The next JSON frame, or the close code.
async fn next(socket: &mut Socket) -> Result<Value, Option<u16>> {
    loop {
        match tokio::time::timeout(Duration::from_secs(15), socket.next()).await {
            Ok(Some(Ok(Ws::Text(t)))) => return Ok(serde_json::from_str(&t).unwrap_or(Value::Null)),
            Ok(Some(Ok(Ws::Close(frame)))) => return Err(frame.map(|f| u16::from(f.code))),
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(_))) | Ok(None) => return Err(None),
            Err(_) => panic!("no frame within 15 s"),
        }
    }
}

async fn setup(script: Vec<Step>) -> (tempfile::TempDir, ScriptedLlm, Server) {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("ws")).unwrap();
    let llm = ScriptedLlm::start(script).await.unwrap();
    let server = Server::start(tmp.path(), &[]).await;
    (tmp, llm, server)
}

#[tokio::test]
async fn authentication_and_close_codes() {
    let (tmp, llm, server) = setup(vec![]).await;
    let id = create(&server, &llm, &tmp.path().join("ws"), None).await;
    let url = server.ws_url(&format!("/sockets/events/{id}"));

    // First-frame authentication, as the 1.58 client does it.
    let mut s = connect(&url, None).await.unwrap();
    s.send(Ws::Text(
        json!({"type": "auth", "session_api_key": KEY})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let first = next(&mut s).await.expect("closed");
    assert_eq!(
        (first["kind"].clone(), first["key"].clone()),
        (json!("ConversationStateUpdateEvent"), json!("full_state"))
    );
    assert_eq!(first["value"]["execution_status"], "idle");
    assert_eq!(first["value"]["id"], id);

    // A wrong first frame: 4001.
    let mut s = connect(&url, None).await.unwrap();
    s.send(Ws::Text(
        json!({"type": "auth", "session_api_key": "nope"})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    assert_eq!(next(&mut s).await.err(), Some(Some(4001)));

    // A wrong key in the query or header is refused before the upgrade.
    assert!(
        connect(&format!("{url}?session_api_key=nope"), None)
            .await
            .is_err()
    );
    assert!(connect(&url, Some("nope")).await.is_err());

    // The right key in the query (legacy clients) or the header.
    let mut s = connect(&format!("{url}?session_api_key={KEY}"), None)
        .await
        .unwrap();
    assert_eq!(
        next(&mut s).await.ok().map(|v| v["key"].clone()),
        Some(json!("full_state"))
    );
    let mut s = connect(&url, Some(KEY)).await.unwrap();
    assert_eq!(
        next(&mut s).await.ok().map(|v| v["key"].clone()),
        Some(json!("full_state"))
    );

    // An unknown conversation: 4004.
    let unknown = server.ws_url("/sockets/events/00000000-0000-4000-8000-000000000000");
    let mut s = connect(&unknown, Some(KEY)).await.unwrap();
    assert_eq!(next(&mut s).await.err(), Some(Some(4004)));
    server.kill().await;
}

#[tokio::test]
async fn resend_live_events_and_inbound_messages() {
    let (tmp, llm, server) = setup(vec![
        Step::text("first reply"),
        Step::tool("terminal", json!({"command": "echo live"})),
        Step::text("second reply"),
    ])
    .await;
    let id = create(&server, &llm, &tmp.path().join("ws"), Some("hello")).await;
    // Wait for the initial run to finish.
    for _ in 0..100 {
        let v: Value = reqwest::Client::new()
            .get(format!("{}/api/conversations/{id}", server.url))
            .header("X-Session-API-Key", KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if v["execution_status"] == "finished" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let url = server.ws_url(&format!("/sockets/events/{id}?resend_mode=all"));
    let mut s = connect(&url, Some(KEY)).await.unwrap();
    assert_eq!(
        next(&mut s).await.ok().map(|v| v["key"].clone()),
        Some(json!("full_state"))
    );
    let mut resent = Vec::new();
    loop {
        let v = next(&mut s).await.expect("closed");
        resent.push(v["kind"].as_str().unwrap().to_string());
        if v["kind"] == "MessageEvent" && v["source"] == "agent" {
            break;
        }
    }
    assert_eq!(resent[0], "SystemPromptEvent");
    assert!(resent.contains(&"MessageEvent".to_string()));

    // A bad frame gets a ServerErrorEvent and the socket stays open.
    s.send(Ws::Text("{not json".into())).await.unwrap();
    let mut err = next(&mut s).await.expect("closed");
    while err["kind"] == "ConversationStateUpdateEvent" {
        // The rest of the resend (the final status update) comes first.
        err = next(&mut s).await.expect("closed");
    }
    assert_eq!(err["kind"], "ServerErrorEvent");
    // An inbound message frame is sent with run=true; its events stream back live.
    s.send(Ws::Text(
        json!({"role": "user", "content": [{"type": "text", "text": "run echo"}]})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let mut live = Vec::new();
    loop {
        let v = next(&mut s).await.expect("closed");
        let done = v["key"] == "full_state" && v["value"]["execution_status"] == "finished";
        live.push(v);
        if done {
            break;
        }
    }
    let kinds: Vec<&str> = live
        .iter()
        .filter_map(|v| v["kind"].as_str())
        .filter(|k| *k != "ConversationStateUpdateEvent")
        .collect();
    assert_eq!(
        kinds,
        [
            "MessageEvent",
            "ActionEvent",
            "ObservationEvent",
            "MessageEvent"
        ]
    );
    let obs = live
        .iter()
        .find(|v| v["kind"] == "ObservationEvent")
        .cloned()
        .unwrap();
    assert_eq!(obs["observation"]["content"][0]["text"], "live");
    let statuses: Vec<&str> = live
        .iter()
        .filter(|v| v["key"] == "execution_status")
        .filter_map(|v| v["value"].as_str())
        .collect();
    assert_eq!(statuses, ["idle", "running", "finished"]);
    server.kill().await;
}

#[tokio::test]
async fn at_most_fifty_subscribers_per_conversation() {
    let (tmp, llm, server) = setup(vec![]).await;
    let id = create(&server, &llm, &tmp.path().join("ws"), None).await;
    let url = server.ws_url(&format!("/sockets/events/{id}"));
    let mut open = Vec::new();
    for _ in 0..50 {
        let mut s = connect(&url, Some(KEY)).await.unwrap();
        assert!(next(&mut s).await.is_ok());
        open.push(s);
    }
    let mut extra = connect(&url, Some(KEY)).await.unwrap();
    assert_eq!(next(&mut extra).await.err(), Some(Some(1013)));
    // Closing one makes room.
    let mut one = open.pop().expect("none open");
    one.close(None).await.unwrap();
    drop(one);
    // The server frees the place when it sees the close, a moment later: ask until it has.
    berth_test_support::wait_until("a place to free up", Duration::from_secs(10), || async {
        let mut again = connect(&url, Some(KEY)).await.unwrap();
        next(&mut again).await.is_ok().then_some(())
    })
    .await;
    server.kill().await;
}
