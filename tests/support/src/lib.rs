//! Helpers the workspace's tests share.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Asks `check` every 20 ms until it answers `Some`, for at most `within`: how a test waits for
/// something to happen, instead of sleeping and hoping. Panics naming `what` when it never does.
pub async fn wait_until<T, F, Fut>(what: &str, within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The workspace's root folder.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The debug `berth-agent-server` of this workspace, which sandboxes run (`cargo nextest run
/// --workspace` builds it; a lone `-p` run builds it here).
pub fn agent_server_binary() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    let bin = target.join("debug/berth-agent-server");
    if !bin.is_file() {
        let ok =
            std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args(["build", "-q", "-p", "berth-agent-server"])
                .current_dir(workspace_root())
                .status()
                .is_ok_and(|s| s.success());
        assert!(ok, "could not build berth-agent-server");
    }
    bin
}

/// Runs git in `dir`; a failure fails the test with git's own words.
pub fn git(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run git {args:?}: {e}"));
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Makes `dir` a git repository on `main` holding `files` (paths relative to it, folders made as
/// needed), committed once by "t <t@e>" whatever the machine's git identity.
pub fn committed_repo(dir: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let file = dir.join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", parent.display()));
        }
        std::fs::write(&file, text)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", file.display()));
    }
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "."]);
    commit(dir, "init");
}

/// Commits what is staged, as "t <t@e>" whatever the machine's git identity.
pub fn commit(dir: &Path, message: &str) {
    git(
        dir,
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@e",
            "commit",
            "-qm",
            message,
        ],
    );
}

/// The npm MCP server the tests run (`@modelcontextprotocol/server-everything`), installed by
/// `tests/mcp-servers/install.sh` (which `.ci/run` runs). Missing, a test fails saying how to
/// install it: a real server is the point of those tests.
pub fn mcp_server_everything() -> PathBuf {
    installed_mcp_server("node_modules/.bin/mcp-server-everything")
}

/// `@modelcontextprotocol/server-filesystem` from npm (stdio): file tools over the folders
/// given as arguments.
pub fn mcp_server_filesystem() -> PathBuf {
    installed_mcp_server("node_modules/.bin/mcp-server-filesystem")
}

/// `mcp-server-time` from PyPI (stdio), installed by `tests/mcp-servers/install.sh`.
pub fn mcp_server_time() -> PathBuf {
    installed_mcp_server("py/bin/mcp-server-time")
}

/// A broken stdio MCP server: it lists `ok` and `die`, and exits in the middle of a `die` call.
pub fn mcp_server_dies_on_call() -> PathBuf {
    workspace_root().join("tests/mcp-servers/dies-on-call.py")
}

fn installed_mcp_server(path: &str) -> PathBuf {
    let bin = workspace_root().join("target/mcp-servers").join(path);
    assert!(
        bin.is_file(),
        "{} is missing: run tests/mcp-servers/install.sh",
        bin.display()
    );
    bin
}

/// `@modelcontextprotocol/server-everything` over streamable HTTP on a free loopback port, for
/// as long as this lives.
pub struct McpHttpServer {
    _child: tokio::process::Child,
    /// Its MCP endpoint (`http://127.0.0.1:PORT/mcp`).
    pub url: String,
}

impl McpHttpServer {
    /// Starts it and waits until it listens.
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("no free port: {e}"));
        let child = tokio::process::Command::new(mcp_server_everything())
            .arg("streamableHttp")
            .env("PORT", port.to_string())
            .kill_on_drop(true)
            .stderr(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the HTTP MCP server: {e}"));
        wait_until(
            "the HTTP MCP server to listen",
            Duration::from_secs(30),
            || async {
                tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .ok()
            },
        )
        .await;
        Self {
            _child: child,
            url: format!("http://127.0.0.1:{port}/mcp"),
        }
    }
}
