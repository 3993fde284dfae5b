//! A persistent bash on a pseudo-terminal. The prompt (PS1) prints a JSON block between markers
//! after every command, which tells when a command finished, its exit code and the new working
//! directory. A reader thread copies the PTY's output into a shared buffer; callers wait on it.
//!
//! Crate: `portable-pty` (wezterm's), the maintained cross-platform PTY abstraction.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

pub use super::output::PromptInfo;
use super::output::{PS1_END, clean, next_char_start, parse_last_prompt, whole_chars};

/// The prompt: `$?` must be expanded first, before any command substitution resets it.
const PS1: &str = r#"\n###PS1JSON###\n{"exit_code": "$?", "pid": "$!", "username": "\u", "hostname": "\h", "working_dir": "$(pwd)", "py_interpreter_path": "$(command -v python3 || command -v python || true)"}\n###PS1END###\n"#;

/// Output kept in memory for one command; beyond it the middle is dropped (the head and the
/// latest output are what a user and the LLM need).
const MAX_BUFFER: usize = 8 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("could not start the terminal: {0}")]
    Spawn(String),
    #[error("the terminal is gone: {0}")]
    Io(String),
}

#[derive(Default)]
struct Buffer {
    bytes: Vec<u8>,
    /// Bytes dropped from the middle because of `MAX_BUFFER`.
    dropped: usize,
    closed: bool,
}

pub enum WaitOutcome {
    /// The command finished: its output and the prompt's report.
    Done(String, PromptInfo),
    /// No new output for the soft timeout, or the hard timeout passed; the output so far.
    TimedOut(String),
    /// The shell exited.
    Closed(String),
}

pub struct Session {
    master: Box<dyn MasterPty + Send>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    buffer: Arc<Mutex<Buffer>>,
    /// Signalled by the reader thread whenever output arrives or the PTY closes.
    output: Arc<tokio::sync::Notify>,
    /// Byte offset in the buffer up to which output was already returned.
    consumed: usize,
    pub running: bool,
    pub last_info: PromptInfo,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.kill();
    }
}

impl Session {
    pub fn start(cwd: &Path) -> Result<Self, SessionError> {
        let pty = native_pty_system();
        let pair = pty
            .openpty(PtySize {
                rows: 200,
                cols: 256,
                pixel_width: 0,
                pixel_height: 0,
            })
            .map_err(|e| SessionError::Spawn(e.to_string()))?;
        let launch = crate::agent_env::launch("bash", &["--norc", "--noprofile"])
            .map_err(|e| SessionError::Spawn(e.to_string()))?;
        let mut cmd = CommandBuilder::new(&launch.program);
        cmd.args(&launch.args);
        cmd.cwd(cwd);
        cmd.env("PS1", PS1);
        cmd.env("PS2", "");
        cmd.env("TERM", "dumb");
        cmd.env("PAGER", "cat");
        cmd.env("GIT_PAGER", "cat");
        cmd.env("HISTFILE", "");
        cmd.env_remove("PROMPT_COMMAND");
        for name in crate::agent_env::withheld() {
            cmd.env_remove(name);
        }
        for (name, value) in &launch.env {
            cmd.env(name, value);
        }
        let child = pair
            .slave
            .spawn_command(cmd)
            .map_err(|e| SessionError::Spawn(e.to_string()))?;
        drop(pair.slave);
        let mut reader = pair
            .master
            .try_clone_reader()
            .map_err(|e| SessionError::Spawn(e.to_string()))?;
        let writer = pair
            .master
            .take_writer()
            .map_err(|e| SessionError::Spawn(e.to_string()))?;
        let buffer = Arc::new(Mutex::new(Buffer::default()));
        let output = Arc::new(tokio::sync::Notify::new());
        let sink = buffer.clone();
        let wake = output.clone();
        std::thread::Builder::new()
            .name("terminal-reader".into())
            .spawn(move || {
                let mut chunk = [0u8; 8192];
                loop {
                    match reader.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            sink.lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .bytes
                                .extend_from_slice(&chunk[..n]);
                            wake.notify_one();
                        }
                    }
                }
                sink.lock().unwrap_or_else(|e| e.into_inner()).closed = true;
                wake.notify_one();
            })
            .map_err(|e| SessionError::Spawn(e.to_string()))?;
        let mut session = Self {
            master: pair.master,
            writer,
            child,
            buffer,
            output,
            consumed: 0,
            running: false,
            last_info: PromptInfo::default(),
        };
        // No echo (the command is not repeated in its output), no bracketed-paste escapes.
        session
            .send_raw("stty -echo; bind 'set enable-bracketed-paste off' 2>/dev/null; cd .\n")?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (bytes, closed) = session.snapshot();
            let text = String::from_utf8_lossy(&bytes);
            if text.matches(PS1_END).count() >= 2 {
                break;
            }
            if closed || Instant::now() > deadline {
                return Err(SessionError::Spawn(format!(
                    "bash did not show its prompt: {text}"
                )));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let (bytes, _) = session.snapshot();
        if let Some((_, info)) = parse_last_prompt(&bytes) {
            session.last_info = info;
        }
        session.clear();
        Ok(session)
    }

    fn snapshot(&self) -> (Vec<u8>, bool) {
        let b = self.buffer.lock().unwrap_or_else(|e| e.into_inner());
        (b.bytes.clone(), b.closed)
    }

    fn clear(&mut self) {
        let mut b = self.buffer.lock().unwrap_or_else(|e| e.into_inner());
        b.bytes.clear();
        b.dropped = 0;
        self.consumed = 0;
    }

    pub fn send_raw(&mut self, text: &str) -> Result<(), SessionError> {
        self.writer
            .write_all(text.as_bytes())
            .map_err(|e| SessionError::Io(e.to_string()))?;
        self.writer
            .flush()
            .map_err(|e| SessionError::Io(e.to_string()))
    }

    /// Starts a command: the buffer restarts, so its output is all that follows.
    pub fn start_command(&mut self, command: &str) -> Result<(), SessionError> {
        self.clear();
        self.running = true;
        let mut line = command.to_string();
        if !line.ends_with('\n') {
            line.push('\n');
        }
        self.send_raw(&line)
    }

    /// Waits until the prompt returns, no output arrived for `no_output`, `hard` passed, or the
    /// shell died. Returns only the output not returned before.
    pub async fn wait(
        &mut self,
        no_output: Option<Duration>,
        hard: Option<Duration>,
    ) -> WaitOutcome {
        let started = Instant::now();
        let mut last_len = usize::MAX;
        let mut last_change = Instant::now();
        loop {
            let (len, closed) = {
                let mut b = self.buffer.lock().unwrap_or_else(|e| e.into_inner());
                if b.bytes.len() > MAX_BUFFER {
                    // Keep the first and last quarters; what was returned already may go.
                    // Cuts fall between characters, so what is kept still decodes as it was.
                    let keep = MAX_BUFFER / 4;
                    let cut_end = next_char_start(&b.bytes, b.bytes.len() - keep);
                    let from = keep.max(self.consumed.min(cut_end));
                    let cut_start = next_char_start(&b.bytes, from);
                    if cut_end > cut_start {
                        b.bytes.drain(cut_start..cut_end);
                        b.dropped += cut_end - cut_start;
                        self.consumed = self.consumed.min(cut_start);
                    }
                }
                (b.bytes.len(), b.closed)
            };
            if len != last_len {
                last_len = len;
                last_change = Instant::now();
                let (bytes, _) = self.snapshot();
                if let Some((output_end, info)) = parse_last_prompt(&bytes) {
                    let out = clean(&bytes[self.consumed.min(output_end)..output_end]);
                    self.running = false;
                    self.last_info = info.clone();
                    self.clear();
                    return WaitOutcome::Done(out, info);
                }
            }
            if closed {
                let (bytes, _) = self.snapshot();
                self.running = false;
                return WaitOutcome::Closed(clean(&bytes[self.consumed.min(bytes.len())..]));
            }
            let now = Instant::now();
            let soft_hit = no_output.is_some_and(|d| now.duration_since(last_change) >= d);
            let hard_hit = hard.is_some_and(|d| now.duration_since(started) >= d);
            if soft_hit || hard_hit {
                // A character the command has printed only part of waits for the next read.
                let (bytes, _) = self.snapshot();
                let from = self.consumed.min(bytes.len());
                let end = from + whole_chars(&bytes[from..]);
                self.consumed = end;
                return WaitOutcome::TimedOut(clean(&bytes[from..end]));
            }
            // Woken by new output; the timeout bounds how late a soft or hard timeout is noticed.
            let _ = tokio::time::timeout(Duration::from_millis(50), self.output.notified()).await;
        }
    }

    /// Whether the shell has exited (the agent ran `exit`, or it was killed).
    pub fn is_closed(&self) -> bool {
        self.buffer.lock().unwrap_or_else(|e| e.into_inner()).closed
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    #[allow(dead_code)]
    pub fn resize(&self, rows: u16, cols: u16) {
        let _ = self.master.resize(PtySize {
            rows,
            cols,
            pixel_width: 0,
            pixel_height: 0,
        });
    }
}

/// The bytes a key name sends (`C-c`, `UP`, `ENTER`, …), or `None` for plain text.
pub fn key_bytes(name: &str) -> Option<String> {
    let n = name.trim();
    if let Some(letter) = n.strip_prefix("C-").or_else(|| n.strip_prefix("c-")) {
        let c = letter.chars().next()?.to_ascii_lowercase();
        if letter.len() == 1 && c.is_ascii_lowercase() {
            return Some(((c as u8 - b'a' + 1) as char).to_string());
        }
        return None;
    }
    Some(
        match n {
            "UP" => "\x1b[A",
            "DOWN" => "\x1b[B",
            "RIGHT" => "\x1b[C",
            "LEFT" => "\x1b[D",
            "HOME" => "\x1b[H",
            "END" => "\x1b[F",
            "PGUP" => "\x1b[5~",
            "PGDN" => "\x1b[6~",
            "TAB" => "\t",
            "ESC" => "\x1b",
            "BS" => "\x7f",
            "ENTER" => "\r",
            _ => return None,
        }
        .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names() {
        assert_eq!(key_bytes("C-c").as_deref(), Some("\x03"));
        assert_eq!(key_bytes("C-d").as_deref(), Some("\x04"));
        assert_eq!(key_bytes("UP").as_deref(), Some("\x1b[A"));
        assert_eq!(key_bytes("hello"), None);
    }
}
