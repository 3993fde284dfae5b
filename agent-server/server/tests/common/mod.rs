//! Starts a real `berth-agent-server` process on a free loopback port for tests.

pub mod api;

use std::path::Path;
use std::time::{Duration, Instant};

pub const KEY: &str = "test-session-key";

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(18080)
}

pub struct Server {
    pub child: tokio::process::Child,
    pub url: String,
    pub port: u16,
}

impl Server {
    /// A server keeping its data under `data`, with `env` added to its environment.
    pub async fn start(data: &Path, env: &[(&str, &str)]) -> Server {
        // The server's log goes to a file a test can read.
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data.join("server.log"))
            .expect("cannot open the server log");
        Self::start_logging_to(data, env, log.into()).await
    }

    /// Like [`Server::start`], with the server's stderr going to `stderr`.
    pub async fn start_logging_to(
        data: &Path,
        env: &[(&str, &str)],
        stderr: std::process::Stdio,
    ) -> Server {
        let port = free_port();
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_berth-agent-server"));
        cmd.args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .env("SESSION_API_KEY", KEY)
            .env("OH_CONVERSATIONS_PATH", data.join("conversations"))
            .env("OH_BASH_EVENTS_DIR", data.join("bash_events"))
            .env("BERTH_TERMINAL_NO_OUTPUT_TIMEOUT", "20")
            .env("LOG_LEVEL", "warn")
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.stderr(stderr);
        let child = cmd.spawn().expect("cannot start berth-agent-server");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if reqwest::get(format!("{url}/alive"))
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Server { child, url, port };
            }
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        panic!("berth-agent-server did not answer /alive");
    }

    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{path}", self.port)
    }
}
