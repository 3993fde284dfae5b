//! Compatibility with OpenHands' own Python client: `openhands-sdk` 1.58.2, unmodified, drives
//! a real `berth-agent-server` process, whose agent talks to the scripted LLM. The venv comes from
//! `tests/python-client/setup-venv.sh` (`.ci/run` runs it); `BERTH_OH_VENV` overrides its place.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use berth_scripted_llm::{ScriptedLlm, Step};
use serde_json::{Value, json};

use crate::common;

use common::{KEY, Server};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn venv_python() -> PathBuf {
    let venv = std::env::var_os("BERTH_OH_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/oh-venv"));
    let py = venv.join("bin/python");
    assert!(
        py.is_file(),
        "OpenHands' Python client is not installed at {}: run tests/python-client/setup-venv.sh first",
        venv.display()
    );
    py
}

struct PyRun {
    child: tokio::process::Child,
}

fn python(
    script: &str,
    server: &Server,
    llm: &ScriptedLlm,
    workspace: &Path,
    extra: &[(&str, String)],
) -> PyRun {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/python-client");
    let mut cmd = tokio::process::Command::new(venv_python());
    cmd.arg(dir.join(script))
        .current_dir(&dir)
        .env("SERVER_URL", &server.url)
        .env("SESSION_API_KEY", KEY)
        .env("LLM_BASE_URL", llm.openai_base_url())
        .env("WORKSPACE", workspace)
        .env("PYTHONUNBUFFERED", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in extra {
        cmd.env(k, v);
    }
    PyRun {
        child: cmd.spawn().expect("cannot run python"),
    }
}

impl PyRun {
    /// Waits for the script and returns its RESULT object.
    async fn result(self) -> Value {
        let out = tokio::time::timeout(Duration::from_secs(120), self.child.wait_with_output())
            .await
            .expect("the Python client did not finish in 120 s")
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "python failed: {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
            out.status
        );
        parse_result(&stdout)
            .unwrap_or_else(|| panic!("no RESULT line\nstdout:\n{stdout}\nstderr:\n{stderr}"))
    }

    /// Reads lines until the first RESULT object (the process keeps running).
    async fn first_result(&mut self) -> Value {
        use tokio::io::{AsyncBufReadExt, BufReader};
        let stdout = self.child.stdout.take().expect("no stdout");
        let mut lines = BufReader::new(stdout).lines();
        let read = async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(v) = parse_result(&line) {
                    return v;
                }
            }
            panic!("the script ended without a RESULT line");
        };
        tokio::time::timeout(Duration::from_secs(60), read)
            .await
            .expect("no RESULT within 60 s")
    }
}

/// A workspace, a scripted LLM with `script`, and a server.
async fn fixture(script: Vec<Step>) -> (tempfile::TempDir, PathBuf, ScriptedLlm, Server) {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("project");
    std::fs::create_dir_all(&ws).unwrap();
    let llm = ScriptedLlm::start(script).await.unwrap();
    let server = Server::start(tmp.path(), &[]).await;
    (tmp, ws, llm, server)
}

fn parse_result(text: &str) -> Option<Value> {
    text.lines()
        .rev()
        .find_map(|l| l.strip_prefix("RESULT "))
        .and_then(|j| serde_json::from_str(j).ok())
}

fn kinds(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| k.as_str().map(str::to_string))
        .filter(|k| k != "ConversationStateUpdateEvent")
        .collect()
}

async fn events_via_rest(server: &Server, id: &str) -> Vec<Value> {
    let client = reqwest::Client::new();
    let r: Value = client
        .get(format!(
            "{}/api/conversations/{id}/events/search?limit=100",
            server.url
        ))
        .header("X-Session-API-Key", KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["items"].as_array().cloned().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_sends_a_message_and_runs_to_the_finish() {
    let (_tmp, ws, llm, server) = fixture(vec![
        Step::tool(
            "terminal",
            json!({"command": "echo hello > out.txt && cat out.txt", "summary": "write out.txt"}),
        ),
        Step::tool("finish", json!({"message": "Wrote hello to out.txt"})),
    ])
    .await;
    let r = python("send_and_run.py", &server, &llm, &ws, &[])
        .result()
        .await;
    assert_eq!(r["status"], "finished", "{r:#}");
    assert_eq!(
        std::fs::read_to_string(ws.join("out.txt")).unwrap(),
        "hello\n"
    );
    assert_eq!(
        kinds(&r["kinds"]),
        [
            "SystemPromptEvent",
            "MessageEvent",
            "ActionEvent",
            "ObservationEvent",
            "ActionEvent",
            "ObservationEvent"
        ]
    );
    // The socket delivered the live events to the client's callbacks.
    let received = kinds(&r["received"]);
    assert!(
        received.contains(&"ObservationEvent".to_string()),
        "{received:?}"
    );
    // The workspace command API (start_bash_command + bash_events/search polling).
    assert_eq!(r["bash_exit"], 0);
    assert_eq!(r["bash_stdout"], "hello\nvia-bash-api\n");
    // The server holds the same events, and the LLM saw the tool result after its call.
    let events = events_via_rest(&server, r["id"].as_str().unwrap()).await;
    let client_ids: Vec<&str> = r["ids"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    for e in &events {
        assert!(
            client_ids.contains(&e["id"].as_str().unwrap()),
            "the client lacks {e}"
        );
    }
    let second = &llm.requests()[1].body;
    assert_eq!(second["messages"][3]["role"], "tool");
    assert!(
        second["messages"][3]["content"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("hello\n[The command completed with exit code 0.]")
    );
    server.kill().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_rejects_then_accepts_in_confirmation_mode() {
    let (_tmp, ws, llm, server) = fixture(vec![
        Step::tool("terminal", json!({"command": "echo one > one.txt"})),
        Step::tool("terminal", json!({"command": "echo two > two.txt"})),
        Step::tool("finish", json!({"message": "Created two.txt"})),
    ])
    .await;
    let r = python("confirmation.py", &server, &llm, &ws, &[])
        .result()
        .await;
    assert_eq!(r["first_wait"], "waiting_for_confirmation", "{r:#}");
    assert_eq!(r["after_reject"], "idle");
    assert_eq!(r["second_wait"], "waiting_for_confirmation");
    assert_eq!(r["status"], "finished");
    assert!(!ws.join("one.txt").exists(), "the rejected action ran");
    assert!(
        ws.join("two.txt").exists(),
        "the accepted action did not run"
    );
    assert!(kinds(&r["kinds"]).contains(&"UserRejectObservation".to_string()));
    server.kill().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_pauses_during_a_long_command_and_resumes() {
    let (_tmp, ws, llm, server) = fixture(vec![
        Step::tool(
            "terminal",
            json!({"command": "sleep 3 && echo done > slept.txt"}),
        ),
        Step::tool("finish", json!({"message": "The slow job ran"})),
    ])
    .await;
    let r = python("pause.py", &server, &llm, &ws, &[]).result().await;
    assert_eq!(r["paused"], "paused", "{r:#}");
    assert_eq!(r["status"], "finished");
    let k = kinds(&r["kinds"]);
    assert!(k.contains(&"PauseEvent".to_string()), "{k:?}");
    assert!(ws.join("slept.txt").exists());
    assert_eq!(llm.remaining(), 0);
    server.kill().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_continues_a_conversation_after_the_server_is_killed_and_restarted() {
    let (tmp, ws, llm, server) = fixture(vec![
        Step::tool(
            "terminal",
            json!({"command": "echo started > started.txt && sleep 60"}),
        ),
        Step::tool("terminal", json!({"command": "cat started.txt"})),
        Step::tool("finish", json!({"message": "Recovered after the restart"})),
    ])
    .await;
    let mut phase1 = python("restart_phase1.py", &server, &llm, &ws, &[]);
    let id = phase1.first_result().await["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Wait until the long command is running, then kill the server mid-run.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ws.join("started.txt").exists() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ws.join("started.txt").exists());
    let before_kill = events_via_rest(&server, &id).await.len();
    server.kill().await;
    let _ = phase1.child.kill().await;

    let server = Server::start(tmp.path(), &[]).await;
    let r = python(
        "restart_phase2.py",
        &server,
        &llm,
        &ws,
        &[("CONVERSATION_ID", id.clone())],
    )
    .result()
    .await;
    assert_eq!(r["status_before"], "error", "{r:#}");
    let before = kinds(&r["before"]);
    assert!(before.len() >= 4, "{before:?}");
    assert!(
        before.contains(&"AgentErrorEvent".to_string()),
        "the interrupted command gets an error: {before:?}"
    );
    assert_eq!(r["status"], "finished");
    let events = events_via_rest(&server, &id).await;
    assert!(events.len() > before_kill);
    assert_eq!(llm.remaining(), 0);
    server.kill().await;
}

/// OpenHands' client creates a conversation whose agent has an `mcp_config`; the agent calls the
/// MCP server's tool through Berth, and the client reads the server's real answer as an
/// `MCPToolObservation`.
#[tokio::test(flavor = "multi_thread")]
async fn a_client_agent_with_an_mcp_config_calls_its_tool() {
    let (_tmp, ws, llm, server) = fixture(vec![
        Step::tool("echo", json!({"message": "from the Python client"})),
        Step::tool("finish", json!({"message": "echoed"})),
    ])
    .await;
    let everything = berth_test_support::mcp_server_everything();
    let r = python(
        "mcp_tool.py",
        &server,
        &llm,
        &ws,
        &[("MCP_EVERYTHING", everything.display().to_string())],
    )
    .result()
    .await;
    assert_eq!(r["status"], "finished", "{r:#}");
    let observation = &r["observations"][0];
    assert_eq!(observation["kind"], "MCPToolObservation", "{r:#}");
    assert_eq!(observation["tool_name"], "echo");
    assert_eq!(observation["is_error"], false);
    assert!(
        observation["content"]
            .to_string()
            .contains("Echo: from the Python client"),
        "{observation}"
    );
    // The LLM was offered the server's tool with its own schema.
    let offered = &llm.requests()[0].body["tools"];
    assert!(offered.to_string().contains("\"echo\""), "{offered}");
}
