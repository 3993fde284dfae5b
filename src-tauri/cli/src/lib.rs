//! `berth`, the command line: each command parses its arguments, calls `berth-app`, and prints
//! the result. Nothing here decides anything the desktop app would decide differently.
//!
//! Exit codes of `berth run` (and `send`, `follow`): 0 the agent finished; 1 it ended in an
//! error or got stuck; 2 the conversation could not start; 3 it waits for confirmation or was
//! paused; 4 bad usage or an app error.

mod commands;
mod console;
mod mcp;
mod render;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "berth",
    version,
    about = "Berth: coding agents in sandboxes, on your machine"
)]
pub struct Cli {
    /// Print events as JSON lines instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Start a conversation on a folder, print its events, exit with its outcome.
    Run {
        #[arg(long)]
        folder: PathBuf,
        #[arg(long)]
        task: String,
        #[arg(long, value_enum)]
        runtime: Option<RuntimeArg>,
        /// The LLM profile (default: the active one).
        #[arg(long)]
        profile: Option<String>,
        /// Leave the sandbox running afterwards (default: stop it; the conversation stays and
        /// can be continued in a new sandbox).
        #[arg(long)]
        keep_sandbox: bool,
    },
    /// Web mode: the UI and every command on http://127.0.0.1 with a per-launch token, until
    /// Ctrl-C. Prints the address to open (it carries the token).
    Serve {
        /// 0: any free port.
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// The built UI (default: `BERTH_UI_DIR`, else the one installed beside berth, else
        /// this checkout's `ui/dist`).
        #[arg(long)]
        ui: Option<PathBuf>,
        #[arg(long, value_enum)]
        runtime: Option<RuntimeArg>,
    },
    /// List, search, show, export, delete and continue conversations.
    #[command(subcommand)]
    Conversations(ConversationsCmd),
    /// Show, import and edit settings.
    #[command(subcommand)]
    Settings(SettingsCmd),
    /// Secrets in the OS keychain.
    #[command(subcommand)]
    Secrets(SecretsCmd),
    /// MCP servers whose tools the agents get.
    #[command(subcommand)]
    Mcp(McpCmd),
}

#[derive(clap::Args, Debug)]
pub struct McpAdd {
    pub name: String,
    /// A streamable HTTP server's URL (instead of a program).
    #[arg(long, conflicts_with = "command")]
    pub url: Option<String>,
    /// `NAME=value` for the program's environment; `${SECRET}` names a custom secret.
    #[arg(long = "env", value_name = "NAME=VALUE")]
    pub env: Vec<String>,
    /// `Name: value` for an HTTP server; `${SECRET}` names a custom secret.
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// The custom secret sent as `Authorization: Bearer …` to an HTTP server.
    #[arg(long)]
    pub bearer_secret: Option<String>,
    /// Only this tool (repeatable; default: all of them).
    #[arg(long = "allow", value_name = "TOOL")]
    pub allowed_tools: Vec<String>,
    /// Saved but not given to agents.
    #[arg(long)]
    pub disabled: bool,
    /// The program and its arguments, after `--`.
    #[arg(last = true)]
    pub command: Vec<String>,
}

#[derive(Subcommand, Debug)]
pub enum McpCmd {
    List,
    /// Add (or replace) a server: a program (`-- COMMAND ARGS…`) or `--url`.
    Add(McpAdd),
    /// Add the servers of a Claude Desktop / Cursor `mcpServers` JSON file (`-`: stdin).
    Import {
        file: PathBuf,
    },
    /// Start or reach a saved server and list its tools, or say why it cannot be used.
    Test {
        name: String,
    },
    Remove {
        name: String,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RuntimeArg {
    Auto,
    Docker,
    Process,
}

#[derive(Subcommand, Debug)]
pub enum ConversationsCmd {
    List {
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long, default_value_t = 0)]
        offset: usize,
        /// recently-updated, newest, oldest or title.
        #[arg(long, default_value = "recently-updated")]
        sort: String,
    },
    /// Full-text search over titles, messages, commands and outputs.
    Search {
        query: String,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// A conversation and its events.
    Show {
        id: String,
    },
    /// Write a zip of meta.json and one JSON file per event.
    Export {
        id: String,
        #[arg(long, short)]
        output: PathBuf,
    },
    Rename {
        id: String,
        title: String,
    },
    Delete {
        id: String,
    },
    /// Send a message, then print events until the agent stops.
    Send {
        id: String,
        message: String,
    },
    /// Follow a live conversation's events until the agent stops (catching up first).
    Follow {
        id: String,
    },
    /// Continue a conversation whose sandbox is gone in a new sandbox.
    Continue {
        id: String,
        #[arg(long)]
        message: Option<String>,
    },
    /// Accept or reject the actions waiting for confirmation.
    Confirm {
        id: String,
        #[arg(long)]
        reject: bool,
        #[arg(long)]
        reason: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum SettingsCmd {
    /// The settings as JSON.
    Show,
    /// The JSON schema of the settings.
    Schema,
    /// Replace the settings with a JSON file (`-` for stdin), after validating it.
    Import { file: PathBuf },
    /// Send one tiny completion with a profile (default: the active one) and say how it went.
    Test { profile: Option<String> },
    /// Look for Ollama and LM Studio on this machine and list their models.
    DetectLocal,
    /// Add (or replace) an LLM profile; `--key-stdin` reads its API key into the keychain.
    AddProfile {
        name: String,
        #[arg(long)]
        model: String,
        #[arg(long)]
        base_url: Option<String>,
        #[arg(long)]
        key_stdin: bool,
        /// Make it the active profile.
        #[arg(long)]
        activate: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum SecretsCmd {
    /// Store a secret read from stdin (never from the command line, which others can see).
    Set {
        name: String,
        /// custom (default), llm (a profile's API key) or provider (github, gitlab, bitbucket).
        #[arg(long, default_value = "custom")]
        kind: String,
        #[arg(long)]
        description: Option<String>,
    },
    List,
    Delete {
        name: String,
        #[arg(long, default_value = "custom")]
        kind: String,
    },
}

/// Whether an argument starts a command-line run (the desktop binary opens its window otherwise).
pub fn is_command(first_arg: &str) -> bool {
    matches!(
        first_arg,
        "run"
            | "conversations"
            | "settings"
            | "secrets"
            | "mcp"
            | "serve"
            | "help"
            | "--help"
            | "-h"
            | "--version"
            | "-V"
            | "--json"
    )
}

/// Parses the process's arguments and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    run(cli)
}

pub fn run(cli: Cli) -> ExitCode {
    init_logging();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("berth: cannot start: {e}");
            return ExitCode::from(4);
        }
    };
    match runtime.block_on(commands::dispatch(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("berth: {e:#}");
            ExitCode::from(4)
        }
    }
}

/// Warnings and errors to stderr (`BERTH_LOG` sets the filter), and the app's log file when
/// `BERTH_LOG_FILE` names one.
fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("BERTH_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let file = std::env::var_os("BERTH_LOG_FILE").and_then(|p| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .ok()
    });
    let _ = match file {
        Some(f) => builder
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(f))
            .try_init(),
        None => builder.with_writer(std::io::stderr).try_init(),
    };
}
