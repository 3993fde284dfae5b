//! `berth mcp`: add a real npm server and a broken one, list them, test each (the tool list, or
//! the error and a failing exit code), import a Claude Desktop JSON file, remove; and a
//! `berth run` whose agent calls the real server's tool while the broken one is set up too.

use berth_scripted_llm::Step;
use serde_json::json;

use crate::common::{Home, llm};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_servers_from_the_command_line() {
    let home = Home::new();
    let everything = berth_test_support::mcp_server_everything();
    let everything = everything.to_str().unwrap();
    home.ok(
        &[
            "mcp",
            "add",
            "everything",
            "--env",
            "MCP_TOKEN=${SERVICE_TOKEN}",
            "--",
            everything,
            "stdio",
        ],
        None,
    );
    home.ok(
        &["mcp", "add", "broken", "--", "berth-no-such-mcp-server"],
        None,
    );
    let listed = home.ok(&["mcp", "list"], None);
    assert!(
        listed.contains("everything") && listed.contains("stdio"),
        "{listed}"
    );
    assert!(
        listed.contains("broken\tberth-no-such-mcp-server"),
        "{listed}"
    );

    let tested = home.ok(&["mcp", "test", "everything"], None);
    assert!(
        tested.contains("tools:") && tested.contains("echo"),
        "{tested}"
    );
    let broken = home.berth(&["mcp", "test", "broken"], None);
    assert_eq!(broken.status.code(), Some(1));
    let said = String::from_utf8_lossy(&broken.stdout);
    assert!(
        said.contains("not usable") && said.contains("no such program"),
        "{said}"
    );

    let file = home.tmp.path().join("claude_desktop_config.json");
    std::fs::write(
        &file,
        json!({"mcpServers": {"fs": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"], "enabled": false}}}).to_string(),
    )
    .unwrap();
    let imported = home.ok(&["mcp", "import", file.to_str().unwrap()], None);
    assert!(imported.contains("fs (disabled)"), "{imported}");
    let bad = home.berth(&["mcp", "add", "nothing"], None);
    assert_eq!(
        bad.status.code(),
        Some(4),
        "a server needs a program or a URL"
    );

    home.ok(&["mcp", "remove", "broken"], None);
    let listed = home.ok(&["mcp", "list"], None);
    assert!(!listed.contains("broken"), "{listed}");
    let gone = home.berth(&["mcp", "remove", "broken"], None);
    assert_eq!(gone.status.code(), Some(4));
}

/// `berth run` with a working and a broken server set up: the agent calls the working one's tool.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn berth_run_gives_the_agent_mcp_tools() {
    let home = Home::new();
    let everything = berth_test_support::mcp_server_everything();
    home.ok(
        &[
            "mcp",
            "add",
            "everything",
            "--",
            everything.to_str().unwrap(),
            "stdio",
        ],
        None,
    );
    home.ok(
        &["mcp", "add", "broken", "--", "berth-no-such-mcp-server"],
        None,
    );
    let llm = llm(vec![
        Step::tool("everything_echo", json!({"message": "from berth run"})),
        Step::tool("finish", json!({"message": "echoed"})),
    ])
    .await;
    home.use_llm(&llm);
    let ws = home.folder("project");
    let run = home.ok(
        &[
            "run",
            "--folder",
            ws.to_str().unwrap(),
            "--task",
            "echo through MCP",
            "--runtime",
            "process",
        ],
        None,
    );
    assert!(run.contains("Echo: from berth run"), "{run}");
}
