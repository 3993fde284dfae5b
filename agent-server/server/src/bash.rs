//! `/api/bash`: commands run outside the agent's terminal (for the client's `execute_command`).
//! Each command runs in its own process group under `bash -c`; its output is recorded as
//! `BashOutput` events with increasing `order`, flushed every 100 ms; the last one carries the
//! exit code (-1 after a timeout). Events are also written to `bash_events_dir`, one file each,
//! named as OpenHands names them.
//!
//! What a command prints is attacker input (a setup script from an untrusted repository, a
//! command the agent asked for): of each stream the first `HEAD_BYTES` are recorded as they
//! come and only the last `TAIL_BYTES` of the rest, with a count of what was dropped; only the
//! last `KEPT_COMMANDS` finished commands are kept, in memory and on disk.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use berth_agent::tools::terminal::output::Utf8Stream;
use serde::Serialize;
use serde_json::Value;
use tokio::io::AsyncReadExt;
use tokio::sync::Notify;

const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// Of each stream of a command, what is recorded as it comes.
pub const HEAD_BYTES: usize = 256 * 1024;
/// Of each stream of a command, past the head: the latest output kept for its last event.
pub const TAIL_BYTES: usize = 256 * 1024;
/// Finished commands whose events are kept; older ones are forgotten.
pub const KEPT_COMMANDS: usize = 64;

pub use berth_protocol::api::{BashCommand, BashOutput, ExecuteBashRequest};

#[derive(Default)]
struct Store {
    /// Every event as JSON, in the order recorded.
    events: Vec<Value>,
    /// Process group of each running command.
    running: HashMap<String, i32>,
    /// Finished commands, oldest first.
    finished: VecDeque<String>,
}

/// One output stream of a command: its head goes out in events, the rest is kept as a tail.
#[derive(Default)]
struct Stream {
    decoder: Utf8Stream,
    /// Text of the head not yet flushed into an event.
    pending: String,
    recorded: usize,
    tail: String,
    dropped: usize,
}

// `str::floor_char_boundary` and `ceil_char_boundary` are newer than the crate's MSRV.
fn boundary_at_or_before(s: &str, at: usize) -> usize {
    (0..=at).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0)
}

fn boundary_at_or_after(s: &str, at: usize) -> usize {
    (at..=s.len())
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(s.len())
}

impl Stream {
    fn read(&mut self, bytes: &[u8]) {
        let text = self.decoder.push(bytes);
        self.add(&text);
    }

    fn add(&mut self, text: &str) {
        let room = HEAD_BYTES.saturating_sub(self.recorded);
        let split = boundary_at_or_before(text, room.min(text.len()));
        let (head, rest) = text.split_at(split);
        self.pending.push_str(head);
        self.recorded += head.len();
        self.tail.push_str(rest);
        if self.tail.len() > TAIL_BYTES {
            let cut = boundary_at_or_after(&self.tail, self.tail.len() - TAIL_BYTES);
            self.tail.drain(..cut);
            self.dropped += cut;
        }
    }

    /// The head output not yet sent.
    fn flush(&mut self) -> String {
        std::mem::take(&mut self.pending)
    }

    /// Everything not yet sent, at the end: the head's rest, what was dropped, the tail.
    fn finish(&mut self, note: &str) -> String {
        let last = self.decoder.finish();
        self.add(&last);
        self.add(note);
        let mut text = self.flush();
        if self.dropped > 0 {
            text.push_str(&format!(
                "\n[... {} bytes of output dropped ...]\n",
                self.dropped
            ));
        }
        text.push_str(&std::mem::take(&mut self.tail));
        text
    }
}

#[derive(Clone)]
pub struct BashService {
    dir: PathBuf,
    store: Arc<Mutex<Store>>,
    /// Signalled when a command finishes.
    finished: Arc<Notify>,
}

fn utc_now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

impl BashService {
    pub fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            store: Default::default(),
            finished: Arc::new(Notify::new()),
        }
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record<T: Serialize>(&self, kind: &str, command_id: &str, id: &str, event: &T) {
        let value = serde_json::to_value(event).unwrap_or(Value::Null);
        let name = format!(
            "{}_{kind}_{command_id}_{id}",
            chrono::Utc::now().format("%Y%m%d%H%M%S%6f")
        );
        if std::fs::create_dir_all(&self.dir).is_ok()
            && let Err(e) = std::fs::write(self.dir.join(name), value.to_string())
        {
            tracing::warn!(error = %e, "could not write a bash event file");
        }
        self.store().events.push(value);
    }

    /// Starts a command in the background and returns its `BashCommand` event.
    pub fn start(&self, req: ExecuteBashRequest) -> Result<BashCommand, String> {
        if req.command.trim().is_empty() {
            return Err("the command is empty".into());
        }
        if let Some(cwd) = &req.cwd
            && !std::path::Path::new(cwd).is_dir()
        {
            return Err(format!("the working directory {cwd} does not exist"));
        }
        let id = uuid::Uuid::new_v4().simple().to_string();
        let cmd = BashCommand {
            command: req.command.clone(),
            cwd: req.cwd.clone(),
            timeout: req.timeout,
            id: id.clone(),
            timestamp: utc_now(),
            kind: "BashCommand".into(),
        };
        let launch = berth_agent::agent_env::launch("bash", &["-c", &req.command])
            .map_err(|e| e.to_string())?;
        let mut child = tokio::process::Command::new(&launch.program);
        child
            .args(&launch.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .envs(launch.env);
        for name in berth_agent::agent_env::withheld() {
            child.env_remove(name);
        }
        if let Some(cwd) = &req.cwd {
            child.current_dir(cwd);
        }
        let mut child = child
            .spawn()
            .map_err(|e| format!("cannot start bash: {e}"))?;
        self.record("BashCommand", &id, &id, &cmd);
        if let Some(pid) = child.id() {
            self.store().running.insert(id.clone(), pid as i32);
        }
        let service = self.clone();
        // An untrusted number: negative, NaN or huge must not panic or overflow the deadline.
        let timeout =
            berth_agent::untrusted::seconds(req.timeout, berth_agent::untrusted::MAX_WAIT)
                .unwrap_or(Duration::ZERO);
        tokio::spawn(async move {
            let mut stdout = child.stdout.take();
            let mut stderr = child.stderr.take();
            let (mut out, mut err) = (Stream::default(), Stream::default());
            let (mut out_open, mut err_open) = (stdout.is_some(), stderr.is_some());
            let mut order = 0u64;
            let deadline = tokio::time::Instant::now() + timeout;
            let mut tick = tokio::time::interval(FLUSH_EVERY);
            let mut a = vec![0u8; 8192];
            let mut b = vec![0u8; 8192];
            let mut timed_out = false;
            while out_open || err_open {
                tokio::select! {
                    n = async { match stdout.as_mut() { Some(s) => s.read(&mut a).await, None => std::future::pending().await } }, if out_open => match n {
                        Ok(0) | Err(_) => out_open = false,
                        Ok(n) => out.read(&a[..n]),
                    },
                    n = async { match stderr.as_mut() { Some(s) => s.read(&mut b).await, None => std::future::pending().await } }, if err_open => match n {
                        Ok(0) | Err(_) => err_open = false,
                        Ok(n) => err.read(&b[..n]),
                    },
                    _ = tick.tick() => {
                        let (o, e) = (out.flush(), err.flush());
                        if !o.is_empty() || !e.is_empty() {
                            service.output(&id, &mut order, o, e, None);
                        }
                    },
                    _ = tokio::time::sleep_until(deadline) => {
                        timed_out = true;
                        service.kill_group(&id).await;
                        break;
                    },
                }
            }
            let (code, note) = if timed_out {
                if let Err(e) = child.wait().await {
                    tracing::warn!(error = %e, "could not reap a timed-out command");
                }
                let note = format!(
                    "\nCommand timed out after {} seconds",
                    timeout.as_secs_f64()
                );
                (-1, note)
            } else {
                match child.wait().await {
                    Ok(status) => (status.code().map(i64::from).unwrap_or(-1), String::new()),
                    Err(_) => (-1, String::new()),
                }
            };
            let (o, e) = (out.finish(""), err.finish(&note));
            service.output(&id, &mut order, o, e, Some(code));
            service.finish(&id);
            service.finished.notify_waiters();
        });
        Ok(cmd)
    }

    fn output(
        &self,
        command_id: &str,
        order: &mut u64,
        stdout: String,
        stderr: String,
        exit_code: Option<i64>,
    ) {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let event = BashOutput {
            id: id.clone(),
            timestamp: utc_now(),
            command_id: command_id.to_string(),
            order: *order,
            exit_code,
            stdout: Some(stdout).filter(|s| !s.is_empty()),
            stderr: Some(stderr).filter(|s| !s.is_empty()),
            kind: "BashOutput".into(),
        };
        *order += 1;
        self.record("BashOutput", command_id, &id, &event);
    }

    /// Marks a command finished and forgets the oldest finished ones beyond `KEPT_COMMANDS`.
    fn finish(&self, command_id: &str) {
        let forget: Vec<String> = {
            let mut store = self.store();
            store.running.remove(command_id);
            store.finished.push_back(command_id.to_string());
            let over = store.finished.len().saturating_sub(KEPT_COMMANDS);
            let forget: Vec<String> = store.finished.drain(..over).collect();
            store.events.retain(|v| {
                !forget
                    .iter()
                    .any(|f| v["id"] == f.as_str() || v["command_id"] == f.as_str())
            });
            forget
        };
        if forget.is_empty() {
            return;
        }
        let Ok(read) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for entry in read.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if forget.iter().any(|f| name.contains(&format!("_{f}_")))
                && let Err(e) = std::fs::remove_file(entry.path())
            {
                tracing::warn!(error = %e, "could not remove a forgotten bash event file");
            }
        }
    }

    /// SIGTERM to the command's process group, SIGKILL after a second.
    async fn kill_group(&self, command_id: &str) -> bool {
        let Some(pgid) = self.store().running.get(command_id).copied() else {
            return false;
        };
        let group = nix::unistd::Pid::from_raw(pgid);
        let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGTERM);
        tokio::time::sleep(Duration::from_secs(1)).await;
        let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
        true
    }

    pub async fn stop(&self, command_id: &str) -> bool {
        self.kill_group(command_id).await
    }

    /// Runs a command to the end and merges its output into one `BashOutput`.
    pub async fn execute(&self, req: ExecuteBashRequest) -> Result<BashOutput, String> {
        let cmd = self.start(req)?;
        loop {
            let waiter = self.finished.notified();
            if let Some(done) = self.merged(&cmd.id) {
                return Ok(done);
            }
            let _ = tokio::time::timeout(Duration::from_millis(200), waiter).await;
        }
    }

    fn merged(&self, command_id: &str) -> Option<BashOutput> {
        let store = self.store();
        let outputs: Vec<BashOutput> = store
            .events
            .iter()
            .filter(|v| v["kind"] == "BashOutput" && v["command_id"] == command_id)
            .filter_map(|v| serde_json::from_value(v.clone()).ok())
            .collect();
        let last = outputs.last()?.clone();
        last.exit_code?;
        let join = |f: fn(&BashOutput) -> &Option<String>| -> Option<String> {
            let s: String = outputs.iter().filter_map(|o| f(o).clone()).collect();
            Some(s).filter(|s| !s.is_empty())
        };
        Some(BashOutput {
            stdout: join(|o| &o.stdout),
            stderr: join(|o| &o.stderr),
            ..last
        })
    }

    pub fn events(&self) -> Vec<Value> {
        self.store().events.clone()
    }

    pub fn get(&self, id: &str) -> Option<Value> {
        self.store().events.iter().find(|v| v["id"] == id).cloned()
    }

    pub fn clear(&self) -> usize {
        let mut store = self.store();
        let n = store.events.len();
        store.events.clear();
        store.finished.clear();
        if let Ok(read) = std::fs::read_dir(&self.dir) {
            for e in read.flatten() {
                let _ = std::fs::remove_file(e.path());
            }
        }
        n
    }
}
