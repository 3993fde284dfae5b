//! Runs the real `berth` binary on a temporary Berth home, with a scripted LLM as the active
//! profile (its key stored through `berth settings add-profile --key-stdin`, in the keychain).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use berth_scripted_llm::{ScriptedLlm, Step};

pub const LLM_KEY: &str = "sk-cli-test-51f0c2";

pub struct Home {
    pub tmp: tempfile::TempDir,
    pub home: PathBuf,
    pub log: PathBuf,
}

/// The agent-server binary of this workspace.
pub fn server_binary() -> PathBuf {
    berth_test_support::agent_server_binary()
}

impl Home {
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("berth-home");
        let log = tmp.path().join("berth.log");
        Self { tmp, home, log }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth-cli"));
        cmd.args(args)
            .env("BERTH_HOME", &self.home)
            .env("BERTH_AGENT_SERVER_BIN", server_binary())
            .env("BERTH_LOG", "info")
            .env("BERTH_LOG_FILE", &self.log)
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `berth ARGS` with `stdin`, to the end.
    pub fn berth(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = self.command(args);
        if stdin.is_some() {
            cmd.stdin(Stdio::piped());
        }
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("cannot run berth");
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(text.as_bytes()).unwrap();
        }
        child.wait_with_output().unwrap()
    }

    /// `berth ARGS` must succeed; its stdout.
    pub fn ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.berth(args, stdin);
        assert!(
            out.status.success(),
            "berth {args:?} failed ({:?}):\n{}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A profile for the scripted LLM, made active, its key in the keychain.
    pub fn use_llm(&self, llm: &ScriptedLlm) {
        self.ok(
            &[
                "settings",
                "add-profile",
                "scripted",
                "--model",
                "openai/scripted",
                "--base-url",
                &llm.openai_base_url(),
                "--key-stdin",
                "--activate",
            ],
            Some(LLM_KEY),
        );
    }

    pub fn folder(&self, name: &str) -> PathBuf {
        let p = self.tmp.path().join(name);
        std::fs::create_dir_all(&p).unwrap();
        p
    }
}

pub async fn llm(script: Vec<Step>) -> ScriptedLlm {
    ScriptedLlm::start(script).await.unwrap()
}
