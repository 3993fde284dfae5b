//! LLM clients. One [`Llm`] per configured model: it parses LiteLLM-style `provider/model` ids,
//! picks the wire format (OpenAI-compatible chat completions for OpenAI, Ollama, vLLM, LM Studio,
//! OpenRouter and any compatible server; Anthropic Messages for `anthropic/…`), retries with
//! exponential back-off on 429/5xx/timeouts (honouring `Retry-After`), and accounts tokens and
//! cost into [`Metrics`]. Models without native tool calling get tools through the prompt
//! ([`fncall`]).
//!
//! Crates: `reqwest` (rustls, no system OpenSSL) for HTTP, `eventsource-stream` for SSE parsing.

mod anthropic;
pub mod fncall;
mod openai;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use berth_protocol::state::{Cost, ResponseLatency};
use berth_protocol::{LlmConfig, Message, Metrics, TokenUsage};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

/// How an error result starts in the text the LLM reads; a provider with an error flag on tool
/// results (Anthropic's `is_error`) sets it from this.
pub const ERROR_PREFIX: &str = "[An error occurred during execution.]\n";

/// A tool as offered to the LLM.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSchema {
    pub name: String,
    pub description: String,
    /// JSON schema of the arguments (`{"type":"object","properties":…}`).
    pub parameters: Value,
}

/// A finished completion.
#[derive(Debug, Clone)]
pub struct LlmResponse {
    pub id: String,
    /// The assistant message: text content and tool calls.
    pub message: Message,
    pub usage: TokenUsage,
    pub finish_reason: Option<String>,
}

/// A piece of a streamed answer.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamDelta {
    Content(String),
    Reasoning(String),
}

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("the LLM provider rejected the API key ({status}): {body}")]
    Authentication { status: u16, body: String },
    #[error("the LLM provider is rate limiting requests (429): {body}")]
    RateLimited {
        body: String,
        retry_after: Option<Duration>,
    },
    #[error("the LLM account has no quota left: {body}")]
    QuotaExhausted { body: String },
    #[error("the conversation no longer fits the model's context window: {body}")]
    ContextWindowExceeded { body: String },
    #[error("the LLM provider answered {status}: {body}")]
    Http { status: u16, body: String },
    #[error("could not reach the LLM at {url}: {message}")]
    Connection { url: String, message: String },
    #[error("the LLM did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the LLM answer could not be understood: {0}")]
    BadResponse(String),
    #[error("the LLM returned an empty answer")]
    EmptyResponse,
    #[error("the LLM call was cancelled")]
    Cancelled,
    #[error("invalid LLM configuration: {0}")]
    Config(String),
}

impl LlmError {
    fn is_retryable(&self) -> bool {
        match self {
            LlmError::RateLimited { .. }
            | LlmError::Connection { .. }
            | LlmError::Timeout(_)
            | LlmError::BadResponse(_)
            | LlmError::EmptyResponse => true,
            LlmError::Http { status, .. } => matches!(status, 500 | 502 | 503 | 504 | 529),
            _ => false,
        }
    }

    /// The OpenHands error code (`ConversationErrorEvent.code`) for this failure.
    pub fn code(&self) -> &'static str {
        match self {
            LlmError::Authentication { .. } => "LLMAuthenticationError",
            LlmError::RateLimited { .. } => "LLMRateLimitError",
            LlmError::QuotaExhausted { .. } => "LLMQuotaExceededError",
            LlmError::ContextWindowExceeded { .. } => "LLMContextWindowExceedError",
            LlmError::Http { status, .. } if *status >= 500 => "LLMServiceUnavailableError",
            LlmError::Http { .. } => "LLMBadRequestError",
            LlmError::Connection { .. } => "LLMConnectionError",
            LlmError::Timeout(_) => "LLMTimeoutError",
            LlmError::BadResponse(_) => "LLMMalformedResponseError",
            LlmError::EmptyResponse => "LLMNoResponseError",
            LlmError::Cancelled => "LLMCancelledError",
            LlmError::Config(_) => "LLMConfigError",
        }
    }

    /// How the failure is classified for the user (what they can do about it).
    pub fn classification(&self) -> berth_protocol::ErrorClassification {
        use berth_protocol::{ErrorClassification as C, FailureAction as A, FailureKind as K};
        match self {
            LlmError::Authentication { .. } => C::new(K::Auth, false, A::Settings),
            LlmError::QuotaExhausted { .. } => C::new(K::Quota, false, A::Settings),
            LlmError::RateLimited { .. } => C::new(K::RateLimit, true, A::Retry),
            LlmError::Config(_) => C::new(K::Config, false, A::Settings),
            e if e.is_retryable() => C::new(K::Transient, true, A::Retry),
            _ => C::new(K::Unknown, false, A::Retry),
        }
    }
}

/// Which wire format a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    OpenAi,
    Anthropic,
}

/// A parsed `provider/model` id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelId {
    pub provider: String,
    /// The model name sent on the wire (everything after the provider prefix).
    pub name: String,
    pub wire: Wire,
    pub default_base_url: Option<&'static str>,
}

impl ModelId {
    pub fn parse(model: &str) -> Self {
        let (provider, name) = match model.split_once('/') {
            Some((p, n)) if KNOWN_PROVIDERS.contains(&p) => (p.to_string(), n.to_string()),
            _ => ("openai".to_string(), model.to_string()),
        };
        let (wire, default_base_url) = match provider.as_str() {
            "anthropic" => (Wire::Anthropic, Some("https://api.anthropic.com")),
            "openai" => (Wire::OpenAi, Some("https://api.openai.com/v1")),
            "openrouter" => (Wire::OpenAi, Some("https://openrouter.ai/api/v1")),
            "ollama" | "ollama_chat" => (Wire::OpenAi, Some("http://localhost:11434/v1")),
            "lm_studio" => (Wire::OpenAi, Some("http://localhost:1234/v1")),
            "deepseek" => (Wire::OpenAi, Some("https://api.deepseek.com/v1")),
            "mistral" => (Wire::OpenAi, Some("https://api.mistral.ai/v1")),
            "groq" => (Wire::OpenAi, Some("https://api.groq.com/openai/v1")),
            _ => (Wire::OpenAi, None),
        };
        Self {
            provider,
            name,
            wire,
            default_base_url,
        }
    }
}

const KNOWN_PROVIDERS: &[&str] = &[
    "openai",
    "anthropic",
    "openrouter",
    "ollama",
    "ollama_chat",
    "lm_studio",
    "hosted_vllm",
    "vllm",
    "litellm_proxy",
    "deepseek",
    "mistral",
    "groq",
    "together_ai",
    "fireworks_ai",
];

/// The URL the config's requests go under: its own, else its provider's (without a trailing `/`).
pub fn base_url(config: &LlmConfig) -> Result<String, LlmError> {
    let model = ModelId::parse(&config.model);
    config
        .base_url
        .clone()
        .filter(|u| !u.trim().is_empty())
        .or(model.default_base_url.map(str::to_string))
        .map(|u| u.trim_end_matches('/').to_string())
        .ok_or_else(|| {
            LlmError::Config(format!(
                "model '{}' needs a base URL (provider '{}' has no default)",
                config.model, model.provider
            ))
        })
}

/// The path a provider's completions are POSTed to, under its base URL.
pub fn completion_path(wire: Wire) -> &'static str {
    match wire {
        Wire::OpenAi => openai::PATH,
        Wire::Anthropic => anthropic::PATH,
    }
}

/// A configured LLM with its accumulated metrics.
pub struct Llm {
    config: LlmConfig,
    model: ModelId,
    base_url: String,
    http: reqwest::Client,
    metrics: Mutex<Metrics>,
}

impl std::fmt::Debug for Llm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the config: it holds the API key.
        f.debug_struct("Llm")
            .field("model", &self.config.model)
            .field("base_url", &self.base_url)
            .finish()
    }
}

impl Llm {
    pub fn new(config: LlmConfig) -> Result<Self, LlmError> {
        let model = ModelId::parse(&config.model);
        let base_url = base_url(&config)?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| LlmError::Config(e.to_string()))?;
        let metrics = Metrics {
            model_name: config.model.clone(),
            accumulated_token_usage: Some(TokenUsage {
                model: config.model.clone(),
                ..TokenUsage::default()
            }),
            ..Metrics::default()
        };
        Ok(Self {
            config,
            model,
            base_url,
            http,
            metrics: Mutex::new(metrics),
        })
    }

    pub fn config(&self) -> &LlmConfig {
        &self.config
    }

    pub fn usage_id(&self) -> &str {
        &self.config.usage_id
    }

    pub fn metrics(&self) -> Metrics {
        self.metrics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Restores metrics saved with a conversation.
    pub fn restore_metrics(&self, metrics: Metrics) {
        *self.metrics.lock().unwrap_or_else(|e| e.into_inner()) = metrics;
    }

    /// Whether tools go through the API (`true`) or through the prompt.
    pub fn native_tools(&self) -> bool {
        self.config.native_tool_calling
    }

    /// One completion, with retries. `on_delta` receives streamed pieces when streaming is on.
    pub async fn complete(
        &self,
        messages: &[Message],
        tools: &[ToolSchema],
        cancel: &CancellationToken,
        on_delta: Option<&(dyn Fn(StreamDelta) + Send + Sync)>,
    ) -> Result<LlmResponse, LlmError> {
        let prompt_tools = !self.config.native_tool_calling && !tools.is_empty();
        let (messages, tools): (Vec<Message>, &[ToolSchema]) = if prompt_tools {
            (fncall::messages_for_prompt_tools(messages, tools), &[])
        } else {
            (messages.to_vec(), tools)
        };
        let mut attempt: u32 = 0;
        loop {
            let started = Instant::now();
            let result = tokio::select! {
                r = self.attempt(&messages, tools, prompt_tools, on_delta) => r,
                _ = cancel.cancelled() => Err(LlmError::Cancelled),
            };
            match result {
                Ok(mut response) => {
                    if prompt_tools {
                        fncall::parse_prompt_tool_calls(&mut response.message);
                    }
                    if response.message.text().trim().is_empty()
                        && response
                            .message
                            .tool_calls
                            .as_ref()
                            .is_none_or(Vec::is_empty)
                        && response.message.reasoning_content.is_none()
                        && attempt < self.config.num_retries
                    {
                        attempt += 1;
                        tracing::warn!(attempt, "empty LLM response, retrying");
                        continue;
                    }
                    self.record(&mut response, started.elapsed());
                    return Ok(response);
                }
                Err(e) if e.is_retryable() && attempt < self.config.num_retries => {
                    attempt += 1;
                    let wait = self.backoff(attempt, &e);
                    tracing::warn!(attempt, ?wait, error = %e, "LLM call failed, retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = cancel.cancelled() => return Err(LlmError::Cancelled),
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// OpenHands' schedule: `multiplier * 2^(attempt-1)` seconds within `[min, max]`; a
    /// `Retry-After` from the provider wins (capped at `max`).
    fn backoff(&self, attempt: u32, error: &LlmError) -> Duration {
        let max = self.config.retry_max_wait as f64;
        if let LlmError::RateLimited {
            retry_after: Some(after),
            ..
        } = error
        {
            return (*after).min(Duration::from_secs(self.config.retry_max_wait));
        }
        let exp = self.config.retry_multiplier * 2f64.powi(attempt.saturating_sub(1) as i32);
        let secs = exp.clamp(self.config.retry_min_wait as f64, max.max(0.0));
        crate::untrusted::seconds(secs, crate::untrusted::MAX_WAIT)
            .unwrap_or(Duration::from_secs(self.config.retry_min_wait))
    }

    async fn attempt(
        &self,
        messages: &[Message],
        tools: &[ToolSchema],
        prompt_tools: bool,
        on_delta: Option<&(dyn Fn(StreamDelta) + Send + Sync)>,
    ) -> Result<LlmResponse, LlmError> {
        let timeout = Duration::from_secs(self.config.timeout.max(1));
        let call = async {
            match self.model.wire {
                Wire::OpenAi => {
                    openai::complete(self, messages, tools, prompt_tools, on_delta).await
                }
                Wire::Anthropic => {
                    anthropic::complete(self, messages, tools, prompt_tools, on_delta).await
                }
            }
        };
        tokio::time::timeout(timeout, call)
            .await
            .map_err(|_| LlmError::Timeout(timeout))?
    }

    fn record(&self, response: &mut LlmResponse, latency: Duration) {
        let usage = &mut response.usage;
        usage.model = self.config.model.clone();
        usage.response_id = response.id.clone();
        usage.per_turn_token = usage.prompt_tokens + usage.completion_tokens;
        let cost = self.config.input_cost_per_token.unwrap_or(0.0) * usage.prompt_tokens as f64
            + self.config.output_cost_per_token.unwrap_or(0.0) * usage.completion_tokens as f64;
        let now = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
        let mut m = self.metrics.lock().unwrap_or_else(|e| e.into_inner());
        m.accumulated_cost += cost;
        if cost > 0.0 {
            m.costs.push(Cost {
                model: self.config.model.clone(),
                cost,
                timestamp: now,
            });
        }
        m.response_latencies.push(ResponseLatency {
            model: self.config.model.clone(),
            latency: latency.as_secs_f64(),
            response_id: response.id.clone(),
        });
        m.accumulated_token_usage
            .get_or_insert_with(TokenUsage::default)
            .add(usage);
        m.token_usages.push(usage.clone());
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    fn extra_headers(&self) -> Vec<(String, String)> {
        self.config
            .extra_headers
            .iter()
            .flatten()
            .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
            .collect()
    }
}

/// How a provider wants the API key.
enum KeyHeader {
    Bearer,
    Named(&'static str),
}

/// POSTs a JSON body to `path` under the base URL, with the key, the provider's fixed headers
/// and the user's extra headers.
async fn post(
    llm: &Llm,
    path: &str,
    body: &Value,
    key: KeyHeader,
    fixed: &[(&str, &str)],
) -> Result<reqwest::Response, LlmError> {
    let url = llm.url(path);
    let mut req = llm.http.post(&url).json(body);
    for (k, v) in fixed {
        req = req.header(*k, *v);
    }
    if let Some(k) = llm.config.api_key.as_deref().filter(|k| !k.is_empty()) {
        req = match key {
            KeyHeader::Bearer => req.bearer_auth(k),
            KeyHeader::Named(name) => req.header(name, k),
        };
    }
    for (k, v) in llm.extra_headers() {
        req = req.header(k, v);
    }
    send(llm, req, &url).await
}

/// Reads a whole non-streamed answer as JSON.
async fn read_json(response: reqwest::Response) -> Result<Value, LlmError> {
    let text = response
        .text()
        .await
        .map_err(|e| LlmError::BadResponse(e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| {
        let head: String = text.chars().take(300).collect();
        LlmError::BadResponse(format!("{e}: {head}"))
    })
}

/// Sends a JSON request and maps transport and HTTP failures to [`LlmError`].
async fn send(
    llm: &Llm,
    request: reqwest::RequestBuilder,
    url: &str,
) -> Result<reqwest::Response, LlmError> {
    let response = request.send().await.map_err(|e| {
        if e.is_timeout() {
            LlmError::Timeout(Duration::from_secs(llm.config.timeout))
        } else {
            LlmError::Connection {
                url: url.to_string(),
                message: e.to_string(),
            }
        }
    })?;
    let status = response.status().as_u16();
    if (200..300).contains(&status) {
        return Ok(response);
    }
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .and_then(|s| crate::untrusted::seconds(s, crate::untrusted::MAX_WAIT));
    let body = response.text().await.unwrap_or_default();
    let lower = body.to_lowercase();
    Err(match status {
        401 | 403 => LlmError::Authentication { status, body },
        429 if lower.contains("insufficient_quota") || lower.contains("quota exceeded") => {
            LlmError::QuotaExhausted { body }
        }
        429 => LlmError::RateLimited { body, retry_after },
        400 | 413
            if lower.contains("context length")
                || lower.contains("context_length")
                || lower.contains("too long")
                || lower.contains("maximum context") =>
        {
            LlmError::ContextWindowExceeded { body }
        }
        _ => LlmError::Http { status, body },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_provider_prefixes() {
        let m = ModelId::parse("anthropic/claude-sonnet-4-5");
        assert_eq!(
            (m.wire, m.name.as_str()),
            (Wire::Anthropic, "claude-sonnet-4-5")
        );
        let m = ModelId::parse("openrouter/anthropic/claude-sonnet-4-5");
        assert_eq!(m.name, "anthropic/claude-sonnet-4-5");
        assert_eq!(m.default_base_url, Some("https://openrouter.ai/api/v1"));
        let m = ModelId::parse("ollama/qwen3-coder");
        assert_eq!(
            (m.wire, m.default_base_url),
            (Wire::OpenAi, Some("http://localhost:11434/v1"))
        );
        let m = ModelId::parse("gpt-5");
        assert_eq!((m.provider.as_str(), m.name.as_str()), ("openai", "gpt-5"));
        let m = ModelId::parse("hosted_vllm/org/model");
        assert_eq!((m.name.as_str(), m.default_base_url), ("org/model", None));
    }

    #[test]
    fn a_provider_without_default_url_needs_one() {
        let err = Llm::new(LlmConfig::new("hosted_vllm/m")).err();
        assert!(matches!(err, Some(LlmError::Config(msg)) if msg.contains("base URL")));
    }

    #[test]
    fn backoff_follows_the_schedule_and_honours_retry_after() {
        let llm = Llm::new(LlmConfig::new("openai/x")).unwrap();
        let http = LlmError::Http {
            status: 500,
            body: String::new(),
        };
        assert_eq!(llm.backoff(1, &http), Duration::from_secs(8));
        assert_eq!(llm.backoff(2, &http), Duration::from_secs(16));
        assert_eq!(llm.backoff(5, &http), Duration::from_secs(64));
        let limited = LlmError::RateLimited {
            body: String::new(),
            retry_after: Some(Duration::from_secs(3)),
        };
        assert_eq!(llm.backoff(1, &limited), Duration::from_secs(3));
        let huge = LlmError::RateLimited {
            body: String::new(),
            retry_after: Some(Duration::from_secs(999)),
        };
        assert_eq!(llm.backoff(1, &huge), Duration::from_secs(64));
    }
}
