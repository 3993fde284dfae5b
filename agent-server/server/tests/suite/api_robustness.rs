//! What the REST surface does with bad input and sensitive data: malformed requests, path
//! traversal, oversized uploads, files and git, secrets sealed at rest, clean logs.

use crate::common;

use berth_scripted_llm::Step;
use common::api::{Api, agent, setup, walk};
use common::{KEY, Server};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn malformed_requests_get_clear_errors_and_lose_nothing() {
    let (tmp, llm, server, api) = setup(
        vec![Step::text("ok")],
        &[("BERTH_MAX_UPLOAD_BYTES", "1024")],
    )
    .await;
    let ws = tmp.path().join("ws");
    let id = api.create(&llm, &ws).await;
    api.call(
        Method::POST,
        &format!("/api/conversations/{id}/events"),
        Some(
            json!({"role": "user", "content": [{"type": "text", "text": "keep me"}], "run": true}),
        ),
    )
    .await;
    api.wait_status(&id, "finished").await;
    let (_, before) = api
        .call(
            Method::GET,
            &format!("/api/conversations/{id}/events/search"),
            None,
        )
        .await;
    let http = Client::new();
    let raw = |path: &str, body: &'static str| {
        http.post(format!("{}{path}", server.url))
            .header("X-Session-API-Key", KEY)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    // Invalid JSON.
    let r = raw("/api/conversations", "{not json").await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        r.json::<Value>().await.unwrap()["detail"]
            .as_str()
            .unwrap()
            .contains("Invalid JSON")
    );
    // Wrong types and missing fields: FastAPI-style 422 lists.
    for body in [
        json!({"agent": 5, "workspace": {"working_dir": ws}}),
        json!({"agent": agent(&llm)}),
        json!({"agent": agent(&llm), "workspace": {"working_dir": "relative/dir"}}),
        json!({"agent": agent(&llm), "workspace": {"working_dir": ws}, "max_iterations": 0}),
        json!({"agent": {"llm": {"model": "openai/x"}, "tools": [{"name": "no_such_tool"}]}, "workspace": {"working_dir": ws}}),
        json!({"agent": agent(&llm), "workspace": {"working_dir": ws}, "secrets": {"X": {"kind": "LookupSecret", "url": "http://x"}}}),
    ] {
        let (s, v) = api
            .call(Method::POST, "/api/conversations", Some(body.clone()))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {v}");
        assert!(v["detail"].is_array(), "{v}");
    }
    let (s, v) = api
        .call(
            Method::POST,
            &format!("/api/conversations/{id}/events"),
            Some(json!({"role": "user", "content": "not a list"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, _) = api
        .call(
            Method::POST,
            &format!("/api/conversations/{id}/events"),
            Some(json!({"role": "assistant", "content": [{"type": "text", "text": "x"}]})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = api
        .call(
            Method::POST,
            &format!("/api/conversations/{id}/confirmation_policy"),
            Some(json!({"policy": {"kind": "Sometimes"}})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // A huge body.
    let huge = format!("{{\"question\": \"{}\"}}", "x".repeat(20 * 1024 * 1024));
    let r = http
        .post(format!("{}/api/conversations/{id}/ask_agent", server.url))
        .header("X-Session-API-Key", KEY)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await;
    assert_eq!(
        r.map(|r| r.status()).unwrap(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    // Unknown and invalid conversation ids.
    let unknown = "00000000-0000-4000-8000-000000000000";
    for (m, p) in [
        (Method::GET, format!("/api/conversations/{unknown}")),
        (Method::POST, format!("/api/conversations/{unknown}/run")),
        (
            Method::GET,
            format!("/api/conversations/{unknown}/events/search"),
        ),
    ] {
        let (s, v) = api.call(m, &p, None).await;
        assert_eq!(
            (s, v),
            (StatusCode::NOT_FOUND, json!({"detail": "Not Found"})),
            "{p}"
        );
    }
    let (s, _) = api
        .call(Method::GET, "/api/conversations/not-a-uuid", None)
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = api
        .call(
            Method::GET,
            &format!("/api/conversations/{id}/events/search?limit=1000"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // Path traversal and bad paths in downloads.
    std::fs::write(tmp.path().join("outside.txt"), "private").unwrap();
    let (s, v) = api
        .call(
            Method::GET,
            "/api/file/download?path=../../etc/passwd",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let escape = format!("{}/../outside.txt", ws.display());
    let (s, v) = api
        .call(
            Method::GET,
            &format!("/api/conversations/{id}/file/download?path={escape}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    std::os::unix::fs::symlink(tmp.path().join("outside.txt"), ws.join("link.txt")).unwrap();
    let (s, _) = api
        .call(
            Method::GET,
            &format!(
                "/api/conversations/{id}/file/download?path={}/link.txt",
                ws.display()
            ),
            None,
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a link out of the workspace is outside it"
    );
    let (s, _) = api
        .call(
            Method::GET,
            &format!("/api/file/download?path={}/missing.txt", ws.display()),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = api
        .call(
            Method::GET,
            &format!("/api/file/download?path={}", ws.display()),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // An upload over the limit.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(vec![b'x'; 4096]).file_name("big.bin"),
    );
    let r = http
        .post(format!(
            "{}/api/file/upload?path={}/big.bin",
            server.url,
            ws.display()
        ))
        .header("X-Session-API-Key", KEY)
        .multipart(form)
        .send()
        .await;
    assert_eq!(
        r.map(|r| r.status()).unwrap(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert!(
        !ws.join("big.bin").exists(),
        "a refused upload leaves nothing behind"
    );
    // Still up, nothing lost.
    let (s, _) = api.call(Method::GET, "/alive", None).await;
    assert_eq!(s, StatusCode::OK);
    let (_, after) = api
        .call(
            Method::GET,
            &format!("/api/conversations/{id}/events/search"),
            None,
        )
        .await;
    assert_eq!(before, after);
    server.kill().await;
}

#[tokio::test]
async fn files_upload_download_and_git_changes() {
    let (tmp, llm, server, api) = setup(vec![], &[]).await;
    let ws = tmp.path().join("ws");
    berth_test_support::committed_repo(&ws, &[("a.txt", "one\n"), ("gone.txt", "bye\n")]);
    let id = api.create(&llm, &ws).await;
    let http = Client::new();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"uploaded\n".to_vec()).file_name("n.txt"),
    );
    let r: Value = http
        .post(format!(
            "{}/api/conversations/{id}/file/upload?path={}/sub/new.txt",
            server.url,
            ws.display()
        ))
        .header("X-Session-API-Key", KEY)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r, json!({"success": true, "file_size": 9}));
    let got = http
        .get(format!(
            "{}/api/file/download?path={}/sub/new.txt",
            server.url,
            ws.display()
        ))
        .header("X-Session-API-Key", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.headers()
            .get("content-disposition")
            .and_then(|v| v.to_str().ok()),
        Some("attachment; filename=\"new.txt\"")
    );
    assert_eq!(got.text().await.unwrap(), "uploaded\n");
    std::fs::write(ws.join("a.txt"), "one\ntwo\n").unwrap();
    std::fs::remove_file(ws.join("gone.txt")).unwrap();
    let (_, changes) = api
        .call(
            Method::GET,
            &format!("/api/git/changes?path={}", ws.display()),
            None,
        )
        .await;
    let mut c: Vec<(String, String)> = changes
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["status"].as_str().unwrap().into(),
                c["path"].as_str().unwrap().into(),
            )
        })
        .collect();
    c.sort();
    assert_eq!(
        c,
        [
            ("ADDED".into(), "sub/new.txt".into()),
            ("DELETED".into(), "gone.txt".into()),
            ("UPDATED".into(), "a.txt".into())
        ]
    );
    let (_, diff) = api
        .call(
            Method::GET,
            &format!("/api/git/diff?path={}/a.txt", ws.display()),
            None,
        )
        .await;
    assert_eq!(diff, json!({"modified": "one\ntwo\n", "original": "one\n"}));
    let (_, diff) = api
        .call(
            Method::GET,
            &format!("/api/git/diff?path={}/gone.txt", ws.display()),
            None,
        )
        .await;
    assert_eq!(diff, json!({"modified": null, "original": "bye\n"}));
    let (_, none) = api
        .call(
            Method::GET,
            &format!("/api/git/changes?path={}", tmp.path().display()),
            None,
        )
        .await;
    assert_eq!(none, json!([]));
    // The bash API: execute, and the events a client polls.
    let (_, out) = api
        .call(
            Method::POST,
            "/api/bash/execute_bash_command",
            Some(json!({"command": "echo out; echo err >&2; exit 3", "cwd": ws})),
        )
        .await;
    assert_eq!(
        (
            out["stdout"].clone(),
            out["stderr"].clone(),
            out["exit_code"].clone()
        ),
        (json!("out\n"), json!("err\n"), json!(3))
    );
    let (_, timed) = api
        .call(
            Method::POST,
            "/api/bash/execute_bash_command",
            Some(json!({"command": "sleep 10", "timeout": 1})),
        )
        .await;
    assert_eq!(timed["exit_code"], -1);
    let (_, found) = api
        .call(
            Method::GET,
            &format!(
                "/api/bash/bash_events/search?kind__eq=BashOutput&command_id__eq={}",
                out["command_id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert!(found["items"].as_array().is_some_and(|i| !i.is_empty()));
    server.kill().await;
}

#[tokio::test]
async fn secrets_are_sealed_at_rest_and_survive_a_restart() {
    let (tmp, llm, server, api) = setup(
        vec![
            Step::tool("terminal", json!({"command": "echo $DB_PASSWORD"})),
            Step::text("done"),
            Step::text("again"),
        ],
        &[],
    )
    .await;
    let ws = tmp.path().join("ws");
    let (s, v) = api
        .call(Method::POST, "/api/conversations", Some(json!({"agent": agent(&llm), "workspace": {"working_dir": ws},
            "secrets": {"DB_PASSWORD": {"kind": "StaticSecret", "value": "pw-4f9a-secret", "description": "database"}}})))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(
        v["secret_registry"]["secret_sources"]["DB_PASSWORD"]["value"],
        Value::Null
    );
    let id = v["id"].as_str().unwrap().to_string();
    api.call(
        Method::POST,
        &format!("/api/conversations/{id}/events"),
        Some(
            json!({"role": "user", "content": [{"type": "text", "text": "print it"}], "run": true}),
        ),
    )
    .await;
    api.wait_status(&id, "finished").await;
    let (_, events) = api
        .call(
            Method::GET,
            &format!("/api/conversations/{id}/events/search"),
            None,
        )
        .await;
    let text = events.to_string();
    assert!(text.contains("<secret-hidden>") && !text.contains("pw-4f9a-secret"));
    let on_disk: String = walk(&tmp.path().join("conversations"))
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert!(
        !on_disk.contains("pw-4f9a-secret") && !on_disk.contains("sk-llm-key-123"),
        "plaintext secret on disk"
    );
    // After a restart the conversation still has its LLM key and its secrets.
    server.kill().await;
    let server = Server::start(tmp.path(), &[]).await;
    let api = Api::new(&server);
    api.call(Method::POST, &format!("/api/conversations/{id}/events"), Some(json!({"role": "user", "content": [{"type": "text", "text": "once more"}], "run": true}))).await;
    api.wait_status(&id, "finished").await;
    let last = llm.requests().last().cloned().expect("no request");
    assert_eq!(
        last.headers
            .get("authorization")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer sk-llm-key-123")
    );
    assert!(last.body.to_string().contains("$DB_PASSWORD: database"));
    server.kill().await;
}

#[tokio::test]
async fn logs_never_hold_secrets_or_session_keys() {
    let (tmp, llm, server, api) = setup(
        vec![
            Step::tool("terminal", json!({"command": "echo $API_TOKEN"})),
            Step::text("ok"),
        ],
        &[("LOG_LEVEL", "debug")],
    )
    .await;
    let (_, v) = api
        .call(
            Method::POST,
            "/api/conversations",
            Some(
                json!({"agent": agent(&llm), "workspace": {"working_dir": tmp.path().join("ws")},
            "secrets": {"API_TOKEN": "tok-0d1e-very-secret"}}),
            ),
        )
        .await;
    let id = v["id"].as_str().unwrap().to_string();
    api.call(
        Method::POST,
        &format!("/api/conversations/{id}/events"),
        Some(json!({"role": "user", "content": [{"type": "text", "text": "go"}], "run": true})),
    )
    .await;
    api.wait_status(&id, "finished").await;
    Client::new()
        .get(format!("{}/api/conversations", server.url))
        .header("X-Session-API-Key", "a-wrong-key-guess")
        .send()
        .await
        .ok();
    server.kill().await;
    let log = std::fs::read_to_string(tmp.path().join("server.log")).unwrap();
    assert!(
        log.contains("conversation created"),
        "the log is empty: {log}"
    );
    for secret in [
        KEY,
        "a-wrong-key-guess",
        "tok-0d1e-very-secret",
        "sk-llm-key-123",
    ] {
        assert!(!log.contains(secret), "the log holds {secret}");
    }
}

#[tokio::test]
async fn the_agent_does_not_see_the_servers_keys() {
    let (tmp, llm, server, api) = setup(
        vec![
            Step::tool(
                "terminal",
                json!({"command": "echo \"key=[${SESSION_API_KEY}] seal=[${OH_SECRET_KEY}] home=[${HOME:+set}]\""}),
            ),
            Step::text("done"),
        ],
        &[("OH_SECRET_KEY", "sealing-key-7c1e")],
    )
    .await;
    let id = api.create(&llm, &tmp.path().join("ws")).await;
    api.call(
        Method::POST,
        &format!("/api/conversations/{id}/events"),
        Some(json!({"role": "user", "content": [{"type": "text", "text": "go"}], "run": true})),
    )
    .await;
    api.wait_status(&id, "finished").await;
    let (_, events) = api
        .call(
            Method::GET,
            &format!("/api/conversations/{id}/events/search?kind=ObservationEvent"),
            None,
        )
        .await;
    let text = events.to_string();
    // The rest of the environment is there; the keys are not.
    assert!(text.contains("key=[] seal=[] home=[set]"), "{text}");
    assert!(!text.contains(KEY) && !text.contains("sealing-key-7c1e"));
    server.kill().await;
}

/// A hostile agent rewrites its conversation's stored state (the LLM's `base_url`) while the
/// server is down; the restarted server loads the state but withholds the sealed key from the
/// state that no longer matches its seal, so the other server never gets the user's key.
#[tokio::test]
async fn a_rewritten_state_file_loads_without_its_sealed_key() {
    let (tmp, llm, server, api) = setup(vec![Step::text("done")], &[]).await;
    let evil = berth_scripted_llm::ScriptedLlm::start(vec![Step::text("stolen")])
        .await
        .unwrap();
    let (s, v) = api
        .call(
            Method::POST,
            "/api/conversations",
            Some(
                json!({"agent": agent(&llm), "workspace": {"working_dir": tmp.path().join("ws")}}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    server.kill().await;
    let state = walk(&tmp.path().join("conversations"))
        .into_iter()
        .find(|p| p.ends_with("base_state.json"))
        .expect("no stored state");
    let mut stored: Value =
        serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    stored["agent"]["llm"]["base_url"] = json!(evil.openai_base_url());
    std::fs::write(&state, stored.to_string()).unwrap();
    let server = Server::start(tmp.path(), &[]).await;
    let api = Api::new(&server);
    api.call(
        Method::POST,
        &format!("/api/conversations/{id}/events"),
        Some(json!({"role": "user", "content": [{"type": "text", "text": "go"}], "run": true})),
    )
    .await;
    for _ in 0..100 {
        if !evil.requests().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
    assert!(!evil.requests().is_empty(), "the run never called its LLM");
    for r in evil.requests() {
        let auth = r.headers.get("authorization").and_then(|v| v.to_str().ok());
        assert_ne!(
            auth,
            Some("Bearer sk-llm-key-123"),
            "the key went to the rewritten base_url"
        );
    }
    server.kill().await;
}

/// A command that prints without end (a setup script from an untrusted repository, say) keeps
/// the head and the tail of its output and says how much it dropped; and the server forgets old
/// commands rather than keep every output it ever saw.
#[tokio::test]
async fn huge_command_output_is_capped_and_old_commands_are_forgotten() {
    let (tmp, _llm, server, api) = setup(vec![], &[]).await;
    let ws = tmp.path().join("ws");
    let (_, out) = api
        .call(
            Method::POST,
            "/api/bash/execute_bash_command",
            Some(json!({
                "command": "echo FIRST-LINE; head -c 100000000 /dev/zero | tr '\\0' x; echo; echo LAST-LINE; echo é€ >&2",
                "cwd": ws
            })),
        )
        .await;
    let stdout = out["stdout"].as_str().unwrap();
    assert!(stdout.len() < 600 * 1024, "{} bytes kept", stdout.len());
    assert!(stdout.starts_with("FIRST-LINE\n"), "{}", &stdout[..40]);
    assert!(
        stdout.ends_with("LAST-LINE\n"),
        "{}",
        &stdout[stdout.len() - 40..]
    );
    assert!(
        stdout.contains(" bytes of output dropped ...]"),
        "no drop note"
    );
    assert_eq!(out["stderr"], "é€\n");
    let first = out["command_id"].as_str().unwrap().to_string();
    for i in 0..64 {
        let (_, out) = api
            .call(
                Method::POST,
                "/api/bash/execute_bash_command",
                Some(json!({"command": format!("echo {i}"), "cwd": ws})),
            )
            .await;
        assert_eq!(out["stdout"], format!("{i}\n"));
    }
    let (_, found) = api
        .call(
            Method::GET,
            &format!("/api/bash/bash_events/search?command_id__eq={first}"),
            None,
        )
        .await;
    assert_eq!(found["items"], json!([]), "the oldest command is forgotten");
    let files: Vec<String> = std::fs::read_dir(tmp.path().join("bash_events"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!files.iter().any(|f| f.contains(&first)), "its files too");
    assert!(files.iter().any(|f| f.contains("BashCommand")), "{files:?}");
    server.kill().await;
}
