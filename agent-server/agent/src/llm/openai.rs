//! OpenAI-compatible chat completions (`POST {base}/chat/completions`), JSON or SSE.

use std::collections::BTreeMap;

use berth_protocol::{Content, Message, MessageToolCall, Role, TokenUsage};
use futures::StreamExt;
use serde_json::{Value, json};

use super::{
    KeyHeader, Llm, LlmError, LlmResponse, StreamDelta, ToolSchema, fncall, post, read_json,
};

/// Where completions are POSTed, under the base URL.
pub(super) const PATH: &str = "/chat/completions";

pub(super) async fn complete(
    llm: &Llm,
    messages: &[Message],
    tools: &[ToolSchema],
    prompt_tools: bool,
    on_delta: Option<&(dyn Fn(StreamDelta) + Send + Sync)>,
) -> Result<LlmResponse, LlmError> {
    let body = request_body(llm, messages, tools, prompt_tools);
    let response = post(llm, PATH, &body, KeyHeader::Bearer, &[]).await?;
    if llm.config.stream {
        read_stream(response, on_delta).await
    } else {
        parse_completion(&read_json(response).await?)
    }
}

pub(crate) fn request_body(
    llm: &Llm,
    messages: &[Message],
    tools: &[ToolSchema],
    prompt_tools: bool,
) -> Value {
    let mut body = json!({
        "model": llm.model.name,
        "messages": messages.iter().map(message_json).collect::<Vec<_>>(),
    });
    if !tools.is_empty() {
        body["tools"] = tools
            .iter()
            .map(|t| {
                json!({"type": "function", "function": {
                    "name": t.name, "description": t.description, "parameters": t.parameters}})
            })
            .collect();
    }
    if prompt_tools {
        body["stop"] = json!([fncall::STOP_WORD]);
    }
    if llm.config.stream {
        body["stream"] = json!(true);
        body["stream_options"] = json!({"include_usage": true});
    }
    if let Some(t) = llm.config.temperature {
        body["temperature"] = json!(t);
    }
    if let Some(p) = llm.config.top_p {
        body["top_p"] = json!(p);
    }
    if let Some(m) = llm.config.max_output_tokens {
        body["max_completion_tokens"] = json!(m);
    }
    if is_reasoning_model(&llm.model.name)
        && let Some(effort) = &llm.config.reasoning_effort
    {
        body["reasoning_effort"] = json!(effort);
    }
    body
}

/// Models that accept `reasoning_effort`; others reject the parameter.
fn is_reasoning_model(name: &str) -> bool {
    let n = name.rsplit('/').next().unwrap_or(name);
    ["o1", "o3", "o4", "gpt-5"].iter().any(|p| n.starts_with(p))
}

fn content_json(content: &[Content]) -> Value {
    content
        .iter()
        .map(|c| match c {
            Content::Text(t) => json!({"type": "text", "text": t.text}),
            Content::Image(i) => json!({"type": "image_url",
                "image_url": {"url": i.image_urls.first().cloned().unwrap_or_default()}}),
        })
        .collect()
}

pub(crate) fn message_json(m: &Message) -> Value {
    match m.role {
        Role::Assistant => {
            let mut v = json!({"role": "assistant"});
            let text = m.text();
            if !text.is_empty() {
                v["content"] = content_json(&m.content);
            }
            if let Some(calls) = m.tool_calls.as_ref().filter(|c| !c.is_empty()) {
                v["tool_calls"] = calls
                    .iter()
                    .map(|c| {
                        json!({"id": c.id, "type": "function",
                        "function": {"name": c.name, "arguments": c.arguments}})
                    })
                    .collect();
            }
            v
        }
        Role::Tool => json!({
            "content": content_json(&m.content),
            "role": "tool",
            "tool_call_id": m.tool_call_id,
            "name": m.name,
        }),
        Role::System => json!({"content": content_json(&m.content), "role": "system"}),
        Role::User => json!({"content": content_json(&m.content), "role": "user"}),
    }
}

fn usage_from(v: &Value) -> TokenUsage {
    let n = |p: &str| v.pointer(p).and_then(Value::as_u64).unwrap_or(0);
    TokenUsage {
        prompt_tokens: n("/prompt_tokens"),
        completion_tokens: n("/completion_tokens"),
        cache_read_tokens: n("/prompt_tokens_details/cached_tokens"),
        reasoning_tokens: n("/completion_tokens_details/reasoning_tokens"),
        ..TokenUsage::default()
    }
}

fn parse_completion(v: &Value) -> Result<LlmResponse, LlmError> {
    if let Some(err) = v.get("error") {
        return Err(LlmError::BadResponse(format!("provider error: {err}")));
    }
    let choice = v.pointer("/choices/0").ok_or_else(|| {
        LlmError::BadResponse(format!("no choices in {}", truncate(&v.to_string())))
    })?;
    let msg = &choice["message"];
    let mut message = Message::new(Role::Assistant, Vec::new());
    match &msg["content"] {
        Value::String(s) if !s.is_empty() => message.content.push(Content::text(s.clone())),
        Value::Array(parts) => {
            for p in parts {
                if let Some(t) = p["text"].as_str() {
                    message.content.push(Content::text(t));
                }
            }
        }
        _ => {}
    }
    message.reasoning_content = msg["reasoning_content"].as_str().map(str::to_string);
    if let Some(calls) = msg["tool_calls"].as_array() {
        let calls: Vec<MessageToolCall> = calls
            .iter()
            .map(|c| MessageToolCall {
                id: c["id"].as_str().unwrap_or_default().to_string(),
                name: c
                    .pointer("/function/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                arguments: match c.pointer("/function/arguments") {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => "{}".into(),
                },
                origin: Default::default(),
                responses_item_id: None,
            })
            .collect();
        if !calls.is_empty() {
            message.tool_calls = Some(calls);
        }
    }
    Ok(LlmResponse {
        id: v["id"].as_str().unwrap_or_default().to_string(),
        message,
        usage: usage_from(&v["usage"]),
        finish_reason: choice["finish_reason"].as_str().map(str::to_string),
    })
}

#[derive(Default)]
struct PartialCall {
    id: String,
    name: String,
    arguments: String,
}

async fn read_stream(
    response: reqwest::Response,
    on_delta: Option<&(dyn Fn(StreamDelta) + Send + Sync)>,
) -> Result<LlmResponse, LlmError> {
    use eventsource_stream::Eventsource;
    let mut events = response.bytes_stream().eventsource();
    let mut id = String::new();
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut calls: BTreeMap<u64, PartialCall> = BTreeMap::new();
    let mut usage = TokenUsage::default();
    let mut finish_reason = None;
    while let Some(event) = events.next().await {
        let event = event.map_err(|e| LlmError::BadResponse(format!("stream: {e}")))?;
        if event.data.trim() == "[DONE]" {
            break;
        }
        let chunk: Value = serde_json::from_str(&event.data).map_err(|e| {
            LlmError::BadResponse(format!("stream chunk: {e}: {}", truncate(&event.data)))
        })?;
        if let Some(err) = chunk.get("error") {
            return Err(LlmError::BadResponse(format!("provider error: {err}")));
        }
        if id.is_empty() {
            id = chunk["id"].as_str().unwrap_or_default().to_string();
        }
        if chunk["usage"].is_object() {
            usage = usage_from(&chunk["usage"]);
        }
        let Some(choice) = chunk.pointer("/choices/0") else {
            continue;
        };
        if let Some(r) = choice["finish_reason"].as_str() {
            finish_reason = Some(r.to_string());
        }
        let delta = &choice["delta"];
        if let Some(piece) = delta["content"].as_str().filter(|s| !s.is_empty()) {
            text.push_str(piece);
            if let Some(cb) = on_delta {
                cb(StreamDelta::Content(piece.to_string()));
            }
        }
        if let Some(piece) = delta["reasoning_content"]
            .as_str()
            .filter(|s| !s.is_empty())
        {
            reasoning.push_str(piece);
            if let Some(cb) = on_delta {
                cb(StreamDelta::Reasoning(piece.to_string()));
            }
        }
        for call in delta["tool_calls"].as_array().into_iter().flatten() {
            let index = call["index"].as_u64().unwrap_or(0);
            let entry = calls.entry(index).or_default();
            if let Some(cid) = call["id"].as_str() {
                entry.id = cid.to_string();
            }
            if let Some(name) = call.pointer("/function/name").and_then(Value::as_str) {
                entry.name.push_str(name);
            }
            if let Some(args) = call.pointer("/function/arguments").and_then(Value::as_str) {
                entry.arguments.push_str(args);
            }
        }
    }
    let mut message = Message::new(Role::Assistant, Vec::new());
    if !text.is_empty() {
        message.content.push(Content::text(text));
    }
    if !reasoning.is_empty() {
        message.reasoning_content = Some(reasoning);
    }
    if !calls.is_empty() {
        message.tool_calls = Some(
            calls
                .into_values()
                .map(|c| MessageToolCall {
                    id: c.id,
                    name: c.name,
                    arguments: if c.arguments.is_empty() {
                        "{}".into()
                    } else {
                        c.arguments
                    },
                    origin: Default::default(),
                    responses_item_id: None,
                })
                .collect(),
        );
    }
    Ok(LlmResponse {
        id,
        message,
        usage,
        finish_reason,
    })
}

fn truncate(s: &str) -> String {
    s.chars().take(300).collect()
}
