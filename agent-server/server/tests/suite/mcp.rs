//! MCP through the agent-server's HTTP API: `POST /api/mcp/test` as OpenHands answers it, and a
//! conversation whose agent has an `mcp_config` with a working npm server, a PyPI server and a
//! broken one: the agent calls the working servers' tools, the broken one's error is readable,
//! and a secret given to a server through `${VAR}` never shows in what the agent reads.

use berth_scripted_llm::Step;
use berth_test_support::{mcp_server_everything, mcp_server_time, wait_until};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

use crate::common::api::{agent, setup};

#[tokio::test]
async fn testing_a_server_lists_its_tools_or_says_what_is_wrong() {
    let (_tmp, _llm, _server, api) = setup(vec![], &[]).await;
    let everything = mcp_server_everything();
    let (s, ok) = api
        .call(
            Method::POST,
            "/api/mcp/test",
            Some(
                json!({"server": {"type": "stdio", "command": everything, "args": ["stdio"]},
                        "tool_call": {"name": "echo", "arguments": {"message": "probe"}}}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{ok}");
    assert_eq!(ok["ok"], true);
    assert!(
        ok["tools"].as_array().unwrap().iter().any(|t| t == "echo"),
        "{ok}"
    );
    assert_eq!(
        ok["tool_result"],
        json!({"is_error": false, "text": "Echo: probe"})
    );

    let (s, missing) = api
        .call(
            Method::POST,
            "/api/mcp/test",
            Some(json!({"name": "gh", "server": {"command": "berth-no-such-mcp-server"}})),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::OK,
        "a failed test is an answer, not a server error"
    );
    assert_eq!(missing["ok"], false);
    assert_eq!(missing["error_kind"], "connection");
    assert!(
        missing["error"]
            .as_str()
            .unwrap()
            .contains("berth-no-such-mcp-server"),
        "{missing}"
    );

    let (s, hangs) = api
        .call(
            Method::POST,
            "/api/mcp/test",
            Some(json!({"server": {"command": "sleep", "args": ["60"]}, "timeout": 1.5})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(hangs["error_kind"], "timeout", "{hangs}");

    for bad in [
        json!({"server": {"command": "x"}, "timeout": 0}),
        json!({"server": {"command": "x"}, "timeout": 1000}),
        json!({"server": {"url": "http://127.0.0.1:9/mcp", "type": "carrier-pigeon"}}),
        json!({"server": {}}),
    ] {
        let (s, v) = api
            .call(Method::POST, "/api/mcp/test", Some(bad.clone()))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad} → {v}");
    }
}

/// The texts of every MCP observation, in order.
fn mcp_results(events: &Value) -> Vec<(String, bool, String)> {
    events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["observation"]["kind"] == "MCPToolObservation")
        .map(|e| {
            let o = &e["observation"];
            (
                o["tool_name"].as_str().unwrap().to_string(),
                o["is_error"].as_bool().unwrap(),
                o["content"].to_string(),
            )
        })
        .collect()
}

/// The conversation's events once its agent finished.
async fn finished_events(api: &crate::common::api::Api, id: &str) -> Value {
    wait_until("the run to finish", Duration::from_secs(60), || async {
        let (_, v) = api
            .call(
                Method::GET,
                &format!("/api/conversations/{id}/events/search?limit=100"),
                None,
            )
            .await;
        let done = v["items"]
            .as_array()?
            .iter()
            .any(|e| e["action"]["kind"] == "FinishAction");
        done.then_some(v)
    })
    .await
}

/// Starts a conversation of `agent` with the secret `SERVICE_TOKEN` and a first message.
async fn start_with_secret(
    api: &crate::common::api::Api,
    agent: Value,
    ws: &std::path::Path,
) -> String {
    let (s, created) = api
        .call(
            Method::POST,
            "/api/conversations",
            Some(json!({
                "agent": agent,
                "workspace": {"working_dir": ws},
                "secrets": {"SERVICE_TOKEN": "tok-5d1e-very-secret"},
                "initial_message": {"role": "user", "content": [{"type": "text", "text": "use the tools"}]},
            })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    created["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_conversations_agent_calls_tools_of_its_mcp_servers() {
    let (tmp, llm, _server, api) = setup(
        vec![
            Step::tool("everything_echo", json!({"message": "over stdio"})),
            Step::tool("time_get_current_time", json!({"timezone": "Asia/Tokyo"})),
            Step::tool("everything_get-env", json!({})),
            Step::tool("remote_get-sum", json!({"a": 20, "b": 22})),
            Step::tool("finish", json!({"message": "done"})),
        ],
        &[],
    )
    .await;
    let http = berth_test_support::McpHttpServer::start().await;
    let mut agent = agent(&llm);
    agent["mcp_config"] = json!({"mcpServers": {
        "everything": {"command": mcp_server_everything(), "args": ["stdio"],
                       "env": {"MCP_TOKEN": "${SERVICE_TOKEN}"}},
        "remote": {"url": http.url, "type": "shttp"},
        "time": {"command": mcp_server_time(), "args": ["--local-timezone", "UTC"]},
        "broken": {"command": "berth-no-such-mcp-server"},
        "off": {"command": "berth-never-started", "enabled": false},
    }});
    let id = start_with_secret(&api, agent, &tmp.path().join("ws")).await;

    let (s, servers) = api
        .call(Method::GET, &format!("/api/conversations/{id}/mcp"), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    let servers = servers.as_array().unwrap().clone();
    let health: Vec<(&str, &str)> = servers
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    // A disabled server is not started.
    let want = [
        ("everything", "connected"),
        ("remote", "connected"),
        ("time", "connected"),
        ("broken", "failed"),
    ];
    assert_eq!(health, want);
    assert!(
        servers[3]["error"]
            .as_str()
            .unwrap()
            .contains("berth-no-such-mcp-server")
    );

    let events = finished_events(&api, &id).await;
    let results = mcp_results(&events);
    assert_eq!(results.len(), 4, "{results:?}");
    assert!(
        results[3].2.contains("The sum of 20 and 22 is 42."),
        "over HTTP: {results:?}"
    );
    assert_eq!(results[0].0, "everything_echo");
    assert!(
        results[0].2.contains("Echo: over stdio") && !results[0].1,
        "{results:?}"
    );
    assert!(
        results[1].2.contains("Asia/Tokyo") && !results[1].1,
        "{results:?}"
    );
    // The server got the secret; what the agent reads has it masked.
    assert!(
        results[2].2.contains("MCP_TOKEN") && results[2].2.contains("<secret-hidden>"),
        "{results:?}"
    );
    let all = events.to_string();
    assert!(
        !all.contains("tok-5d1e-very-secret"),
        "the secret leaked into the events"
    );
}

#[tokio::test]
async fn a_malformed_mcp_config_refuses_the_conversation() {
    let (tmp, llm, _server, api) = setup(vec![], &[]).await;
    let mut agent = agent(&llm);
    agent["mcp_config"] = json!({"bad": {"url": "http://x", "transport": "carrier-pigeon"}});
    let (s, v) = api
        .call(
            Method::POST,
            "/api/conversations",
            Some(json!({"agent": agent, "workspace": {"working_dir": tmp.path().join("ws")}})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v.to_string().contains("carrier-pigeon"), "{v}");
}

/// The processes whose environment holds `marker`.
fn processes_marked(marker: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| String::from_utf8_lossy(&env).contains(marker))
        })
        .collect()
}

/// A conversation's stdio MCP servers die with it: deleting the conversation stops them.
#[tokio::test]
async fn a_conversations_stdio_servers_die_with_it() {
    let (tmp, llm, _server, api) = setup(vec![], &[]).await;
    let marker = format!("berth-mcp-{}", uuid::Uuid::new_v4().simple());
    let mut agent = agent(&llm);
    agent["mcp_config"] = json!({"everything": {"command": mcp_server_everything(),
        "args": ["stdio"], "env": {"BERTH_TEST_MARKER": marker}}});
    let (s, created) = api
        .call(
            Method::POST,
            "/api/conversations",
            Some(json!({"agent": agent, "workspace": {"working_dir": tmp.path().join("ws")}})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap();
    assert!(
        !processes_marked(&marker).is_empty(),
        "the server is not running"
    );
    let (s, _) = api
        .call(Method::DELETE, &format!("/api/conversations/{id}"), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    wait_until(
        "the MCP server to stop",
        Duration::from_secs(10),
        || async { processes_marked(&marker).is_empty().then_some(()) },
    )
    .await;
}
