//! Tool calling through the prompt, for models without native tool calling
//! (`native_tool_calling: false`). The tools are described in the system message; the model
//! answers `<function=NAME>\n<parameter=ARG>value</parameter>\n</function>`, one call per turn;
//! results come back as user messages `EXECUTION RESULT of [NAME]:`. The format is OpenHands',
//! so prompts written for it work unchanged.

use std::sync::atomic::{AtomicU64, Ordering};

use berth_protocol::{Content, Message, MessageToolCall, Role};
use serde_json::{Map, Value};

use super::ToolSchema;

pub const STOP_WORD: &str = "</function";

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn describe_tools(tools: &[ToolSchema]) -> String {
    let mut out = String::from(
        "\n\nYou have access to the following functions. To call one, answer with exactly one \
         block of this form and nothing after it:\n\n<function=NAME>\n<parameter=ARG>value</parameter>\n\
         </function>\n\nValues are written as they are (no quoting); arrays and objects as JSON.\n",
    );
    for (i, t) in tools.iter().enumerate() {
        out.push_str(&format!(
            "\n---- BEGIN FUNCTION #{}: {} ----\n",
            i + 1,
            t.name
        ));
        out.push_str(&format!("Description: {}\n", t.description));
        let required: Vec<&str> = t.parameters["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if let Some(props) = t.parameters["properties"].as_object() {
            out.push_str("Parameters:\n");
            for (name, spec) in props {
                let ty = spec["type"].as_str().unwrap_or("string");
                let req = if required.contains(&name.as_str()) {
                    "required"
                } else {
                    "optional"
                };
                let desc = spec["description"].as_str().unwrap_or_default();
                out.push_str(&format!("  ({req}) {name} [{ty}]: {desc}"));
                if let Some(values) = spec["enum"].as_array() {
                    let v: Vec<String> = values.iter().map(|v| v.to_string()).collect();
                    out.push_str(&format!(" Allowed values: [{}]", v.join(", ")));
                }
                out.push('\n');
            }
        }
        out.push_str(&format!("---- END FUNCTION #{} ----\n", i + 1));
    }
    out
}

fn render_call(call: &MessageToolCall) -> String {
    let mut out = format!("<function={}>\n", call.name);
    if let Ok(Value::Object(args)) = serde_json::from_str::<Value>(&call.arguments) {
        for (k, v) in args {
            let v = match v {
                Value::String(s) => s,
                other => other.to_string(),
            };
            out.push_str(&format!("<parameter={k}>{v}</parameter>\n"));
        }
    }
    out.push_str("</function>");
    out
}

/// Rewrites a native-tools conversation into the prompt form.
pub fn messages_for_prompt_tools(messages: &[Message], tools: &[ToolSchema]) -> Vec<Message> {
    let mut out = Vec::with_capacity(messages.len());
    let mut described = false;
    for m in messages {
        match m.role {
            Role::System if !described => {
                let mut m = m.clone();
                m.content.push(Content::text(describe_tools(tools)));
                described = true;
                out.push(m);
            }
            Role::Assistant if m.tool_calls.as_ref().is_some_and(|c| !c.is_empty()) => {
                let mut text = m.text();
                for c in m.tool_calls.iter().flatten() {
                    if !text.is_empty() {
                        text.push('\n');
                    }
                    text.push_str(&render_call(c));
                }
                out.push(Message::new(Role::Assistant, vec![Content::text(text)]));
            }
            Role::Tool => {
                let name = m.name.clone().unwrap_or_default();
                let text = format!("EXECUTION RESULT of [{name}]:\n{}", m.text());
                out.push(Message::new(Role::User, vec![Content::text(text)]));
            }
            _ => out.push(m.clone()),
        }
    }
    if !described {
        out.insert(
            0,
            Message::new(Role::System, vec![Content::text(describe_tools(tools))]),
        );
    }
    out
}

/// Finds a `<function=…>` block in the model's text and turns it into a tool call. Values are
/// JSON-decoded when they look like JSON arrays, objects, numbers or booleans; the tool's own
/// validation then checks the types.
pub fn parse_prompt_tool_calls(message: &mut Message) {
    let text = message.text();
    let Some(start) = text.find("<function=") else {
        return;
    };
    let rest = &text[start + "<function=".len()..];
    let Some(name_end) = rest.find('>') else {
        return;
    };
    let name = rest[..name_end].trim().to_string();
    let body = &rest[name_end + 1..];
    let body = body.split("</function").next().unwrap_or(body);
    let mut args = Map::new();
    let mut cursor = body;
    while let Some(p) = cursor.find("<parameter=") {
        let after = &cursor[p + "<parameter=".len()..];
        let Some(key_end) = after.find('>') else {
            break;
        };
        let key = after[..key_end].trim().to_string();
        let value_part = &after[key_end + 1..];
        let (raw, next) = match value_part.find("</parameter>") {
            Some(end) => (
                &value_part[..end],
                &value_part[end + "</parameter>".len()..],
            ),
            None => (value_part, ""),
        };
        let raw = raw.strip_prefix('\n').unwrap_or(raw);
        let raw = raw.strip_suffix('\n').unwrap_or(raw);
        args.insert(key, decode_value(raw));
        cursor = next;
    }
    let thought = text[..start].trim().to_string();
    message.content = if thought.is_empty() {
        Vec::new()
    } else {
        vec![Content::text(thought)]
    };
    let id = format!("toolu_{:02}", NEXT_ID.fetch_add(1, Ordering::Relaxed));
    message.tool_calls = Some(vec![MessageToolCall {
        id,
        name,
        arguments: Value::Object(args).to_string(),
        origin: Default::default(),
        responses_item_id: None,
    }]);
}

fn decode_value(raw: &str) -> Value {
    let t = raw.trim();
    let looks_json = t.starts_with('[')
        || t.starts_with('{')
        || t == "true"
        || t == "false"
        || t.parse::<f64>().is_ok();
    if looks_json && let Ok(v) = serde_json::from_str::<Value>(t) {
        return v;
    }
    Value::String(raw.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_a_function_block_with_a_thought() {
        let mut m = Message::new(
            Role::Assistant,
            vec![Content::text(
                "I will list files.\n<function=terminal>\n<parameter=command>ls -la\n</parameter>\n<parameter=timeout>5</parameter>\n",
            )],
        );
        parse_prompt_tool_calls(&mut m);
        let calls = m.tool_calls.clone().unwrap_or_default();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].name, "terminal");
        assert!(calls[0].id.starts_with("toolu_"));
        let args: Value = serde_json::from_str(&calls[0].arguments).unwrap_or_default();
        assert_eq!(args, json!({"command": "ls -la", "timeout": 5}));
        assert_eq!(m.text(), "I will list files.");
    }

    #[test]
    fn renders_history_into_prompt_form() {
        let tools = vec![ToolSchema {
            name: "think".into(),
            description: "Log a thought".into(),
            parameters: json!({"type": "object", "properties": {"thought": {"type": "string"}}, "required": ["thought"]}),
        }];
        let mut assistant = Message::new(Role::Assistant, vec![]);
        assistant.tool_calls = Some(vec![MessageToolCall {
            id: "toolu_01".into(),
            name: "think".into(),
            arguments: r#"{"thought":"hmm"}"#.into(),
            origin: Default::default(),
            responses_item_id: None,
        }]);
        let mut tool = Message::new(Role::Tool, vec![Content::text("logged")]);
        tool.name = Some("think".into());
        let msgs = vec![
            Message::new(Role::System, vec![Content::text("sys")]),
            Message::user("go"),
            assistant,
            tool,
        ];
        let out = messages_for_prompt_tools(&msgs, &tools);
        assert!(out[0].text().contains("BEGIN FUNCTION #1: think"));
        assert!(out[0].text().contains("(required) thought [string]"));
        assert_eq!(
            out[2].text(),
            "<function=think>\n<parameter=thought>hmm</parameter>\n</function>"
        );
        assert_eq!(out[3].role, Role::User);
        assert_eq!(out[3].text(), "EXECUTION RESULT of [think]:\nlogged");
    }
}
