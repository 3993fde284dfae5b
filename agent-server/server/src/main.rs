//! `berth-agent-server`: the server that runs inside every Berth sandbox.
//!
//! It speaks OpenHands' agent-server 1.58.2 wire protocol (REST under `/api`, the event socket
//! at `/sockets/events/{id}`), so OpenHands' own Python client drives it unchanged, and it runs
//! conversations with the `berth-agent` engine. See `--help`.

mod auth;
mod bash;
mod config;
mod error;
mod git;
mod info;
mod oneshot;
mod routes;
mod sealer;
mod service;
mod ws;

use std::net::SocketAddr;

use clap::{Parser, Subcommand};

const ABOUT: &str = "Berth's agent-server: runs coding-agent conversations and serves them over \
OpenHands' agent-server API (REST + WebSocket), so OpenHands' Python client can drive it.";

const AFTER_HELP: &str = "\
Environment:
  SESSION_API_KEY            the session key every /api route and socket requires
                             (X-Session-API-Key header; sockets also take ?session_api_key= or a
                             first frame {\"type\":\"auth\",\"session_api_key\":…})
  OH_SESSION_API_KEYS_0..n   several accepted keys (rotation); OH_SESSION_API_KEYS as a JSON list
  OH_CONVERSATIONS_PATH      where conversations are stored (default workspace/conversations)
  OH_BASH_EVENTS_DIR         where /api/bash events are stored (default workspace/bash_events)
  OH_MAX_CONCURRENT_RUNS     conversations running at once before 429 (default 10)
  OH_SECRET_KEY              key that seals secrets at rest (default: the first session key;
                             with neither, secrets are kept in memory only)
  BERTH_KEYS_FILE            a JSON file {\"session_api_keys\": [...], \"secret_key\": ...} read in
                             place of the variables above and deleted at start-up, so no key
                             stays in the environment the sandbox's processes can read
  BERTH_MAX_UPLOAD_BYTES     largest accepted file upload (default 536870912)
  BERTH_TERMINAL_NO_OUTPUT_TIMEOUT
                             seconds a terminal command may print nothing before the tool returns
                             what it has to the agent (default 30)
  LOG_LEVEL, LOG_JSON        log filter (default info) and JSON log lines

Without a session key the server binds 127.0.0.1 and accepts every request; with one it binds
0.0.0.0 (for a container's published port) and refuses requests without the key.

Open routes: /alive, /health, /ready, /server_info. Everything under /api needs the key.

One-shot mode, for scripts and CI (no server):
  berth-agent-server run --workspace DIR --model provider/model --task \"…\" [--json]
  LLM key from LLM_API_KEY, base URL from LLM_BASE_URL; exit 0 when the agent finishes.";

#[derive(Parser)]
#[command(name = "berth-agent-server", version, about = ABOUT, after_help = AFTER_HELP)]
struct Cli {
    /// Address to bind (default 0.0.0.0 with a session key, else 127.0.0.1).
    #[arg(long, global = false)]
    host: Option<String>,
    /// Port to listen on.
    #[arg(long, default_value_t = 8000)]
    port: u16,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run one conversation in-process, print its events, exit with its outcome.
    Run(oneshot::RunArgs),
    /// Exit 0 when a server answers /alive on this machine (a container health check).
    Health {
        #[arg(long, default_value_t = 8000)]
        port: u16,
    },
}

/// One plain HTTP/1.0 request, so the health check needs no client library or curl.
fn health(port: u16) -> i32 {
    use std::io::{Read, Write};
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) =
        std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(2))
    else {
        return 1;
    };
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(2)));
    if stream
        .write_all(b"GET /alive HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return 1;
    }
    let mut head = [0u8; 16];
    let n = stream.read(&mut head).unwrap_or(0);
    if String::from_utf8_lossy(&head[..n]).contains(" 200") {
        0
    } else {
        1
    }
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_new(
        std::env::var("LOG_LEVEL")
            .unwrap_or_else(|_| "info".into())
            .to_lowercase(),
    )
    .unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("LOG_JSON").is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // The app reads our stderr through a pipe; when the app is killed the pipe breaks, and
        // the subscriber's own report of that failed write is an `eprintln!`, which panics on
        // EPIPE inside whatever task was logging (the agent loop, a request handler). Losing log
        // lines nobody can read any more is the only outcome that keeps the conversation alive.
        .log_internal_errors(false);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Makes this process non-dumpable: its `/proc/<pid>/environ`, `mem` and `fd` then belong to
/// root, and ptrace is refused, so the agent's processes (the same user) cannot read the keys
/// in its memory. Children get their own dumpable flag back when they exec.
fn keep_memory_private() {
    #[cfg(target_os = "linux")]
    if let Err(e) =
        rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
    {
        tracing::warn!(error = %e, "cannot make the server non-dumpable; the agent's processes may read its memory");
    }
}

fn main() -> anyhow::Result<()> {
    // The confinement helper runs before anything else: a single thread, no runtime, so the
    // restriction it applies covers the whole process it then turns into the command.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == berth_confine::HELPER_ARG) {
        std::process::exit(berth_confine::helper_main(&args[2..]));
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve())
}

/// The confinement of the agent's commands, probed once with this binary as the helper.
fn set_up_confinement() -> anyhow::Result<()> {
    let helper = std::env::current_exe()
        .map_err(|e| anyhow::anyhow!("cannot find this program's own path: {e}"))?;
    let confiner = berth_confine::Confiner::from_env(helper)?;
    match confiner.state() {
        state if state.is_confined() => tracing::info!(?state, "{}", state.summary()),
        state => tracing::warn!(?state, "{}", state.summary()),
    }
    berth_agent::agent_env::confine_with(confiner);
    Ok(())
}

async fn serve() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Run(args)) => {
            set_up_confinement()?;
            std::process::exit(oneshot::run(args).await?)
        }
        Some(Command::Health { port }) => std::process::exit(health(port)),
        None => {}
    }
    init_logging();
    keep_memory_private();
    set_up_confinement()?;
    let config = config::ServerConfig::load()?;
    let host = cli.host.unwrap_or_else(|| {
        if config.session_keys.is_empty() {
            "127.0.0.1".into()
        } else {
            "0.0.0.0".into()
        }
    });
    if config.session_keys.is_empty() && host != "127.0.0.1" && host != "localhost" {
        tracing::warn!(%host, "no session key is configured: anyone who can reach this address can run commands");
    }
    let addr: SocketAddr = format!("{host}:{}", cli.port)
        .parse()
        .or_else(|_| format!("[{host}]:{}", cli.port).parse())
        .map_err(|e| anyhow::anyhow!("invalid --host/--port {host}:{}: {e}", cli.port))?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    tracing::info!(%addr, config = ?config, "berth-agent-server listening");
    let state = service::AppState::new(config)?;
    let app = routes::router(state.clone());
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    state.shutdown().await;
    Ok(())
}
