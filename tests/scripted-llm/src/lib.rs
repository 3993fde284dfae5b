//! The scripted LLM: the one stand-in Berth's tests allow. It is a real HTTP server on loopback
//! that answers OpenAI's `POST /v1/chat/completions` and Anthropic's `POST /v1/messages`, in
//! their JSON and server-sent-event forms, with the next step of a script: text, tool calls, or
//! an HTTP error such as 429 (with `Retry-After`) or 500. Every request is recorded so tests can
//! assert on what the agent sent.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Step {
    /// An assistant turn: optional text, optional tool calls `(name, arguments)`.
    Reply {
        text: Option<String>,
        tool_calls: Vec<(String, Value)>,
        delay: Duration,
    },
    /// An HTTP error with this status and body; `retry_after` in seconds when set.
    Error {
        status: u16,
        body: String,
        retry_after: Option<u64>,
    },
    /// A 200 answer whose body is not a valid completion.
    Garbage(String),
}

impl Step {
    pub fn text(text: impl Into<String>) -> Self {
        Step::Reply {
            text: Some(text.into()),
            tool_calls: Vec::new(),
            delay: Duration::ZERO,
        }
    }

    pub fn tool(name: &str, args: Value) -> Self {
        Step::Reply {
            text: None,
            tool_calls: vec![(name.to_string(), args)],
            delay: Duration::ZERO,
        }
    }

    pub fn tools(calls: Vec<(&str, Value)>) -> Self {
        Step::Reply {
            text: None,
            tool_calls: calls.into_iter().map(|(n, a)| (n.to_string(), a)).collect(),
            delay: Duration::ZERO,
        }
    }

    /// The same reply with a thought (text before the tool calls).
    pub fn with_text(self, thought: impl Into<String>) -> Self {
        match self {
            Step::Reply {
                tool_calls, delay, ..
            } => Step::Reply {
                text: Some(thought.into()),
                tool_calls,
                delay,
            },
            other => other,
        }
    }

    /// The same reply, answered only after `delay`.
    pub fn delayed(self, delay: Duration) -> Self {
        match self {
            Step::Reply {
                text, tool_calls, ..
            } => Step::Reply {
                text,
                tool_calls,
                delay,
            },
            other => other,
        }
    }

    pub fn error(status: u16, body: impl Into<String>) -> Self {
        Step::Error {
            status,
            body: body.into(),
            retry_after: None,
        }
    }

    pub fn rate_limited(retry_after: u64) -> Self {
        Step::Error {
            status: 429,
            body: r#"{"error":{"message":"Rate limit reached","type":"rate_limit_error"}}"#.into(),
            retry_after: Some(retry_after),
        }
    }
}

/// A request the server received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Step>,
    requests: Vec<Recorded>,
    call_counter: u64,
}

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Inner>>);

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panicking test thread must not hide the script from the others.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running scripted LLM server; it stops when dropped.
pub struct ScriptedLlm {
    addr: SocketAddr,
    shared: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ScriptedLlm {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ScriptedLlm {
    /// Starts the server on a free loopback port with this script.
    pub async fn start(script: Vec<Step>) -> std::io::Result<Self> {
        Self::start_on("127.0.0.1:0", script).await
    }

    /// Starts the server on `addr` (e.g. `0.0.0.0:0`, so a container on this machine reaches it
    /// through the Docker bridge).
    pub async fn start_on(addr: &str, script: Vec<Step>) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Shared::default();
        shared.lock().script = script.into();
        let app = Router::new()
            .route("/v1/chat/completions", post(openai))
            .route("/chat/completions", post(openai))
            .route("/v1/messages", post(anthropic))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, shared, task })
    }

    /// Base URL for OpenAI-compatible clients (ends in `/v1`).
    pub fn openai_base_url(&self) -> String {
        format!("http://{}/v1", self.loopback())
    }

    /// The address as reached from this machine (a wildcard bind is reached on loopback).
    fn loopback(&self) -> std::net::SocketAddr {
        let mut a = self.addr;
        if a.ip().is_unspecified() {
            a.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        a
    }

    /// Base URL for Anthropic clients (the client appends `/v1/messages`).
    pub fn anthropic_base_url(&self) -> String {
        format!("http://{}", self.loopback())
    }

    pub fn push(&self, step: Step) {
        self.shared.lock().script.push_back(step);
    }

    pub fn remaining(&self) -> usize {
        self.shared.lock().script.len()
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().requests.clone()
    }
}

enum Next {
    Reply {
        id: String,
        text: Option<String>,
        calls: Vec<(String, String, Value)>,
        delay: Duration,
    },
    Fail(Response),
}

fn next_step(shared: &Shared, path: &str, headers: &HeaderMap, body: &Value) -> Next {
    let mut inner = shared.lock();
    inner.requests.push(Recorded {
        path: path.to_string(),
        headers: headers.clone(),
        body: body.clone(),
    });
    inner.call_counter += 1;
    let n = inner.call_counter;
    match inner.script.pop_front() {
        None => Next::Fail(
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                r#"{"error":{"message":"scripted LLM: script exhausted"}}"#,
            )
                .into_response(),
        ),
        Some(Step::Error {
            status,
            body,
            retry_after,
        }) => {
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut resp = (code, body).into_response();
            if let Some(secs) = retry_after {
                resp.headers_mut()
                    .insert("retry-after", HeaderValue::from(secs));
            }
            Next::Fail(resp)
        }
        Some(Step::Garbage(body)) => Next::Fail((StatusCode::OK, body).into_response()),
        Some(Step::Reply {
            text,
            tool_calls,
            delay,
        }) => Next::Reply {
            id: format!("resp-{n}"),
            text,
            calls: tool_calls
                .into_iter()
                .enumerate()
                .map(|(i, (name, args))| (format!("call_{n}_{i}"), name, args))
                .collect(),
            delay,
        },
    }
}

const PROMPT_TOKENS: u64 = 100;
const COMPLETION_TOKENS: u64 = 10;

async fn openai(
    State(shared): State<Shared>,
    headers: HeaderMap,
    body: axum::Json<Value>,
) -> Response {
    let body = body.0;
    let (id, text, calls, delay) = match next_step(&shared, "/v1/chat/completions", &headers, &body)
    {
        Next::Fail(r) => return r,
        Next::Reply {
            id,
            text,
            calls,
            delay,
        } => (id, text, calls, delay),
    };
    tokio::time::sleep(delay).await;
    let model = body["model"].clone();
    let usage = json!({"prompt_tokens": PROMPT_TOKENS, "completion_tokens": COMPLETION_TOKENS,
                       "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS});
    let finish = if calls.is_empty() {
        "stop"
    } else {
        "tool_calls"
    };
    if body["stream"].as_bool() != Some(true) {
        let tool_calls: Vec<Value> = calls
            .iter()
            .map(|(cid, name, args)| {
                json!({"id": cid, "type": "function",
                       "function": {"name": name, "arguments": args.to_string()}})
            })
            .collect();
        let mut message = json!({"role": "assistant", "content": text});
        if !tool_calls.is_empty() {
            message["tool_calls"] = Value::Array(tool_calls);
        }
        return axum::Json(json!({
            "id": id, "object": "chat.completion", "created": 0, "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": usage,
        }))
        .into_response();
    }
    // Streaming: text in small chunks, then each tool call split into name and argument pieces.
    let mut chunks = Vec::new();
    let chunk = |delta: Value, finish: Value| {
        json!({"id": id, "object": "chat.completion.chunk", "created": 0, "model": model,
               "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    chunks.push(chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    ));
    if let Some(text) = &text {
        for piece in split_pieces(text, 7) {
            chunks.push(chunk(json!({"content": piece}), Value::Null));
        }
    }
    for (i, (cid, name, args)) in calls.iter().enumerate() {
        chunks.push(chunk(
            json!({"tool_calls": [{"index": i, "id": cid, "type": "function",
                                   "function": {"name": name, "arguments": ""}}]}),
            Value::Null,
        ));
        for piece in split_pieces(&args.to_string(), 9) {
            chunks.push(chunk(
                json!({"tool_calls": [{"index": i, "function": {"arguments": piece}}]}),
                Value::Null,
            ));
        }
    }
    chunks.push(chunk(json!({}), json!(finish)));
    let mut last = chunk(json!({}), Value::Null);
    last["choices"] = json!([]);
    last["usage"] = usage;
    chunks.push(last);
    let mut sse = String::new();
    for c in chunks {
        sse.push_str(&format!("data: {c}\n\n"));
    }
    sse.push_str("data: [DONE]\n\n");
    sse_response(sse)
}

async fn anthropic(
    State(shared): State<Shared>,
    headers: HeaderMap,
    body: axum::Json<Value>,
) -> Response {
    let body = body.0;
    let (id, text, calls, delay) = match next_step(&shared, "/v1/messages", &headers, &body) {
        Next::Fail(r) => return r,
        Next::Reply {
            id,
            text,
            calls,
            delay,
        } => (id, text, calls, delay),
    };
    tokio::time::sleep(delay).await;
    let model = body["model"].clone();
    let stop = if calls.is_empty() {
        "end_turn"
    } else {
        "tool_use"
    };
    let mut blocks = Vec::new();
    if let Some(text) = &text {
        blocks.push(json!({"type": "text", "text": text}));
    }
    for (cid, name, args) in &calls {
        blocks.push(json!({"type": "tool_use", "id": cid, "name": name, "input": args}));
    }
    let usage = json!({"input_tokens": PROMPT_TOKENS, "output_tokens": COMPLETION_TOKENS,
                       "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0});
    if body["stream"].as_bool() != Some(true) {
        return axum::Json(json!({
            "id": id, "type": "message", "role": "assistant", "model": model,
            "content": blocks, "stop_reason": stop, "stop_sequence": null, "usage": usage,
        }))
        .into_response();
    }
    let mut events: Vec<(&str, Value)> = vec![(
        "message_start",
        json!({"type": "message_start", "message": {"id": id, "type": "message",
               "role": "assistant", "model": model, "content": [], "stop_reason": null,
               "usage": {"input_tokens": PROMPT_TOKENS, "output_tokens": 1}}}),
    )];
    for (i, block) in blocks.iter().enumerate() {
        if block["type"] == "text" {
            events.push((
                "content_block_start",
                json!({"type": "content_block_start", "index": i,
                         "content_block": {"type": "text", "text": ""}}),
            ));
            for piece in split_pieces(block["text"].as_str().unwrap_or_default(), 7) {
                events.push((
                    "content_block_delta",
                    json!({"type": "content_block_delta", "index": i,
                             "delta": {"type": "text_delta", "text": piece}}),
                ));
            }
        } else {
            events.push((
                "content_block_start",
                json!({"type": "content_block_start", "index": i,
                         "content_block": {"type": "tool_use", "id": block["id"],
                                           "name": block["name"], "input": {}}}),
            ));
            for piece in split_pieces(&block["input"].to_string(), 9) {
                events.push((
                    "content_block_delta",
                    json!({"type": "content_block_delta", "index": i,
                             "delta": {"type": "input_json_delta", "partial_json": piece}}),
                ));
            }
        }
        events.push((
            "content_block_stop",
            json!({"type": "content_block_stop", "index": i}),
        ));
    }
    events.push((
        "message_delta",
        json!({"type": "message_delta",
                 "delta": {"stop_reason": stop, "stop_sequence": null},
                 "usage": {"output_tokens": COMPLETION_TOKENS}}),
    ));
    events.push(("message_stop", json!({"type": "message_stop"})));
    let mut sse = String::new();
    for (name, data) in events {
        sse.push_str(&format!("event: {name}\ndata: {data}\n\n"));
    }
    sse_response(sse)
}

fn sse_response(body: String) -> Response {
    Response::builder()
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(Body::from(body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

fn split_pieces(s: &str, size: usize) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    chars
        .chunks(size.max(1))
        .map(|c| c.iter().collect())
        .collect()
}
