//! The `terminal` tool: one persistent shell per conversation (cwd and environment persist
//! between calls), one command per call, a no-output soft timeout that returns what there is
//! with a hint, `is_input` for text and keys to a running command, `reset`, and head+tail
//! truncation of what the LLM sees with the full output saved beside the conversation.

mod command_check;
pub mod output;
mod session;

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use berth_protocol::{
    Action, CmdOutputMetadata, Observation, TerminalAction, TerminalObservation, ToolAnnotations,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

pub use command_check::split_commands;
use session::{Session, WaitOutcome, key_bytes};

use super::{Tool, ToolContext, annotations, from_args, text_content};

/// What the LLM may see of one observation.
pub const MAX_OUTPUT_CHARS: usize = 30_000;

const CONTINUATION_PREFIX: &str = "[Below is the output of the previous command.]\n";

#[derive(Debug, Clone)]
pub struct TerminalOptions {
    /// Return after this long without new output (OpenHands: 30 s).
    pub no_output_timeout: Duration,
}

impl Default for TerminalOptions {
    fn default() -> Self {
        Self {
            no_output_timeout: Duration::from_secs(30),
        }
    }
}

pub struct TerminalTool {
    options: TerminalOptions,
    session: Mutex<Option<Session>>,
}

impl TerminalTool {
    pub fn new(options: TerminalOptions) -> Self {
        Self {
            options,
            session: Mutex::new(None),
        }
    }

    async fn run(&self, action: &TerminalAction, ctx: &ToolContext) -> TerminalObservation {
        let mut guard = self.session.lock().await;
        let mut prefix = String::new();
        if action.reset {
            if action.is_input {
                return error_obs(action, "Cannot use reset=True together with is_input=True.");
            }
            if let Some(mut s) = guard.take() {
                s.kill();
            }
            if action.command.trim().is_empty() {
                return match start_session(&ctx.workspace) {
                    Ok(s) => {
                        *guard = Some(s);
                        plain_obs(
                            action,
                            "Terminal session has been reset. Environment variables and the working directory are back to their initial state.",
                        )
                    }
                    Err(e) => error_obs(action, &e),
                };
            }
            prefix = "[Terminal session was reset.]\n".into();
        }
        if guard.as_ref().is_some_and(|s| s.is_closed()) {
            // The shell exited: start a new one, and say so.
            *guard = None;
            prefix.push_str(
                "[The previous shell had exited; this command runs in a new terminal session.]\n",
            );
        }
        if guard.is_none() {
            match start_session(&ctx.workspace) {
                Ok(s) => *guard = Some(s),
                Err(e) => return error_obs(action, &e),
            }
        }
        let Some(session) = guard.as_mut() else {
            return error_obs(action, "the terminal could not be started");
        };
        let hard = action
            .timeout
            .filter(|t| *t > 0.0)
            .and_then(|t| crate::untrusted::seconds(t, crate::untrusted::MAX_WAIT));
        let soft = if hard.is_some() {
            None
        } else {
            Some(self.options.no_output_timeout)
        };
        let command = action.command.as_str();

        if action.is_input {
            if !session.running {
                return error_obs(action, "No previous running command to interact with.");
            }
            let (bytes, key) = match key_bytes(command) {
                Some(b) => (b, Some(command.trim().to_string())),
                None => (format!("{command}\n"), None),
            };
            if let Err(e) = session.send_raw(&bytes) {
                return error_obs(action, &e.to_string());
            }
            let outcome = session.wait(soft, hard).await;
            return self.finish(action, ctx, outcome, prefix, key.as_deref(), hard, session);
        }

        if command.trim().is_empty() {
            if !session.running {
                return error_obs(action, "No previous running command to retrieve logs from.");
            }
            let outcome = session.wait(soft, hard).await;
            return self.finish(
                action,
                ctx,
                outcome,
                CONTINUATION_PREFIX.into(),
                None,
                hard,
                session,
            );
        }

        if session.running {
            let outcome = session
                .wait(
                    Some(Duration::from_millis(200)),
                    Some(Duration::from_millis(500)),
                )
                .await;
            let latest = match &outcome {
                WaitOutcome::Done(out, _)
                | WaitOutcome::TimedOut(out)
                | WaitOutcome::Closed(out) => out.clone(),
            };
            if session.running {
                let msg = format!(
                    "[Your command \"{command}\" is NOT executed. The previous command is still running: \
                     a new command cannot start until it completes. Send an empty command '' to see more \
                     of its output, send input or keys (such as C-c) with is_input=true, or wait.]\n{latest}"
                );
                let mut obs = plain_obs(action, &ctx.secrets.mask(&msg));
                obs.exit_code = Some(-1);
                return obs;
            }
        }

        let commands = split_commands(command);
        if commands.len() > 1 {
            let listed: Vec<String> = commands
                .iter()
                .enumerate()
                .map(|(i, c)| format!("({}) {c}", i + 1))
                .collect();
            return error_obs(
                action,
                &format!(
                    "Cannot execute multiple commands at once. Run them one at a time, or join them with && or ;.\nThe commands found:\n{}",
                    listed.join("\n")
                ),
            );
        }
        if looks_like_literal(command) {
            return error_obs(
                action,
                "The command looks like a JSON or Python literal, not a shell command. To write data to a file use file_editor, or wrap it in a command such as `cat > file <<'EOF'`.",
            );
        }
        // Secrets named in the command are exported first, in their own silent step.
        let env = ctx.secrets.env_for(command);
        if !env.is_empty() {
            let exports: Vec<String> = env
                .iter()
                .map(|(k, v)| format!("export {k}={}", shell_quote(v)))
                .collect();
            if session.start_command(&exports.join("; ")).is_ok() {
                let _ = session
                    .wait(Some(Duration::from_secs(5)), Some(Duration::from_secs(10)))
                    .await;
            }
        }
        if let Err(e) = session.start_command(command) {
            *guard = None;
            return error_obs(
                action,
                &format!("{e}. The terminal will be restarted at the next command."),
            );
        }
        let outcome = session.wait(soft, hard).await;
        self.finish(action, ctx, outcome, prefix, None, hard, session)
    }

    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        action: &TerminalAction,
        ctx: &ToolContext,
        outcome: WaitOutcome,
        prefix: String,
        key: Option<&str>,
        hard: Option<Duration>,
        session: &Session,
    ) -> TerminalObservation {
        let info = session.last_info.clone();
        let (output, exit_code, suffix, timed_out) = match outcome {
            WaitOutcome::Done(out, info) => {
                let sent = key
                    .filter(|k| k.eq_ignore_ascii_case("C-c"))
                    .map(|_| " CTRL+C was sent.")
                    .unwrap_or("");
                let suffix = format!(
                    "\n[The command completed with exit code {}.{sent}]",
                    info.exit_code
                );
                (out, info.exit_code, suffix, false)
            }
            WaitOutcome::TimedOut(out) => {
                let why = match hard {
                    Some(d) => format!("The command timed out after {} seconds.", d.as_secs_f64()),
                    None => format!(
                        "The command has no new output after {} seconds.",
                        self.options.no_output_timeout.as_secs_f64()
                    ),
                };
                let suffix = format!(
                    "\n[{why} It is still running. Send an empty command '' to wait for more output, send \
                     input or keys such as C-c with is_input=true to interact with or stop it, or run it \
                     again with a longer timeout.]"
                );
                (out, -1, suffix, true)
            }
            WaitOutcome::Closed(out) => (
                out,
                -1,
                "\n[The shell exited. The next command starts a new terminal session.]".into(),
                false,
            ),
        };
        let output = ctx.secrets.mask(&output);
        let metadata = CmdOutputMetadata {
            exit_code,
            pid: info.pid,
            username: info.username.clone(),
            hostname: info.hostname.clone(),
            working_dir: info.working_dir.clone(),
            py_interpreter_path: info.py_interpreter_path.clone(),
            prefix,
            suffix,
        };
        let save_dir = ctx.persistence_dir.as_ref().map(|d| d.join("observations"));
        let mut obs = TerminalObservation {
            content: text_content(String::new()),
            is_error: false,
            command: Some(action.command.clone()),
            exit_code: Some(exit_code),
            timeout: timed_out,
            metadata,
            full_output_save_dir: save_dir.as_ref().map(|d| d.display().to_string()),
        };
        // Truncate so that the whole LLM view (with prefix, suffix and metadata) fits the cap.
        let overhead = llm_text(&obs).chars().count();
        let budget = MAX_OUTPUT_CHARS.saturating_sub(overhead);
        let text = truncate_middle(&output, budget, save_dir.as_deref());
        obs.content = text_content(text);
        obs
    }
}

fn start_session(workspace: &Path) -> Result<Session, String> {
    std::fs::create_dir_all(workspace)
        .map_err(|e| format!("cannot create the workspace {}: {e}", workspace.display()))?;
    Session::start(workspace).map_err(|e| e.to_string())
}

fn plain_obs(action: &TerminalAction, text: &str) -> TerminalObservation {
    TerminalObservation {
        content: text_content(text),
        is_error: false,
        command: Some(action.command.clone()),
        exit_code: None,
        timeout: false,
        metadata: CmdOutputMetadata::default(),
        full_output_save_dir: None,
    }
}

fn error_obs(action: &TerminalAction, text: &str) -> TerminalObservation {
    TerminalObservation {
        is_error: true,
        ..plain_obs(action, text)
    }
}

fn looks_like_literal(command: &str) -> bool {
    let t = command.trim();
    ((t.starts_with('{') && t.ends_with('}')) || (t.starts_with('[') && t.ends_with(']')))
        && serde_json::from_str::<Value>(t).is_ok()
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// What the LLM sees of a terminal observation.
pub fn llm_text(obs: &TerminalObservation) -> String {
    let m = &obs.metadata;
    let mut out = format!(
        "{}{}{}",
        m.prefix,
        berth_protocol::content_text(&obs.content),
        m.suffix
    );
    if let Some(dir) = &m.working_dir {
        out.push_str(&format!("\n[Current working directory: {dir}]"));
    }
    if let Some(py) = &m.py_interpreter_path {
        out.push_str(&format!("\n[Python interpreter: {py}]"));
    }
    if m.exit_code != -1 && obs.exit_code.is_some() {
        out.push_str(&format!(
            "\n[Command finished with exit code {}]",
            m.exit_code
        ));
    }
    out
}

/// Keeps the head and the tail of `text` within `max` characters; the full text goes to a file
/// in `save_dir`, which the notice names with the line where the cut starts.
pub fn truncate_middle(text: &str, max: usize, save_dir: Option<&Path>) -> String {
    let total = text.chars().count();
    if total <= max {
        return text.to_string();
    }
    let saved: Option<PathBuf> = save_dir.and_then(|dir| {
        let hash = hex8(text);
        let path = dir.join(format!("terminal_output_{hash}.txt"));
        std::fs::create_dir_all(dir).ok()?;
        std::fs::write(&path, text).ok()?;
        Some(path)
    });
    let notice_budget = 300;
    let keep = max.saturating_sub(notice_budget);
    let head_len = keep / 2;
    let tail_len = keep - head_len;
    let head: String = text.chars().take(head_len).collect();
    let tail: String = text.chars().skip(total - tail_len).collect();
    let cut_line = head.matches('\n').count() + 1;
    let notice = match saved {
        Some(p) => format!(
            "\n<response clipped: {} characters were cut from the middle, starting at line {cut_line}. The full output is saved in {}; use grep or sed -n on it to see the rest.>\n",
            total - head_len - tail_len,
            p.display()
        ),
        None => format!(
            "\n<response clipped: {} characters were cut from the middle, starting at line {cut_line}.>\n",
            total - head_len - tail_len
        ),
    };
    format!("{head}{notice}{tail}")
}

fn hex8(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

#[async_trait]
impl Tool for TerminalTool {
    fn name(&self) -> &str {
        "terminal"
    }

    fn kinds(&self) -> (&str, &str, &str) {
        ("TerminalTool", "TerminalAction", "TerminalObservation")
    }

    fn description(&self) -> String {
        "Run a bash command in a persistent shell session (the working directory and environment \
         variables carry over between calls).\n\
         * One command per call; chain steps with && or ;.\n\
         * Long-running commands: when a command prints nothing for 30 seconds the call returns \
         what it has and the command keeps running. Send an empty command to see more output, \
         or set is_input=true to type into it or send keys such as C-c, C-d, UP, ENTER.\n\
         * Use `timeout` (seconds) to wait longer for a command you expect to be slow; run servers \
         in the background (`cmd > log 2>&1 &`).\n\
         * Long outputs are cut in the middle; the full text is saved to a file named in the notice.\n\
         * reset=true kills the session and starts a fresh one."
            .into()
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "command": {"type": "string", "description": "The bash command to run. Empty to see more output of the running command. With is_input=true: text to type, or a key such as C-c, C-d, C-z, UP, DOWN, LEFT, RIGHT, HOME, END, PGUP, PGDN, TAB, ESC, BS, ENTER."},
                "is_input": {"type": "boolean", "description": "Send the command as input to the running process instead of starting a new command. Default false."},
                "timeout": {"type": "number", "description": "Wait at most this many seconds for the command, instead of returning after 30 seconds without output."},
                "reset": {"type": "boolean", "description": "Kill the current session and start a new one before running the command. Default false."}
            },
            "required": ["command"]
        })
    }

    fn annotations(&self) -> ToolAnnotations {
        annotations("terminal", false, true, false, true)
    }

    fn parse(&self, args: Value) -> Result<Action, String> {
        let a: TerminalAction = from_args(self.name(), args)?;
        if a.timeout.is_some_and(|t| !t.is_finite() || t < 0.0) {
            return Err(
                "Error validating tool 'terminal': timeout must be a number of seconds >= 0".into(),
            );
        }
        Ok(Action::TerminalAction(a))
    }

    async fn execute(&self, action: &Action, ctx: &ToolContext) -> Observation {
        let Action::TerminalAction(a) = action else {
            return Observation::TerminalObservation(error_obs(
                &TerminalAction {
                    command: String::new(),
                    is_input: false,
                    timeout: None,
                    reset: false,
                },
                "terminal received an action of another tool",
            ));
        };
        Observation::TerminalObservation(self.run(a, ctx).await)
    }
}
