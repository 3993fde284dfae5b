//! `/api/conversations/{id}/events…`: search with paging and filters, count, get, send a
//! message, and answer a confirmation.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use berth_protocol::api::{ConfirmationResponse, Page};
use berth_protocol::{Event, EventBody, Source};
use chrono::NaiveDateTime;
use serde::Deserialize;
use serde_json::{Value, json};

use super::conversations::check_limit;
use super::{parse_id, success};
use crate::error::{ApiError, JsonBody};
use crate::service::{AppState, SendMessageRequest, message_of};

#[derive(Deserialize, Default)]
pub struct EventQuery {
    page_id: Option<String>,
    limit: Option<i64>,
    kind: Option<String>,
    source: Option<Source>,
    body: Option<String>,
    sort_order: Option<String>,
    #[serde(rename = "timestamp__gte")]
    timestamp_gte: Option<String>,
    #[serde(rename = "timestamp__lt")]
    timestamp_lt: Option<String>,
}

/// Event timestamps are server-local and naive; a time with an offset is converted to local.
fn parse_time(raw: &str) -> Result<NaiveDateTime, ApiError> {
    let bad = || ApiError::Unprocessable {
        loc: vec!["query".into(), "timestamp".into()],
        msg: format!("not an ISO date-time: '{raw}'"),
    };
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Ok(t.with_timezone(&chrono::Local).naive_local());
    }
    NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| bad())
}

fn event_time(e: &Event) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(&e.timestamp, "%Y-%m-%dT%H:%M:%S%.f").ok()
}

fn filtered(events: Vec<Event>, q: &EventQuery) -> Result<Vec<Event>, ApiError> {
    let gte = q.timestamp_gte.as_deref().map(parse_time).transpose()?;
    let lt = q.timestamp_lt.as_deref().map(parse_time).transpose()?;
    let body = q.body.as_ref().map(|b| b.to_lowercase());
    let mut out: Vec<Event> = events
        .into_iter()
        .filter(|e| {
            q.kind.as_deref().is_none_or(|k| {
                let k = k.rsplit('.').next().unwrap_or(k);
                e.kind() == k
            })
        })
        .filter(|e| q.source.is_none_or(|s| e.source == s))
        .filter(|e| match &body {
            None => true,
            Some(b) => matches!(&e.body, EventBody::MessageEvent { llm_message, .. } if llm_message.text().to_lowercase().contains(b)),
        })
        .filter(|e| gte.is_none_or(|t| event_time(e).is_some_and(|et| et >= t)))
        .filter(|e| lt.is_none_or(|t| event_time(e).is_some_and(|et| et < t)))
        .collect();
    match q.sort_order.as_deref().unwrap_or("TIMESTAMP") {
        "TIMESTAMP" => {}
        "TIMESTAMP_DESC" => out.reverse(),
        other => {
            return Err(ApiError::Unprocessable {
                loc: vec!["query".into(), "sort_order".into()],
                msg: format!("unknown sort_order '{other}'"),
            });
        }
    }
    Ok(out)
}

pub async fn search(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<EventQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = check_limit(q.limit)?;
    let entry = state.require(&parse_id(&id)?).await?;
    let events = filtered(entry.conv.events(), &q)?;
    let start = match &q.page_id {
        Some(p) => events
            .iter()
            .position(|e| &e.id == p)
            .unwrap_or(events.len()),
        None => 0,
    };
    let page: Vec<&Event> = events.iter().skip(start).take(limit).collect();
    let next = events.get(start + limit).map(|e| e.id.clone());
    Ok(Json(json!(Page {
        items: page,
        next_page_id: next,
    })))
}

pub async fn count(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<EventQuery>,
) -> Result<Json<Value>, ApiError> {
    let entry = state.require(&parse_id(&id)?).await?;
    Ok(Json(json!(filtered(entry.conv.events(), &q)?.len())))
}

pub async fn get_one(
    State(state): State<AppState>,
    Path((id, event_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let entry = state.require(&parse_id(&id)?).await?;
    let event = entry
        .conv
        .events()
        .into_iter()
        .find(|e| e.id == event_id)
        .ok_or(ApiError::NotFound)?;
    Ok(Json(serde_json::to_value(event).unwrap_or(Value::Null)))
}

/// `GET …/events` with a JSON array of ids as the body (a FastAPI quirk the client relies on).
pub async fn batch_get(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let entry = state.require(&parse_id(&id)?).await?;
    let ids: Vec<String> = if body.is_empty() {
        Vec::new()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::Unprocessable {
            loc: vec!["body".into()],
            msg: format!("expected a list of event ids: {e}"),
        })?
    };
    let events = entry.conv.events();
    let out: Vec<Value> = ids
        .iter()
        .map(|i| {
            events
                .iter()
                .find(|e| &e.id == i)
                .and_then(|e| serde_json::to_value(e).ok())
                .unwrap_or(Value::Null)
        })
        .collect();
    Ok(Json(Value::Array(out)))
}

pub async fn send(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<SendMessageRequest>,
) -> Result<Json<Value>, ApiError> {
    let entry = state.require(&parse_id(&id)?).await?;
    let message = message_of(&req)?;
    state.send_message(&entry, message, req.run).await?;
    Ok(success())
}

pub async fn respond_to_confirmation(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<ConfirmationResponse>,
) -> Result<Json<Value>, ApiError> {
    let entry = state.require(&parse_id(&id)?).await?;
    if req.accept {
        match state.start_run(&entry).await {
            Ok(()) | Err(ApiError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    } else {
        entry.conv.reject_pending(req.reason);
    }
    Ok(success())
}
