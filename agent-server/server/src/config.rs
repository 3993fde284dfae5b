//! Server configuration: command-line flags plus OpenHands' `OH_*` environment variables, and
//! Berth's keys file (`BERTH_KEYS_FILE`), which takes the keys out of the environment.

use std::path::{Path, PathBuf};

use berth_protocol::{KEYS_FILE_ENV, ServerKeys};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the keys file {path}: {message}")]
    KeysFile { path: String, message: String },
}

/// Everything the server needs to know at start-up.
#[derive(Clone)]
pub struct ServerConfig {
    /// Accepted session keys; empty = no authentication (only sensible on loopback).
    pub session_keys: Vec<String>,
    pub conversations_path: PathBuf,
    pub bash_events_dir: PathBuf,
    pub max_concurrent_runs: usize,
    /// Key material for sealing secrets at rest: `OH_SECRET_KEY`, else the first session key.
    pub secret_key: Option<String>,
    pub max_upload_bytes: u64,
    /// Seconds a terminal command may run without output before the tool returns.
    pub terminal_no_output_timeout: f64,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys are secrets: only their count is shown.
        f.debug_struct("ServerConfig")
            .field("session_keys", &self.session_keys.len())
            .field("conversations_path", &self.conversations_path)
            .field("bash_events_dir", &self.bash_events_dir)
            .field("max_concurrent_runs", &self.max_concurrent_runs)
            .field("secret_key", &self.secret_key.is_some())
            .finish()
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Session keys from `OH_SESSION_API_KEYS` (a JSON list), `OH_SESSION_API_KEYS_0..n`, or the
/// legacy `SESSION_API_KEY`. Empty strings are dropped.
pub fn session_keys_from_env() -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    if let Some(list) = env("OH_SESSION_API_KEYS")
        && let Ok(parsed) = serde_json::from_str::<Vec<String>>(&list)
    {
        keys.extend(parsed);
    }
    for i in 0.. {
        match std::env::var(format!("OH_SESSION_API_KEYS_{i}")) {
            Ok(k) => keys.push(k),
            Err(_) => break,
        }
    }
    if keys.is_empty()
        && let Some(k) = env("SESSION_API_KEY")
    {
        keys.push(k);
    }
    keys.retain(|k| !k.trim().is_empty());
    keys
}

/// Reads the keys file and deletes it: once the server runs, the keys are in its memory only.
fn take_keys_file(path: &Path) -> Result<ServerKeys, ConfigError> {
    let failed = |message: String| ConfigError::KeysFile {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| failed(e.to_string()))?;
    std::fs::remove_file(path).map_err(|e| failed(format!("cannot delete it: {e}")))?;
    serde_json::from_str(&text).map_err(|e| failed(e.to_string()))
}

impl ServerConfig {
    /// From the environment, with the keys file's keys in place of the environment's.
    pub fn load() -> Result<Self, ConfigError> {
        let (keys, secret_key) = match env(KEYS_FILE_ENV) {
            Some(file) => {
                let mut k = take_keys_file(Path::new(&file))?;
                k.session_api_keys.retain(|k| !k.trim().is_empty());
                (k.session_api_keys, k.secret_key)
            }
            None => (session_keys_from_env(), env("OH_SECRET_KEY")),
        };
        let path = |var: &str, default: &str| {
            PathBuf::from(env(var).unwrap_or_else(|| default.to_string()))
        };
        Ok(Self {
            secret_key: secret_key.or_else(|| keys.first().cloned()),
            session_keys: keys,
            conversations_path: path("OH_CONVERSATIONS_PATH", "workspace/conversations"),
            bash_events_dir: path("OH_BASH_EVENTS_DIR", "workspace/bash_events"),
            max_concurrent_runs: env("OH_MAX_CONCURRENT_RUNS")
                .and_then(|v| v.parse().ok())
                .unwrap_or(10)
                .max(1),
            max_upload_bytes: env("BERTH_MAX_UPLOAD_BYTES")
                .and_then(|v| v.parse().ok())
                .unwrap_or(512 * 1024 * 1024),
            terminal_no_output_timeout: env("BERTH_TERMINAL_NO_OUTPUT_TIMEOUT")
                .and_then(|v| v.parse().ok())
                .unwrap_or(30.0),
        })
    }
}
