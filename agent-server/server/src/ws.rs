//! `GET /sockets/events/{id}`: the live event stream the Python client listens to.
//!
//! Order on connect: authentication (query `session_api_key` or header before the upgrade; else
//! a first frame `{"type":"auth","session_api_key":…}` within 10 s), then a `full_state`
//! snapshot, then the stored events a `resend_mode` asked for, then live events. Inbound message
//! frames are sent to the conversation with `run: true`.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use berth_protocol::{Event, EventBody, Message, Source};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

use crate::auth::{HEADER, key_ok};
use crate::service::{AppState, Entry};

pub const MAX_SUBSCRIBERS: usize = 50;
const AUTH_WAIT: Duration = Duration::from_secs(10);

#[derive(Deserialize, Default)]
pub struct SocketQuery {
    session_api_key: Option<String>,
    resend_mode: Option<String>,
    after_timestamp: Option<String>,
    resend_all: Option<bool>,
}

pub async fn events_socket(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<SocketQuery>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let given = q.session_api_key.clone().or_else(|| {
        headers
            .get(HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    });
    let pre_authenticated = match &given {
        Some(k) if !key_ok(&state.config.session_keys, Some(k)) => {
            return (StatusCode::FORBIDDEN, "Authentication failed").into_response();
        }
        Some(_) => true,
        None => state.config.session_keys.is_empty(),
    };
    ws.on_upgrade(move |socket| serve(socket, state, id, q, pre_authenticated))
}

async fn close(mut socket: WebSocket, code: u16, reason: &str) {
    let _ = socket
        .send(WsMessage::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })))
        .await;
}

fn to_frame(e: &Event) -> WsMessage {
    WsMessage::Text(serde_json::to_string(e).unwrap_or_default().into())
}

fn server_error(code: &str, detail: String) -> WsMessage {
    let e = Event::new(
        Source::Environment,
        None,
        EventBody::ServerErrorEvent {
            code: code.into(),
            detail,
        },
    );
    to_frame(&e)
}

/// Whether a frame is only an authentication frame (`{"type":"auth","session_api_key":…}`).
fn auth_frame(v: &Value) -> Option<Option<String>> {
    let obj = v.as_object()?;
    if obj.get("type").and_then(Value::as_str) != Some("auth") {
        return None;
    }
    Some(
        obj.get("session_api_key")
            .and_then(Value::as_str)
            .map(str::to_string),
    )
}

async fn serve(
    mut socket: WebSocket,
    state: AppState,
    raw_id: String,
    q: SocketQuery,
    pre_authenticated: bool,
) {
    if !pre_authenticated {
        let first = tokio::time::timeout(AUTH_WAIT, socket.recv()).await;
        let key = match first {
            Ok(Some(Ok(WsMessage::Text(t)))) => serde_json::from_str::<Value>(&t)
                .ok()
                .as_ref()
                .and_then(auth_frame)
                .flatten(),
            _ => None,
        };
        if !key_ok(&state.config.session_keys, key.as_deref()) {
            return close(socket, 4001, "Authentication failed").await;
        }
    }
    let entry = match uuid::Uuid::parse_str(&raw_id) {
        Ok(id) => state.get(&id).await.ok().flatten(),
        Err(_) => None,
    };
    let Some(entry) = entry else {
        return close(socket, 4004, "Conversation not found").await;
    };
    if entry.subscribers.fetch_add(1, Ordering::SeqCst) >= MAX_SUBSCRIBERS {
        entry.subscribers.fetch_sub(1, Ordering::SeqCst);
        return close(socket, 1013, "Too many subscribers").await;
    }
    stream(&mut socket, &state, &entry, &q).await;
    entry.subscribers.fetch_sub(1, Ordering::SeqCst);
}

async fn stream(socket: &mut WebSocket, state: &AppState, entry: &Arc<Entry>, q: &SocketQuery) {
    // Subscribe first, so nothing emitted while the snapshot and the resend go out is lost.
    let mut live = entry.conv.subscribe();
    if socket
        .send(to_frame(&entry.conv.full_state_event()))
        .await
        .is_err()
    {
        return;
    }
    let mode = if q.resend_all == Some(true) {
        Some("all")
    } else {
        q.resend_mode.as_deref()
    };
    let stored = entry.conv.events();
    let resend: Vec<&Event> = match mode {
        Some("all") => stored.iter().collect(),
        Some("since") => match q.after_timestamp.as_deref().map(normalize_time) {
            Some(Some(after)) => stored
                .iter()
                .filter(|e| e.timestamp.as_str() > after.as_str())
                .collect(),
            _ => {
                let _ = socket
                    .send(server_error(
                        "ValueError",
                        "resend_mode=since needs a valid after_timestamp".into(),
                    ))
                    .await;
                Vec::new()
            }
        },
        _ => Vec::new(),
    };
    let mut sent: HashSet<String> = HashSet::new();
    for e in resend {
        if socket.send(to_frame(e)).await.is_err() {
            return;
        }
        sent.insert(e.id.clone());
    }
    let mut last_sent: Option<String> = stored.last().map(|e| e.id.clone());
    loop {
        tokio::select! {
            received = live.recv() => match received {
                Ok(e) => {
                    if sent.remove(&e.id) {
                        continue;
                    }
                    if socket.send(to_frame(&e)).await.is_err() {
                        return;
                    }
                    if !e.is_transient() {
                        last_sent = Some(e.id.clone());
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    // Too slow for the live channel: catch up from the log.
                    let events = entry.conv.events();
                    let from = last_sent.as_ref().and_then(|id| events.iter().position(|e| &e.id == id)).map_or(0, |i| i + 1);
                    for e in &events[from..] {
                        if socket.send(to_frame(e)).await.is_err() {
                            return;
                        }
                        sent.insert(e.id.clone());
                    }
                    last_sent = events.last().map(|e| e.id.clone());
                }
                Err(RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(WsMessage::Text(t))) => inbound(socket, state, entry, &t).await,
                Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

async fn inbound(socket: &mut WebSocket, state: &AppState, entry: &Arc<Entry>, text: &str) {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let _ = socket
                .send(server_error("JSONDecodeError", e.to_string()))
                .await;
            return;
        }
    };
    if auth_frame(&value).is_some() {
        return;
    }
    let message: Message = match serde_json::from_value(value) {
        Ok(m) => m,
        Err(e) => {
            let _ = socket
                .send(server_error(
                    "ValidationError",
                    format!("expected a message: {e}"),
                ))
                .await;
            return;
        }
    };
    if message.role != berth_protocol::Role::User || message.content.is_empty() {
        let _ = socket
            .send(server_error(
                "ValidationError",
                "only non-empty user messages can be sent".into(),
            ))
            .await;
        return;
    }
    if let Err(e) = state.send_message(entry, message, true).await {
        let _ = socket.send(server_error("RunError", e.to_string())).await;
    }
}

/// An ISO time as the naive local form events use, for string comparison.
fn normalize_time(raw: &str) -> Option<String> {
    let t = chrono::DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&chrono::Local).naive_local())
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f"))
        .ok()?;
    Some(t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string())
}
