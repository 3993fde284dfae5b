//! The MCP client against a real server from npm (`@modelcontextprotocol/server-everything`),
//! over stdio and over streamable HTTP, and against servers that are broken in the ways users
//! meet: a program that does not exist, one that never answers, the legacy SSE transport.

use std::collections::BTreeMap;
use std::time::Duration;

use berth_agent::mcp::{self, McpContent, McpError, McpTimeouts, McpTransport};
use berth_test_support::{mcp_server_everything, wait_until};
use serde_json::json;

fn stdio(command: &str, args: &[&str], env: &[(&str, &str)]) -> McpTransport {
    McpTransport::Stdio {
        command: command.into(),
        args: args.iter().map(|a| a.to_string()).collect(),
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        cwd: None,
    }
}

fn texts(content: &[McpContent]) -> String {
    content
        .iter()
        .filter_map(|c| match c {
            McpContent::Text(t) => Some(t.as_str()),
            McpContent::Image { .. } => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn a_stdio_server_lists_its_tools_and_answers_calls() {
    let server = mcp_server_everything();
    let transport = stdio(
        server.to_str().unwrap(),
        &["stdio"],
        &[("MCP_TEST_OWN", "its-own-value")],
    );
    let client = mcp::connect(&transport, McpTimeouts::default())
        .await
        .unwrap();
    let tools = client.tools().await.unwrap();
    let echo = tools
        .iter()
        .find(|t| t.name == "echo")
        .expect("no echo tool");
    assert_eq!(echo.input_schema["properties"]["message"]["type"], "string");

    let said = client
        .call("echo", json!({"message": "hi from Berth"}))
        .await
        .unwrap();
    assert!(!said.is_error);
    assert_eq!(texts(&said.content), "Echo: hi from Berth");

    let image = client.call("get-tiny-image", json!({})).await.unwrap();
    assert!(
        image.content.iter().any(|c| matches!(c, McpContent::Image { mime_type, base64 } if mime_type == "image/png" && !base64.is_empty())),
        "{image:?}"
    );

    // Its environment is its own plus the basics, not the test runner's.
    let env = client.call("get-env", json!({})).await.unwrap();
    let env: serde_json::Value = serde_json::from_str(&texts(&env.content)).unwrap();
    assert_eq!(env["MCP_TEST_OWN"], "its-own-value");
    assert!(env.get("PATH").is_some());
    assert!(env.get("CARGO_MANIFEST_DIR").is_none(), "{env}");
}

#[tokio::test]
async fn a_streamable_http_server_answers_calls() {
    let server = berth_test_support::McpHttpServer::start().await;
    let transport = McpTransport::StreamableHttp {
        url: server.url.clone(),
        headers: BTreeMap::from([("X-Berth-Test".to_string(), "1".to_string())]),
    };
    let client = mcp::connect(&transport, McpTimeouts::default())
        .await
        .unwrap();
    assert!(
        client
            .tools()
            .await
            .unwrap()
            .iter()
            .any(|t| t.name == "get-sum")
    );
    let sum = client
        .call("get-sum", json!({"a": 2, "b": 3}))
        .await
        .unwrap();
    assert_eq!(texts(&sum.content), "The sum of 2 and 3 is 5.");
    drop(client);
}

#[tokio::test]
async fn broken_servers_fail_with_what_went_wrong() {
    let quick = McpTimeouts {
        start: Duration::from_secs(2),
        ..McpTimeouts::default()
    };
    let missing = mcp::connect(&stdio("berth-no-such-mcp-server", &[], &[]), quick)
        .await
        .err()
        .unwrap();
    assert!(
        matches!(&missing, McpError::Start(why) if why.contains("berth-no-such-mcp-server")),
        "{missing}"
    );
    // A server that fails at start says why on stderr: the error carries it.
    let crashed = mcp::connect(
        &stdio(
            "sh",
            &["-c", "echo 'GITHUB_TOKEN is not set' >&2; exit 1"],
            &[],
        ),
        quick,
    )
    .await
    .err()
    .unwrap();
    assert!(
        crashed.to_string().contains("GITHUB_TOKEN is not set"),
        "{crashed}"
    );
    // A program that never speaks MCP: the start deadline ends the wait.
    let started = std::time::Instant::now();
    let silent = mcp::connect(&stdio("sleep", &["60"], &[]), quick)
        .await
        .err()
        .unwrap();
    assert_eq!(silent, McpError::Timeout(Duration::from_secs(2)));
    assert_eq!(silent.kind(), berth_protocol::McpErrorKind::Timeout);
    assert!(started.elapsed() < Duration::from_secs(10));
    let sse = mcp::connect(
        &McpTransport::Sse {
            url: "http://127.0.0.1:9/sse".into(),
        },
        quick,
    )
    .await
    .err()
    .unwrap();
    assert_eq!(sse, McpError::SseUnsupported);
    assert!(sse.to_string().contains("streamable HTTP"));
}

/// The agent calls an MCP server's tool like any other: the call and its answer are recorded
/// as OpenHands records them, and the answer is the real server's.
#[tokio::test]
async fn the_agent_calls_an_mcp_tool_and_reads_its_real_answer() {
    use berth_agent::tools::mcp::tools_of;
    use berth_protocol::{Action, EventBody, Message, Observation};
    use berth_scripted_llm::Step;
    let server = mcp_server_everything();
    let client: std::sync::Arc<dyn mcp::McpClient> = mcp::connect(
        &stdio(server.to_str().unwrap(), &["stdio"], &[]),
        McpTimeouts::default(),
    )
    .await
    .unwrap()
    .into();
    let tools = tools_of(client).await.unwrap();
    let fx = crate::common::fixture::setup_with_tools(
        vec![
            Step::tool(
                "echo",
                json!({"message": "through MCP", "summary": "echo it"}),
            ),
            Step::tool("finish", json!({"message": "done"})),
        ],
        tools,
        |_| {},
    )
    .await;
    fx.conv.send_message(Message::user("echo something"));
    fx.conv.run().await.unwrap();
    let events = fx.conv.events();
    let action = events.iter().find_map(|e| match &e.body {
        EventBody::ActionEvent {
            action: Some(Action::McpToolAction(a)),
            tool_name,
            ..
        } => Some((tool_name.clone(), a.data.clone())),
        _ => None,
    });
    let (name, data) = action.expect("no MCPToolAction");
    assert_eq!(name, "echo");
    assert_eq!(data["message"], "through MCP");
    let observation = events.iter().find_map(|e| match &e.body {
        EventBody::ObservationEvent {
            observation: Observation::McpToolObservation(o),
            ..
        } => Some(o.clone()),
        _ => None,
    });
    let o = observation.expect("no MCPToolObservation");
    let texts: Vec<_> = o.content.iter().filter_map(|c| c.as_text()).collect();
    assert_eq!(texts, ["[Tool 'echo' executed.]", "Echo: through MCP"]);
    assert!(!o.is_error);
    // The LLM was offered the tool with the server's own schema.
    let offered = &fx.llm.requests()[0].body["tools"];
    let echo = offered
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["function"]["name"] == "echo")
        .expect("echo was not offered");
    assert_eq!(
        echo["function"]["parameters"]["properties"]["message"]["type"],
        "string"
    );
}

/// What a stdio server starts dies with its client: the whole process group goes, not only the
/// server's own process.
#[tokio::test]
async fn a_stdio_servers_processes_die_with_its_client() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("helper.pid");
    let script = format!(
        "sleep 300 & echo $! > {} ; exec {} stdio",
        pidfile.display(),
        mcp_server_everything().display()
    );
    let client = mcp::connect(&stdio("sh", &["-c", &script], &[]), McpTimeouts::default())
        .await
        .unwrap();
    let helper: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let alive = |pid: i32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "))
    };
    assert!(alive(helper));
    drop(client);
    wait_until(
        "the server's helper to die",
        Duration::from_secs(10),
        || async { (!alive(helper)).then_some(()) },
    )
    .await;
}

fn server(name: &str, transport: McpTransport) -> mcp::config::McpServerConfig {
    mcp::config::McpServerConfig {
        name: name.into(),
        transport,
        timeout: None,
        allowed_tools: Vec::new(),
    }
}

/// The error of a server that failed as `kind`.
fn failure(health: &berth_protocol::McpServerHealth, kind: berth_protocol::McpErrorKind) -> String {
    match health {
        berth_protocol::McpServerHealth::Failed { error, error_kind } if *error_kind == kind => {
            error.clone()
        }
        other => panic!("expected a {kind:?} failure, got {other:?}"),
    }
}

/// One server that works, one whose program does not exist, one that never answers, and a
/// PyPI server: started side by side, the working ones' tools are there (named after their
/// server, as OpenHands names them when there are several) within the hanging one's start
/// deadline, and each broken one says why.
#[tokio::test]
async fn broken_servers_cost_only_their_own_tools() {
    use berth_protocol::{McpErrorKind, McpServerHealth};
    let everything = mcp_server_everything();
    let time = berth_test_support::mcp_server_time();
    let quick = McpTimeouts {
        start: Duration::from_secs(3),
        ..McpTimeouts::default()
    };
    let started = std::time::Instant::now();
    let servers = berth_agent::tools::mcp::McpServers::start(
        vec![
            server(
                "everything",
                stdio(everything.to_str().unwrap(), &["stdio"], &[]),
            ),
            server("missing", stdio("berth-no-such-mcp-server", &[], &[])),
            server("hangs", stdio("sleep", &["60"], &[])),
            mcp::config::McpServerConfig {
                allowed_tools: vec!["get_current_time".into()],
                ..server(
                    "time",
                    stdio(time.to_str().unwrap(), &["--local-timezone", "UTC"], &[]),
                )
            },
        ],
        quick,
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let states = servers.states();
    let by_name = |n: &str| states.iter().find(|s| s.name == n).unwrap();
    assert_eq!(by_name("everything").health, McpServerHealth::Connected);
    assert!(
        by_name("everything")
            .tools
            .iter()
            .any(|t| t.name == "everything_echo")
    );
    assert_eq!(by_name("time").health, McpServerHealth::Connected);
    let time_tools: Vec<&str> = by_name("time")
        .tools
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(
        time_tools,
        ["time_get_current_time"],
        "only the allowed tool"
    );
    let missing = failure(&by_name("missing").health, McpErrorKind::Connection);
    assert!(missing.contains("berth-no-such-mcp-server"), "{missing}");
    failure(&by_name("hangs").health, McpErrorKind::Timeout);
    assert!(by_name("hangs").tools.is_empty());

    let tools = servers.tools();
    let now = tools
        .iter()
        .find(|t| t.name() == "time_get_current_time")
        .unwrap();
    let action = now.parse(json!({"timezone": "Europe/Paris"})).unwrap();
    let obs = now
        .execute(
            &action,
            &berth_agent::tools::ToolContext::new(std::env::temp_dir()),
        )
        .await;
    let text = serde_json::to_string(&obs).unwrap();
    assert!(
        text.contains("Europe/Paris") && text.contains("datetime"),
        "{text}"
    );
}

/// A server that dies in the middle of a call is started again once for that call; when it
/// dies again the call is an error the agent reads and the server shows as failed; the next
/// call starts it again and it is healthy.
#[tokio::test]
async fn a_server_that_dies_mid_call_is_started_again_once() {
    use berth_protocol::{McpServerHealth, Observation};
    let script = berth_test_support::mcp_server_dies_on_call();
    let servers = berth_agent::tools::mcp::McpServers::start(
        vec![server("fragile", stdio(script.to_str().unwrap(), &[], &[]))],
        McpTimeouts::default(),
    )
    .await;
    let tools = servers.tools();
    let tool = |n: &str| tools.iter().find(|t| t.name() == n).unwrap().clone();
    let ctx = berth_agent::tools::ToolContext::new(std::env::temp_dir());
    let call = |n: &'static str| {
        let tool = tool(n);
        let ctx = &ctx;
        async move {
            let action = tool.parse(json!({})).unwrap();
            match tool.execute(&action, ctx).await {
                Observation::McpToolObservation(o) => o,
                other => panic!("{other:?}"),
            }
        }
    };
    assert!(!call("ok").await.is_error);
    let died = call("die").await;
    assert!(died.is_error);
    let said = serde_json::to_string(&died.content).unwrap();
    assert!(
        said.contains("connecting again") || said.contains("connection"),
        "{said}"
    );
    assert!(matches!(
        servers.states()[0].health,
        McpServerHealth::Failed { .. }
    ));
    let back = call("ok").await;
    assert!(!back.is_error, "{back:?}");
    assert!(
        serde_json::to_string(&back.content)
            .unwrap()
            .contains("still here")
    );
    assert_eq!(servers.states()[0].health, McpServerHealth::Connected);
}

/// Confirmation mode reads an MCP tool's annotations: a read-only tool is a low risk and runs,
/// one that may destroy (the MCP default) is a high risk and waits for the user.
#[tokio::test]
async fn confirmation_takes_an_mcp_tools_risk_from_its_annotations() {
    use berth_protocol::{ConfirmationPolicy, ExecutionStatus, Message, SecurityRisk};
    use berth_scripted_llm::Step;
    let script = berth_test_support::mcp_server_dies_on_call();
    let servers = berth_agent::tools::mcp::McpServers::start(
        vec![server("fragile", stdio(script.to_str().unwrap(), &[], &[]))],
        McpTimeouts::default(),
    )
    .await;
    let fx = crate::common::fixture::setup_with_tools(
        vec![
            Step::tool("ok", json!({})),
            Step::tool("die", json!({})),
            Step::tool("finish", json!({"message": "done"})),
        ],
        servers.tools(),
        |r| {
            r.confirmation_policy = ConfirmationPolicy::ConfirmRisky {
                threshold: SecurityRisk::High,
                confirm_unknown: true,
            };
        },
    )
    .await;
    fx.conv.send_message(Message::user("use the tools"));
    let status = fx.conv.run().await.unwrap();
    assert_eq!(status, ExecutionStatus::WaitingForConfirmation);
    let pending = fx.conv.pending_actions();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].tool_name, "die");
    assert_eq!(pending[0].security_risk, SecurityRisk::High);
    let ran = fx.conv.events().iter().any(|e| {
        matches!(&e.body, berth_protocol::EventBody::ObservationEvent { tool_name, .. } if tool_name == "ok")
    });
    assert!(ran, "the read-only tool runs without asking");
}
