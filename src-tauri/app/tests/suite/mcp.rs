//! MCP servers set up in the settings reach the conversation's agent: a real npm server (over
//! stdio and over streamable HTTP, with a bearer token) and a real PyPI server in a process
//! sandbox, a broken server whose error the user can read while
//! the others work, a token given to a server as a custom secret from the keychain (never in the
//! settings, masked in what the agent reads), the Test button's command, and import of a
//! Claude Desktop `mcpServers` JSON.

use std::collections::BTreeMap;

use berth_app::mcp::{McpServer, McpServerTransport};
use berth_app::secrets::SecretKind;
use berth_protocol::{McpServerHealth, McpServerState, McpTestResponse};
use berth_scripted_llm::Step;
use berth_test_support::{mcp_server_everything, mcp_server_time};
use serde_json::json;

use crate::common::app::{app_fixture, command, folder, ready, start_local, status};

fn stdio(name: &str, command: &str, args: &[&str], env: &[(&str, &str)]) -> McpServer {
    McpServer {
        name: name.into(),
        enabled: true,
        transport: McpServerTransport::Stdio {
            command: command.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
        },
        allowed_tools: vec![],
    }
}

/// Each MCP result the conversation's mirror holds: whether it failed, and its content as JSON.
fn mcp_results(fx: &crate::common::app::AppFx, id: &str) -> Vec<(bool, String)> {
    fx.app
        .conversations
        .events(id)
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.body {
            berth_protocol::EventBody::ObservationEvent {
                observation: berth_protocol::Observation::McpToolObservation(o),
                ..
            } => Some((o.is_error, serde_json::to_string(&o.content).unwrap())),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn settings_mcp_servers_give_the_agent_their_tools() {
    let everything = mcp_server_everything().display().to_string();
    let time = mcp_server_time().display().to_string();
    let http = berth_test_support::McpHttpServer::start().await;
    let remote = McpServer {
        name: "remote".into(),
        enabled: true,
        transport: McpServerTransport::Http {
            url: http.url.clone(),
            headers: BTreeMap::new(),
            bearer_secret: Some("SERVICE_TOKEN".into()),
        },
        allowed_tools: vec!["get-sum".into()],
    };
    let servers = vec![
        remote,
        stdio(
            "everything",
            &everything,
            &["stdio"],
            &[("MCP_TOKEN", "${SERVICE_TOKEN}")],
        ),
        stdio("time", &time, &["--local-timezone", "UTC"], &[]),
        stdio("broken", "berth-no-such-mcp-server", &[], &[]),
    ];
    let fx = app_fixture(
        vec![
            Step::tool("everything_echo", json!({"message": "from the settings"})),
            Step::tool("time_get_current_time", json!({"timezone": "America/Lima"})),
            Step::tool("everything_get-env", json!({})),
            Step::tool("remote_get-sum", json!({"a": 1, "b": 2})),
            Step::tool("finish", json!({"message": "done"})),
        ],
        |s| s.mcp_servers = servers.clone(),
    )
    .await;
    fx.app
        .library
        .secrets
        .set(SecretKind::Custom, "SERVICE_TOKEN", "tok-app-61c2", None)
        .unwrap();
    let settings_file = std::fs::read_to_string(fx.home.join("berth.db")).unwrap_or_default();
    assert!(
        !settings_file.contains("tok-app-61c2"),
        "the token is in the keychain only"
    );

    let ws = folder(&fx, "ws");
    let task = ready(&fx.app, &start_local(&fx, &ws, Some("use the MCP tools"))).await;
    let id = task.conversation_id.clone().unwrap();
    status(&fx.app, &id, "finished").await;

    let health: Vec<McpServerState> =
        command(&fx.app, "ConversationMcpServersGet", json!({"id": id})).await;
    let of = |n: &str| health.iter().find(|s| s.name == n).unwrap();
    assert_eq!(of("everything").health, McpServerHealth::Connected);
    assert_eq!(of("time").health, McpServerHealth::Connected);
    match &of("broken").health {
        McpServerHealth::Failed { error, .. } => {
            assert!(error.contains("berth-no-such-mcp-server"), "{error}")
        }
        other => panic!("{other:?}"),
    }

    let observations: Vec<String> = mcp_results(&fx, &id).into_iter().map(|r| r.1).collect();
    assert_eq!(observations.len(), 4, "{observations:?}");
    assert!(
        observations[3].contains("The sum of 1 and 2 is 3."),
        "over HTTP"
    );
    assert_eq!(of("remote").tools.len(), 1, "only its allowed tool");
    assert!(observations[0].contains("Echo: from the settings"));
    assert!(observations[1].contains("America/Lima"));
    assert!(
        observations[2].contains("MCP_TOKEN") && !observations[2].contains("tok-app-61c2"),
        "the server got the token; the agent reads it masked: {}",
        observations[2]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_test_button_lists_tools_or_says_why_not_and_json_imports() {
    let fx = app_fixture(vec![], |_| {}).await;
    let everything = mcp_server_everything().display().to_string();
    let ok: McpTestResponse = command(
        &fx.app,
        "McpServerTest",
        serde_json::to_value(stdio("everything", &everything, &["stdio"], &[])).unwrap(),
    )
    .await;
    match ok {
        McpTestResponse::Success { tools, .. } => assert!(tools.contains(&"echo".to_string())),
        other => panic!("{other:?}"),
    }
    let missing: McpTestResponse = command(
        &fx.app,
        "McpServerTest",
        serde_json::to_value(stdio("gh", "berth-no-such-mcp-server", &[], &[])).unwrap(),
    )
    .await;
    assert!(
        matches!(&missing, McpTestResponse::Failure { error, .. } if error.contains("berth-no-such-mcp-server")),
        "{missing:?}"
    );

    let imported: Vec<McpServer> = command(
        &fx.app,
        "McpServersImport",
        json!({"json": r#"{"mcpServers": {"fs": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]}}}"#}),
    )
    .await;
    assert_eq!(imported.len(), 1);
    assert_eq!(imported[0].name, "fs");
    let request =
        serde_json::from_value(json!({"command": "McpServersImport", "args": {"json": "{"}}))
            .unwrap();
    let refused = berth_app::api::dispatch(&fx.app, request)
        .await
        .unwrap_err();
    assert!(format!("{refused:?}").contains("not JSON"), "{refused:?}");
}

/// `docs/security.md` B27. A prompt-injected agent uses its MCP servers to get at what its
/// commands cannot: a filesystem server the user gave the whole disk is asked for a key in the
/// user's `~/.ssh`, and another server for its environment (the agent-server's keys). The
/// servers run as confined as the agent's commands and with an environment of their own.
#[tokio::test(flavor = "multi_thread")]
async fn an_agents_mcp_servers_are_confined_like_its_commands() {
    let key = crate::common::PlantedKey::plant();
    let fs = berth_test_support::mcp_server_filesystem()
        .display()
        .to_string();
    let everything = mcp_server_everything().display().to_string();
    let servers = vec![
        stdio("fs", &fs, &["/"], &[]),
        stdio("everything", &everything, &["stdio"], &[]),
    ];
    let fx = app_fixture(
        vec![
            Step::tool("fs_read_text_file", json!({"path": key.path})),
            Step::tool("everything_get-env", json!({})),
            Step::tool("finish", json!({"message": "done"})),
        ],
        |s| s.mcp_servers = servers.clone(),
    )
    .await;
    let ws = folder(&fx, "ws");
    let task = ready(&fx.app, &start_local(&fx, &ws, Some("read the key"))).await;
    let id = task.conversation_id.clone().unwrap();
    status(&fx.app, &id, "finished").await;
    let results = mcp_results(&fx, &id);
    assert_eq!(results.len(), 2, "{results:?}");
    assert!(results[0].0, "reading the key must fail: {results:?}");
    assert!(
        !results[0].1.contains(&key.secret),
        "the key leaked: {}",
        results[0].1
    );
    let env = &results[1].1;
    assert!(env.contains("PATH"), "{env}");
    for name in [
        "SESSION_API_KEY",
        "OH_SECRET_KEY",
        "BERTH_KEYS_FILE",
        "BERTH_HOME",
    ] {
        assert!(!env.contains(name), "{name} reached an MCP server: {env}");
    }
    let all = serde_json::to_string(&fx.app.conversations.events(&id).unwrap()).unwrap();
    assert!(!all.contains(&key.secret));
}

/// Copies `from` into `to`, folders and all.
fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    let ok = std::process::Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "cannot copy {} to {}", from.display(), to.display());
}

/// In a Docker sandbox a stdio server runs inside the container: a real npm server on the
/// image's Node.js and a real PyPI server on its Python (their packages in the workspace) answer
/// the agent, while a program that exists only on the host is "no such program" there.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine (run by .ci/test when one answers)"]
async fn docker_stdio_mcp_servers_run_inside_the_container() {
    let on_host = mcp_server_everything().display().to_string();
    let servers = vec![
        stdio(
            "everything",
            "node",
            &[
                "/workspace/project/.mcp-npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js",
                "stdio",
            ],
            &[],
        ),
        stdio(
            "time",
            "python3",
            &["-m", "mcp_server_time", "--local-timezone", "UTC"],
            &[("PYTHONPATH", "/workspace/project/.mcp-py")],
        ),
        stdio("host", &on_host, &["stdio"], &[]),
    ];
    let fx = crate::common::app::app_fixture_on(
        berth_app::settings::Runtime::Docker,
        vec![
            Step::tool(
                "time_get_current_time",
                json!({"timezone": "Africa/Nairobi"}),
            ),
            Step::tool(
                "everything_echo",
                json!({"message": "inside the container"}),
            ),
            Step::tool("finish", json!({"message": "done"})),
        ],
        |s| s.mcp_servers = servers.clone(),
    )
    .await;
    let ws = fx.tmp.path().join("project");
    std::fs::create_dir_all(&ws).unwrap();
    let packages = mcp_server_time()
        .parent()
        .and_then(|bin| bin.parent())
        .map(|venv| venv.join("lib/python3.11/site-packages"))
        .unwrap();
    copy_tree(&packages, &ws.join(".mcp-py"));
    let modules = mcp_server_everything()
        .ancestors()
        .find(|p| p.ends_with("node_modules"))
        .map(std::path::Path::to_path_buf)
        .unwrap();
    std::fs::create_dir_all(ws.join(".mcp-npm")).unwrap();
    copy_tree(&modules, &ws.join(".mcp-npm"));
    crate::common::users_folder(&ws);
    let task = ready(&fx.app, &start_local(&fx, &ws, Some("what time is it"))).await;
    let id = task.conversation_id.clone().unwrap();
    status(&fx.app, &id, "finished").await;
    let results = mcp_results(&fx, &id);
    assert_eq!(results.len(), 2, "{results:?}");
    assert!(
        results[1].1.contains("Echo: inside the container"),
        "{results:?}"
    );
    assert!(
        !results[0].0 && results[0].1.contains("Africa/Nairobi"),
        "{results:?}"
    );
    let health: Vec<McpServerState> =
        command(&fx.app, "ConversationMcpServersGet", json!({"id": id})).await;
    match &health.iter().find(|s| s.name == "host").unwrap().health {
        McpServerHealth::Failed { error, .. } => {
            assert!(error.contains("no such program"), "{error}")
        }
        other => panic!("the host's program ran in the container: {other:?}"),
    }
    fx.remove_sandboxes().await;
}
