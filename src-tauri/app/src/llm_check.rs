//! Checking an LLM before a conversation depends on it: "Test connection" sends one tiny
//! completion through the same client the agent uses (so what passes here works there) and says
//! in plain words what failed; local servers (Ollama, LM Studio) are found on their usual ports
//! with the models they serve, so first-run setup can offer them.

use std::time::{Duration, Instant};

use berth_agent::llm::{Llm, LlmError};
use berth_protocol::{LlmConfig, Message};
use serde::{Deserialize, Serialize};

use crate::settings::LlmProfile;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ConnectionReport {
    pub ok: bool,
    /// What the user should read: the model's answer time, or what went wrong and what to do.
    pub message: String,
    #[ts(as = "f64")]
    pub latency_ms: u64,
}

/// One short completion with the profile's model, URL and key; never retried, 30 s at most.
pub async fn test_connection(profile: &LlmProfile, api_key: Option<String>) -> ConnectionReport {
    let mut config = LlmConfig::new(&profile.model);
    config.base_url = profile.base_url.clone().filter(|u| !u.is_empty());
    config.api_key = api_key;
    config.num_retries = 0;
    config.timeout = 30;
    let started = Instant::now();
    let result = match Llm::new(config) {
        Ok(llm) => {
            llm.complete(
                &[Message::user("Reply with the single word OK.")],
                &[],
                &tokio_util::sync::CancellationToken::new(),
                None,
            )
            .await
        }
        Err(e) => Err(e),
    };
    let latency_ms = started.elapsed().as_millis() as u64;
    match result {
        Ok(_) => ConnectionReport {
            ok: true,
            message: format!("{} answered in {latency_ms} ms", profile.model),
            latency_ms,
        },
        Err(e) => ConnectionReport {
            ok: false,
            message: advice(&e, profile),
            latency_ms,
        },
    }
}

fn advice(e: &LlmError, profile: &LlmProfile) -> String {
    match e {
        LlmError::Authentication { .. } => format!(
            "The API key was refused. Check the key of '{}' (Settings → LLM) — it may be for another provider, or revoked.",
            profile.name
        ),
        LlmError::QuotaExhausted { .. } => {
            "The account has no credit or quota left; add some at the provider.".into()
        }
        LlmError::RateLimited { .. } => {
            "The provider is rate limiting this key right now; the key works, try again in a minute."
                .into()
        }
        LlmError::Http { status: 404, .. } => format!(
            "The provider does not know the model '{}'. Check its spelling (provider/model).",
            profile.model
        ),
        LlmError::Connection { url, .. } => format!(
            "Nothing answers at {url}. Check the base URL, or start the server (for Ollama: `ollama serve`)."
        ),
        LlmError::Timeout(_) => "The model did not answer within 30 s.".into(),
        LlmError::Config(m) => format!("The profile cannot be used: {m}"),
        other => other.to_string(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum LocalKind {
    Ollama,
    LmStudio,
}

/// A local LLM server that answered, and what it serves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct LocalServer {
    pub kind: LocalKind,
    /// The base URL a profile should use (OpenAI-compatible `/v1` for both).
    pub base_url: String,
    /// Model ids as a profile names them (`ollama/qwen3-coder`, `lm_studio/…`).
    pub models: Vec<String>,
}

/// Where the two servers listen by default.
pub const DEFAULT_LOCAL: &[(LocalKind, &str)] = &[
    (LocalKind::Ollama, "http://127.0.0.1:11434"),
    (LocalKind::LmStudio, "http://127.0.0.1:1234"),
];

/// Asks each address at once (a short timeout each); returns those that answered.
pub async fn detect_local(candidates: &[(LocalKind, &str)]) -> Vec<LocalServer> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(800))
        .build()
        .unwrap_or_default();
    let checks = candidates
        .iter()
        .map(|(kind, root)| probe(&http, *kind, root.trim_end_matches('/')));
    futures::future::join_all(checks)
        .await
        .into_iter()
        .flatten()
        .collect()
}

async fn probe(http: &reqwest::Client, kind: LocalKind, root: &str) -> Option<LocalServer> {
    let (url, prefix) = match kind {
        LocalKind::Ollama => (format!("{root}/api/tags"), "ollama/"),
        LocalKind::LmStudio => (format!("{root}/v1/models"), "lm_studio/"),
    };
    let body: serde_json::Value = http.get(url).send().await.ok()?.json().await.ok()?;
    let names: Vec<String> = match kind {
        LocalKind::Ollama => body["models"]
            .as_array()?
            .iter()
            .filter_map(|m| m["name"].as_str().map(str::to_string))
            .collect(),
        LocalKind::LmStudio => body["data"]
            .as_array()?
            .iter()
            .filter_map(|m| m["id"].as_str().map(str::to_string))
            .collect(),
    };
    Some(LocalServer {
        kind,
        base_url: format!("{root}/v1"),
        models: names.into_iter().map(|n| format!("{prefix}{n}")).collect(),
    })
}
