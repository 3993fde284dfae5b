//! The process sandbox: Berth's `berth-agent-server` as a local process, on a free loopback port,
//! with a fresh session key and the workspace as its working directory. Every command its agent
//! starts is OS-confined where the machine allows it (see [`super::confinement`]); the state the
//! agent-server reports is recorded with the sandbox and shown to the user.
//!
//! The process runs in its own process group (pause/resume signal the whole group, delete kills
//! it) and outlives the app, so a restarted app finds it again through the database. Its output
//! is kept in a bounded ring while this app instance runs. Its keys reach it in a keys file it
//! deletes (see [`super::keys`]), never in its environment.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use berth_protocol::ConfinementState;
use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;

use super::keys::{SandboxKeys, write_private};
use super::logs::{LogRing, SandboxLogs};
use super::{
    HostAddress, Sandbox, SandboxError, SandboxKind, SandboxRecords, SandboxService, SandboxSpec,
    SandboxStatus,
};
use berth_store::paths::Paths;
use berth_store::store::Store;
use berth_store::time::now;

pub const BINARY: &str = "berth-agent-server";

pub struct ProcessSandboxService {
    paths: Paths,
    records: SandboxRecords,
    keys: SandboxKeys,
    binary: PathBuf,
    logs: SandboxLogs,
    http: reqwest::Client,
    pub health_timeout: Duration,
    /// Ports the agent-servers may use (e.g. to match firewall rules); `None` = any free port.
    pub ports: Option<std::ops::RangeInclusive<u16>>,
}

/// The agent-server program: `BERTH_AGENT_SERVER_BIN`, else beside the running executable.
pub fn find_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("BERTH_AGENT_SERVER_BIN").map(PathBuf::from) {
        return Some(p);
    }
    let exe = std::env::current_exe().ok()?;
    let beside = exe.parent()?.join(BINARY);
    beside.is_file().then_some(beside)
}

/// A port nothing listens on: any, or the first free one of `range` after `skip` tries.
fn free_port(
    range: Option<&std::ops::RangeInclusive<u16>>,
    skip: usize,
) -> Result<u16, SandboxError> {
    match range {
        None => std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|e| SandboxError::Start(format!("no free port on 127.0.0.1: {e}"))),
        Some(r) => r
            .clone()
            .filter(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
            .nth(skip)
            .ok_or_else(|| {
                SandboxError::Start(format!(
                    "every port from {} to {} is in use on 127.0.0.1; close what uses them or widen the sandbox port range",
                    r.start(),
                    r.end()
                ))
            }),
    }
}

/// Variables a process sandbox inherits from the app: what tools need to find themselves and
/// the network, nothing that grants access (no `*_TOKEN`, `AWS_*`, `DBUS_SESSION_BUS_ADDRESS`).
const PASSED: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LANGUAGE",
    "TERM",
    "TZ",
    "TMPDIR",
    "CARGO_HOME",
    "RUSTUP_HOME",
    "GOPATH",
    "GOROOT",
    "PYENV_ROOT",
    "NVM_DIR",
    "JAVA_HOME",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "LOG_LEVEL",
    "LOG_JSON",
    "BERTH_SKILLS_DIR",
    "BERTH_TERMINAL_NO_OUTPUT_TIMEOUT",
    "BERTH_MAX_UPLOAD_BYTES",
];

fn passed_environment() -> Vec<(std::ffi::OsString, std::ffi::OsString)> {
    std::env::vars_os()
        .filter(|(name, _)| {
            let name = name.to_string_lossy();
            PASSED.contains(&name.as_ref()) || name.starts_with("LC_")
        })
        .collect()
}

/// Copies the process's stdout and stderr, line by line, into its log ring.
fn collect_output(child: &mut Child, ring: &LogRing) {
    let streams = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
        child.stderr.take().map(|s| Box::new(s) as _),
    ];
    for stream in streams.into_iter().flatten() {
        let ring = ring.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stream).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                ring.push(&line);
            }
        });
    }
}

/// Whether `pid` is alive and is an agent-server (not a recycled pid).
fn is_agent_server(pid: i32) -> bool {
    if kill(Pid::from_raw(pid), None).is_err() {
        return false;
    }
    match std::fs::read(format!("/proc/{pid}/cmdline")) {
        Ok(cmdline) => String::from_utf8_lossy(&cmdline).contains(BINARY),
        // Without /proc (macOS) the signal check is what there is.
        Err(_) => true,
    }
}

/// The process's state letter from /proc (`R`, `S`, `T`, `Z`…), `None` without /proc.
fn state_of(pid: i32) -> Option<char> {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rfind(')').and_then(|i| s[i + 2..].chars().next()))
}

/// Whether the process is stopped (SIGSTOP), from /proc.
fn is_stopped(pid: i32) -> bool {
    state_of(pid) == Some('T')
}

/// Whether the process still runs: a killed process drops its command line before it becomes a
/// zombie, so after a kill only "gone or a zombie" means it is over.
fn has_exited(pid: i32) -> bool {
    kill(Pid::from_raw(pid), None).is_err() || matches!(state_of(pid), Some('Z' | 'X'))
}

impl ProcessSandboxService {
    pub fn new(paths: Paths, store: Store, binary: Option<PathBuf>) -> Result<Self, SandboxError> {
        let binary = binary
            .or_else(find_binary)
            .ok_or_else(|| SandboxError::ServerBinaryMissing(format!("{BINARY} beside the app")))?;
        if !binary.is_file() {
            return Err(SandboxError::ServerBinaryMissing(
                binary.display().to_string(),
            ));
        }
        Ok(Self {
            keys: SandboxKeys::new(paths.clone()),
            paths,
            records: SandboxRecords::new(store),
            binary,
            logs: SandboxLogs::default(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .map_err(|e| SandboxError::Other(e.to_string()))?,
            health_timeout: Duration::from_secs(30),
            ports: None,
        })
    }

    async fn healthy(&self, url: &str) -> bool {
        self.http
            .get(format!("{url}/alive"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    }

    /// Starts the process; `Err` with its output when it exits before answering.
    async fn spawn(
        &self,
        id: &str,
        spec: &SandboxSpec,
        keys_file: &str,
        attempt: usize,
    ) -> Result<Sandbox, SandboxError> {
        let port = free_port(self.ports.as_ref(), attempt)?;
        // The server deletes it once read; written anew for every attempt.
        let keys_path = self.paths.sandbox_dir(id).join("server-keys.json");
        write_private(&keys_path, keys_file)
            .map_err(|e| SandboxError::Start(format!("cannot hand over the keys: {e}")))?;
        let mut child = self.launch(id, spec, &keys_path, port)?;
        let pid = child.id().map(|p| p as i32);
        let ring = self.logs.start(id);
        collect_output(&mut child, &ring);
        let url = format!("http://127.0.0.1:{port}");
        let stamp = now();
        let sandbox = Sandbox {
            id: id.to_string(),
            kind: SandboxKind::Process,
            status: SandboxStatus::Starting,
            agent_url: url.clone(),
            workspace: spec.workspace.clone(),
            host_workspace: spec.workspace.clone(),
            pid,
            container_id: None,
            created_at: stamp.clone(),
            last_used_at: stamp,
            error: None,
            confinement: None,
        };
        self.records.put(&sandbox)?;
        self.wait_until_healthy(&mut child, &url, &keys_path, &ring)
            .await?;
        let confinement = self.confinement(id, &url).await;
        if spec.confinement.required && !confinement.is_confined() {
            if let Some(pid) = pid
                && let Err(e) = killpg(Pid::from_raw(pid), Signal::SIGKILL)
            {
                tracing::warn!(sandbox = id, error = %e, "cannot stop an unconfined agent-server");
            }
            let reason = match confinement {
                ConfinementState::Unconfined { reason } => reason,
                other => other.summary(),
            };
            return Err(SandboxError::Unconfined(reason));
        }
        self.reap_when_gone(child, id, pid);
        let running = Sandbox {
            status: SandboxStatus::Running,
            confinement: Some(confinement),
            ..sandbox
        };
        self.records.put(&running)?;
        Ok(running)
    }

    /// Runs the agent-server with a cleared environment, in its own process group.
    fn launch(
        &self,
        id: &str,
        spec: &SandboxSpec,
        keys_path: &Path,
        port: u16,
    ) -> Result<Child, SandboxError> {
        let dir = self.paths.sandbox_dir(id);
        let conversations = spec.conversations_root(&self.paths, id)?;
        let policy = super::confinement::policy(&self.paths, &dir, spec);
        let policy = serde_json::to_string(&policy).map_err(|e| {
            SandboxError::Other(format!("cannot write the confinement policy: {e}"))
        })?;
        let mut cmd = tokio::process::Command::new(&self.binary);
        // The app's own environment (cloud keys, tokens, the D-Bus session) is not the agent's.
        cmd.env_clear().envs(passed_environment());
        cmd.args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .env(berth_protocol::KEYS_FILE_ENV, keys_path)
            .env("OH_CONVERSATIONS_PATH", conversations)
            .env("OH_BASH_EVENTS_DIR", dir.join("bash_events"))
            .env(berth_protocol::CONFINEMENT_ENV, policy)
            .envs(spec.git_identity.environment())
            .current_dir(&spec.workspace)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own group: signals reach its shells too, and it outlives the app.
            .process_group(0);
        cmd.spawn()
            .map_err(|e| SandboxError::Start(format!("cannot run {}: {e}", self.binary.display())))
    }

    /// Polls `/alive` until it answers; `Err` with the output when the process exits first or
    /// the health timeout passes (the process is then killed).
    async fn wait_until_healthy(
        &self,
        child: &mut Child,
        url: &str,
        keys_path: &Path,
        ring: &LogRing,
    ) -> Result<(), SandboxError> {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                if let Err(e) = std::fs::remove_file(keys_path)
                    && e.kind() != std::io::ErrorKind::NotFound
                {
                    tracing::warn!(file = %keys_path.display(), error = %e, "cannot remove an unread keys file");
                }
                // Give the readers a moment to collect what it printed.
                tokio::time::sleep(Duration::from_millis(50)).await;
                return Err(SandboxError::Start(format!(
                    "the agent-server exited ({status}) before answering:\n{}",
                    ring.tail(20)
                )));
            }
            if self.healthy(url).await {
                return Ok(());
            }
            if started.elapsed() > self.health_timeout {
                if let Some(pid) = child.id()
                    && let Err(e) = killpg(Pid::from_raw(pid as i32), Signal::SIGKILL)
                {
                    tracing::warn!(pid, error = %e, "cannot stop an agent-server that never answered");
                }
                return Err(SandboxError::Unhealthy {
                    timeout: self.health_timeout,
                    logs: ring.tail(20),
                });
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Reaps the process when it exits, and records that it is gone.
    fn reap_when_gone(&self, mut child: Child, id: &str, pid: Option<i32>) {
        let records = self.records.clone();
        let id = id.to_string();
        tokio::spawn(async move {
            let why = match child.wait().await {
                Ok(s) => format!("the agent-server process exited ({s})"),
                Err(e) => format!("the agent-server process was lost: {e}"),
            };
            let ours = match records.get(&id) {
                Ok(Some(rec)) => rec.pid == pid && rec.status.is_live(),
                Ok(None) => false,
                Err(e) => {
                    tracing::warn!(sandbox = %id, error = %e, "cannot read a sandbox record");
                    false
                }
            };
            if ours && let Err(e) = records.set_status(&id, SandboxStatus::Missing, Some(&why)) {
                tracing::warn!(sandbox = %id, error = %e, "cannot record that a sandbox is gone");
            }
        });
    }

    /// How the agent-server confines its commands, as it says; unconfined when it cannot say.
    async fn confinement(&self, id: &str, url: &str) -> ConfinementState {
        let asked = async {
            let key = self.keys.session_key(id).map_err(|e| e.to_string())?;
            self.http
                .get(format!("{url}/api/confinement"))
                .header("X-Session-API-Key", key)
                .send()
                .await
                .and_then(|r| r.error_for_status())
                .map_err(|e| e.to_string())?
                .json::<ConfinementState>()
                .await
                .map_err(|e| e.to_string())
        };
        asked
            .await
            .unwrap_or_else(|e| ConfinementState::Unconfined {
                reason: format!("the agent-server did not say how it confines commands ({e})"),
            })
    }

    fn refresh(&self, mut s: Sandbox) -> Result<Sandbox, SandboxError> {
        let alive = s.pid.is_some_and(is_agent_server);
        let status = match (alive, s.status) {
            (false, SandboxStatus::Error) => SandboxStatus::Error,
            (false, _) => SandboxStatus::Missing,
            (true, _) if s.pid.is_some_and(is_stopped) => SandboxStatus::Paused,
            (true, _) => SandboxStatus::Running,
        };
        if status != s.status {
            let why =
                (status == SandboxStatus::Missing).then_some("the agent-server process is gone");
            self.records.set_status(&s.id, status, why)?;
            s.status = status;
            s.error = why.map(str::to_string).or(s.error);
        }
        Ok(s)
    }

    fn record(&self, id: &str) -> Result<Sandbox, SandboxError> {
        self.records.of_kind(id, SandboxKind::Process)
    }
}

#[async_trait]
impl SandboxService for ProcessSandboxService {
    fn kind(&self) -> SandboxKind {
        SandboxKind::Process
    }

    async fn create(&self, spec: &SandboxSpec) -> Result<Sandbox, SandboxError> {
        spec.check()?;
        let id = uuid::Uuid::new_v4().simple().to_string();
        let keys = self.keys.create(&id, spec.sealing_key.as_deref())?;
        // A port taken between choosing it and binding it is retried once on another.
        let result = match self.spawn(&id, spec, &keys, 0).await {
            Err(SandboxError::Start(msg)) if msg.contains("cannot listen") => {
                self.spawn(&id, spec, &keys, 1).await
            }
            other => other,
        };
        match result {
            Ok(s) => Ok(s),
            Err(e) => {
                let _ = self
                    .records
                    .set_status(&id, SandboxStatus::Error, Some(&e.to_string()));
                Err(e)
            }
        }
    }

    async fn get(&self, id: &str) -> Result<Sandbox, SandboxError> {
        let s = self.record(id)?;
        self.refresh(s)
    }

    async fn list(&self) -> Result<Vec<Sandbox>, SandboxError> {
        self.records
            .list(SandboxKind::Process)?
            .into_iter()
            .map(|s| self.refresh(s))
            .collect()
    }

    async fn pause(&self, id: &str) -> Result<Sandbox, SandboxError> {
        let s = self.get(id).await?;
        if !s.needs_pause()? {
            return Ok(s);
        }
        if let Some(pid) = s.pid {
            killpg(Pid::from_raw(pid), Signal::SIGSTOP)
                .map_err(|e| SandboxError::Other(format!("cannot pause: {e}")))?;
            // The stop is asynchronous: report Paused once the process really is stopped.
            let deadline = Instant::now() + Duration::from_secs(2);
            while !is_stopped(pid) && is_agent_server(pid) && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        self.records.set_status(id, SandboxStatus::Paused, None)?;
        self.get(id).await
    }

    async fn resume(&self, id: &str) -> Result<Sandbox, SandboxError> {
        let s = self.get(id).await?;
        if !s.needs_resume()? {
            return Ok(s);
        }
        if let Some(pid) = s.pid {
            killpg(Pid::from_raw(pid), Signal::SIGCONT)
                .map_err(|e| SandboxError::Other(format!("cannot resume: {e}")))?;
        }
        self.records.set_status(id, SandboxStatus::Running, None)?;
        let started = Instant::now();
        while !self.healthy(&s.agent_url).await {
            if started.elapsed() > self.health_timeout {
                return Err(SandboxError::Unhealthy {
                    timeout: self.health_timeout,
                    logs: self.logs(id).join("\n"),
                });
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.get(id).await
    }

    async fn delete(&self, id: &str) -> Result<(), SandboxError> {
        let s = self.record(id)?;
        if let Some(pid) = s.pid.filter(|p| is_agent_server(*p)) {
            let group = Pid::from_raw(pid);
            let _ = killpg(group, Signal::SIGKILL);
            // A stopped group must be continued to die promptly.
            let _ = killpg(group, Signal::SIGCONT);
            let deadline = Instant::now() + Duration::from_secs(5);
            while !has_exited(pid) && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        self.records.delete(id)?;
        super::remove_sandbox_dir(&self.paths.sandbox_dir(id));
        self.logs.forget(id);
        Ok(())
    }

    async fn session_key(&self, id: &str) -> Result<String, SandboxError> {
        self.record(id)?;
        self.keys.session_key(id)
    }

    async fn host_address(&self, id: &str) -> Result<HostAddress, SandboxError> {
        self.record(id)?;
        Ok(HostAddress::loopback())
    }

    fn touch(&self, id: &str) -> Result<(), SandboxError> {
        self.records.touch(id, SandboxKind::Process)
    }

    fn logs(&self, id: &str) -> Vec<String> {
        self.logs.lines(id)
    }
}
