//! Anthropic Messages (`POST {base}/v1/messages`), JSON or SSE, with prompt caching: the static
//! system block and the last user turn carry `cache_control` so long conversations re-use the
//! cached prefix.

use std::collections::BTreeMap;

use berth_protocol::{Content, Message, MessageToolCall, Role, TokenUsage};
use futures::StreamExt;
use serde_json::{Value, json};

use super::{
    KeyHeader, Llm, LlmError, LlmResponse, StreamDelta, ToolSchema, fncall, post, read_json,
};

const API_VERSION: &str = "2023-06-01";
/// Where completions are POSTed, under the base URL.
pub(super) const PATH: &str = "/v1/messages";
const DEFAULT_MAX_TOKENS: u64 = 8192;

pub(super) async fn complete(
    llm: &Llm,
    messages: &[Message],
    tools: &[ToolSchema],
    prompt_tools: bool,
    on_delta: Option<&(dyn Fn(StreamDelta) + Send + Sync)>,
) -> Result<LlmResponse, LlmError> {
    let body = request_body(llm, messages, tools, prompt_tools);
    let response = post(
        llm,
        PATH,
        &body,
        KeyHeader::Named("x-api-key"),
        &[("anthropic-version", API_VERSION)],
    )
    .await?;
    if llm.config.stream {
        read_stream(response, on_delta).await
    } else {
        parse_message(&read_json(response).await?)
    }
}

fn text_blocks(content: &[Content]) -> Vec<Value> {
    content
        .iter()
        .filter_map(|c| match c {
            Content::Text(t) if !t.text.is_empty() => Some(json!({"type": "text", "text": t.text})),
            Content::Text(_) => None,
            Content::Image(i) => i.image_urls.first().map(|url| image_block(url)),
        })
        .collect()
}

fn image_block(url: &str) -> Value {
    match url
        .strip_prefix("data:")
        .and_then(|r| r.split_once(";base64,"))
    {
        Some((media_type, data)) => {
            json!({"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}})
        }
        None => json!({"type": "image", "source": {"type": "url", "url": url}}),
    }
}

pub(crate) fn request_body(
    llm: &Llm,
    messages: &[Message],
    tools: &[ToolSchema],
    prompt_tools: bool,
) -> Value {
    let caching = llm.config.caching_prompt;
    let mut system: Vec<Value> = Vec::new();
    let mut turns: Vec<Value> = Vec::new();
    for m in messages {
        match m.role {
            Role::System => system.extend(text_blocks(&m.content)),
            Role::User => push_turn(&mut turns, "user", text_blocks(&m.content)),
            Role::Assistant => {
                let mut blocks = text_blocks(&m.content);
                for c in m.tool_calls.iter().flatten() {
                    let input: Value =
                        serde_json::from_str(&c.arguments).unwrap_or_else(|_| json!({}));
                    blocks.push(
                        json!({"type": "tool_use", "id": c.id, "name": c.name, "input": input}),
                    );
                }
                push_turn(&mut turns, "assistant", blocks);
            }
            Role::Tool => {
                let is_error = m.text().starts_with(super::ERROR_PREFIX);
                let block = json!({"type": "tool_result",
                    "tool_use_id": m.tool_call_id.clone().unwrap_or_default(),
                    "content": text_blocks(&m.content), "is_error": is_error});
                push_turn(&mut turns, "user", vec![block]);
            }
        }
    }
    if caching {
        // The first system block is static across conversations; the last user turn marks the
        // end of the prefix that the next call will share.
        if let Some(first) = system.first_mut() {
            first["cache_control"] = json!({"type": "ephemeral"});
        }
        if let Some(last_user) = turns.iter_mut().rev().find(|t| t["role"] == "user")
            && let Some(block) = last_user["content"]
                .as_array_mut()
                .and_then(|b| b.last_mut())
        {
            block["cache_control"] = json!({"type": "ephemeral"});
        }
    }
    let mut body = json!({
        "model": llm.model.name,
        "max_tokens": llm.config.max_output_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
        "messages": turns,
    });
    if !system.is_empty() {
        body["system"] = Value::Array(system);
    }
    if !tools.is_empty() {
        body["tools"] = tools
            .iter()
            .map(|t| json!({"name": t.name, "description": t.description, "input_schema": t.parameters}))
            .collect();
    }
    if prompt_tools {
        body["stop_sequences"] = json!([fncall::STOP_WORD]);
    }
    if let Some(t) = llm.config.temperature {
        body["temperature"] = json!(t);
    }
    if llm.config.stream {
        body["stream"] = json!(true);
    }
    body
}

/// Anthropic requires alternating roles: consecutive blocks of one role merge into one turn.
fn push_turn(turns: &mut Vec<Value>, role: &str, blocks: Vec<Value>) {
    if blocks.is_empty() {
        return;
    }
    if let Some(last) = turns.last_mut()
        && last["role"] == role
        && let Some(content) = last["content"].as_array_mut()
    {
        content.extend(blocks);
        return;
    }
    turns.push(json!({"role": role, "content": blocks}));
}

fn usage_from(v: &Value) -> TokenUsage {
    let n = |k: &str| v[k].as_u64().unwrap_or(0);
    let cache_read = n("cache_read_input_tokens");
    let cache_write = n("cache_creation_input_tokens");
    TokenUsage {
        // Anthropic counts cached tokens apart; the prompt is all of them.
        prompt_tokens: n("input_tokens") + cache_read + cache_write,
        completion_tokens: n("output_tokens"),
        cache_read_tokens: cache_read,
        cache_write_tokens: cache_write,
        ..TokenUsage::default()
    }
}

fn parse_message(v: &Value) -> Result<LlmResponse, LlmError> {
    if v["type"] == "error" {
        return Err(LlmError::BadResponse(format!(
            "provider error: {}",
            v["error"]
        )));
    }
    let blocks = v["content"]
        .as_array()
        .ok_or_else(|| LlmError::BadResponse("no content in the Anthropic answer".into()))?;
    let mut message = Message::new(Role::Assistant, Vec::new());
    let mut calls = Vec::new();
    for b in blocks {
        match b["type"].as_str() {
            Some("text") => message
                .content
                .push(Content::text(b["text"].as_str().unwrap_or_default())),
            Some("tool_use") => calls.push(MessageToolCall {
                id: b["id"].as_str().unwrap_or_default().into(),
                name: b["name"].as_str().unwrap_or_default().into(),
                arguments: b["input"].to_string(),
                origin: Default::default(),
                responses_item_id: None,
            }),
            Some("thinking") | Some("redacted_thinking") => message.thinking_blocks.push(b.clone()),
            _ => {}
        }
    }
    if !calls.is_empty() {
        message.tool_calls = Some(calls);
    }
    Ok(LlmResponse {
        id: v["id"].as_str().unwrap_or_default().into(),
        message,
        usage: usage_from(&v["usage"]),
        finish_reason: v["stop_reason"].as_str().map(str::to_string),
    })
}

enum Block {
    Text(String),
    Tool {
        id: String,
        name: String,
        json: String,
    },
    Thinking(Value),
}

async fn read_stream(
    response: reqwest::Response,
    on_delta: Option<&(dyn Fn(StreamDelta) + Send + Sync)>,
) -> Result<LlmResponse, LlmError> {
    use eventsource_stream::Eventsource;
    let mut events = response.bytes_stream().eventsource();
    let mut id = String::new();
    let mut blocks: BTreeMap<u64, Block> = BTreeMap::new();
    let mut usage_json = json!({});
    let mut stop_reason = None;
    while let Some(event) = events.next().await {
        let event = event.map_err(|e| LlmError::BadResponse(format!("stream: {e}")))?;
        let data: Value = match serde_json::from_str(&event.data) {
            Ok(v) => v,
            Err(_) if event.data.trim().is_empty() => continue,
            Err(e) => return Err(LlmError::BadResponse(format!("stream event: {e}"))),
        };
        let index = data["index"].as_u64().unwrap_or(0);
        match data["type"].as_str() {
            Some("message_start") => {
                id = data
                    .pointer("/message/id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .into();
                if let Some(u) = data.pointer("/message/usage").and_then(Value::as_object) {
                    for (k, v) in u {
                        usage_json[k] = v.clone();
                    }
                }
            }
            Some("content_block_start") => {
                let b = &data["content_block"];
                let block = match b["type"].as_str() {
                    Some("tool_use") => Block::Tool {
                        id: b["id"].as_str().unwrap_or_default().into(),
                        name: b["name"].as_str().unwrap_or_default().into(),
                        json: String::new(),
                    },
                    Some("thinking") | Some("redacted_thinking") => Block::Thinking(b.clone()),
                    _ => Block::Text(b["text"].as_str().unwrap_or_default().into()),
                };
                blocks.insert(index, block);
            }
            Some("content_block_delta") => {
                let d = &data["delta"];
                match (blocks.get_mut(&index), d["type"].as_str()) {
                    (Some(Block::Text(t)), Some("text_delta")) => {
                        let piece = d["text"].as_str().unwrap_or_default();
                        t.push_str(piece);
                        if let Some(cb) = on_delta {
                            cb(StreamDelta::Content(piece.into()));
                        }
                    }
                    (Some(Block::Tool { json, .. }), Some("input_json_delta")) => {
                        json.push_str(d["partial_json"].as_str().unwrap_or_default());
                    }
                    (Some(Block::Thinking(b)), Some("thinking_delta")) => {
                        let piece = d["thinking"].as_str().unwrap_or_default();
                        let prev = b["thinking"].as_str().unwrap_or_default().to_string();
                        b["thinking"] = json!(prev + piece);
                        if let Some(cb) = on_delta {
                            cb(StreamDelta::Reasoning(piece.into()));
                        }
                    }
                    (Some(Block::Thinking(b)), Some("signature_delta")) => {
                        b["signature"] = d["signature"].clone();
                    }
                    _ => {}
                }
            }
            Some("message_delta") => {
                if let Some(r) = data.pointer("/delta/stop_reason").and_then(Value::as_str) {
                    stop_reason = Some(r.to_string());
                }
                if let Some(u) = data["usage"].as_object() {
                    for (k, v) in u {
                        usage_json[k] = v.clone();
                    }
                }
            }
            Some("error") => {
                return Err(LlmError::BadResponse(format!(
                    "provider error: {}",
                    data["error"]
                )));
            }
            Some("message_stop") => break,
            _ => {}
        }
    }
    let mut message = Message::new(Role::Assistant, Vec::new());
    let mut calls = Vec::new();
    for block in blocks.into_values() {
        match block {
            Block::Text(t) if !t.is_empty() => message.content.push(Content::text(t)),
            Block::Text(_) => {}
            Block::Tool { id, name, json } => calls.push(MessageToolCall {
                id,
                name,
                arguments: if json.is_empty() { "{}".into() } else { json },
                origin: Default::default(),
                responses_item_id: None,
            }),
            Block::Thinking(b) => message.thinking_blocks.push(b),
        }
    }
    if !calls.is_empty() {
        message.tool_calls = Some(calls);
    }
    Ok(LlmResponse {
        id,
        message,
        usage: usage_from(&usage_json),
        finish_reason: stop_reason,
    })
}
