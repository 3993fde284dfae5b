//! `/api/conversations…`: create, read, search, count, patch, delete, and the controls of a run.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use berth_protocol::api::{AskRequest, AskResponse, Page, SecretsRequest};
use berth_protocol::{ConfirmationPolicy, ExecutionStatus};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{parse_id, success};
use crate::error::{ApiError, JsonBody};
use crate::info::{conversation_info, info_json};
use crate::service::{AppState, StartConversationRequest, resolve_secret, validate_tags};

pub async fn create(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<StartConversationRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let (entry, created) = state.create(req).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(info_json(&entry.conv))))
}

pub async fn get_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let entry = state.require(&parse_id(&id)?).await?;
    Ok(Json(info_json(&entry.conv)))
}

/// `GET /api/conversations?ids=…&ids=…` → one info or null per id, in order.
pub async fn batch_get(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let ids: Vec<String> = query
        .unwrap_or_default()
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .filter(|(k, _)| *k == "ids")
        .map(|(_, v)| v.to_string())
        .collect();
    if ids.len() > 99 {
        return Err(ApiError::Unprocessable {
            loc: vec!["query".into(), "ids".into()],
            msg: "at most 99 ids".into(),
        });
    }
    let mut out = Vec::with_capacity(ids.len());
    for raw in ids {
        let info = match uuid::Uuid::parse_str(&raw) {
            Ok(id) => state
                .get(&id)
                .await?
                .map(|e| info_json(&e.conv))
                .unwrap_or(Value::Null),
            Err(_) => Value::Null,
        };
        out.push(info);
    }
    Ok(Json(Value::Array(out)))
}

#[derive(Deserialize)]
pub struct SearchQuery {
    page_id: Option<String>,
    limit: Option<i64>,
    status: Option<ExecutionStatus>,
    sort_order: Option<String>,
}

pub fn check_limit(limit: Option<i64>) -> Result<usize, ApiError> {
    match limit.unwrap_or(100) {
        l @ 1..=100 => Ok(l as usize),
        l => Err(ApiError::Unprocessable {
            loc: vec!["query".into(), "limit".into()],
            msg: format!("limit must be between 1 and 100, got {l}"),
        }),
    }
}

pub async fn search(
    State(state): State<AppState>,
    Query(q): Query<SearchQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = check_limit(q.limit)?;
    let mut infos = Vec::new();
    for id in state.all_ids() {
        if let Some(e) = state.get(&id).await? {
            let info = conversation_info(&e.conv);
            if q.status.is_none_or(|s| s == info.execution_status) {
                infos.push(info);
            }
        }
    }
    match q.sort_order.as_deref().unwrap_or("CREATED_AT_DESC") {
        "CREATED_AT" => infos.sort_by(|a, b| a.created_at.cmp(&b.created_at)),
        "UPDATED_AT" => infos.sort_by(|a, b| a.updated_at.cmp(&b.updated_at)),
        "UPDATED_AT_DESC" => infos.sort_by(|a, b| b.updated_at.cmp(&a.updated_at)),
        "CREATED_AT_DESC" => infos.sort_by(|a, b| b.created_at.cmp(&a.created_at)),
        other => {
            return Err(ApiError::Unprocessable {
                loc: vec!["query".into(), "sort_order".into()],
                msg: format!("unknown sort_order '{other}'"),
            });
        }
    }
    let start = match &q.page_id {
        Some(p) => infos
            .iter()
            .position(|i| i.id.replace('-', "") == p.replace('-', ""))
            .unwrap_or(infos.len()),
        None => 0,
    };
    let page: Vec<_> = infos.iter().skip(start).take(limit).cloned().collect();
    let next = infos.get(start + limit).map(|i| i.id.replace('-', ""));
    Ok(Json(json!(Page {
        items: page,
        next_page_id: next,
    })))
}

#[derive(Deserialize)]
pub struct CountQuery {
    status: Option<ExecutionStatus>,
}

pub async fn count(
    State(state): State<AppState>,
    Query(q): Query<CountQuery>,
) -> Result<Json<Value>, ApiError> {
    let mut n = 0;
    for id in state.all_ids() {
        if let Some(e) = state.get(&id).await?
            && q.status.is_none_or(|s| s == e.conv.status())
        {
            n += 1;
        }
    }
    Ok(Json(json!(n)))
}

#[derive(Deserialize)]
pub struct PatchRequest {
    title: Option<String>,
    tags: Option<BTreeMap<String, String>>,
}

pub async fn patch(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<PatchRequest>,
) -> Result<Json<Value>, ApiError> {
    let entry = state.require(&parse_id(&id)?).await?;
    if let Some(title) = req.title {
        let len = title.chars().count();
        if title.trim().is_empty() || len > 200 {
            return Err(ApiError::invalid(
                "title",
                "title must be 1 to 200 characters and not blank",
            ));
        }
        entry.conv.set_title(Some(title));
    }
    if let Some(tags) = req.tags {
        validate_tags(&tags)?;
        entry.conv.set_tags(tags);
    }
    Ok(success())
}

pub async fn delete_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state.delete(&parse_id(&id)?).await?;
    Ok(success())
}

pub async fn run(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let entry = state.require(&parse_id(&id)?).await?;
    state.start_run(&entry).await?;
    Ok(success())
}

pub async fn pause(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state.require(&parse_id(&id)?).await?.conv.pause();
    Ok(success())
}

pub async fn interrupt(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state.require(&parse_id(&id)?).await?.conv.interrupt();
    Ok(success())
}

pub async fn secrets(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<SecretsRequest>,
) -> Result<Json<Value>, ApiError> {
    let entry = state.require(&parse_id(&id)?).await?;
    let mut resolved = Vec::new();
    for (name, input) in req.secrets {
        if name.trim().is_empty() {
            return Err(ApiError::invalid("secrets", "a secret needs a name"));
        }
        resolved.push((name.clone(), resolve_secret(input, &name)?));
    }
    for (name, (value, description)) in resolved {
        entry.conv.set_secret(&name, &value, description);
    }
    Ok(success())
}

#[derive(Deserialize)]
pub struct PolicyRequest {
    policy: ConfirmationPolicy,
}

pub async fn confirmation_policy(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<PolicyRequest>,
) -> Result<Json<Value>, ApiError> {
    state
        .require(&parse_id(&id)?)
        .await?
        .conv
        .set_confirmation_policy(req.policy);
    Ok(success())
}

#[derive(Deserialize)]
pub struct AnalyzerRequest {
    security_analyzer: Option<Value>,
}

pub async fn security_analyzer(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<AnalyzerRequest>,
) -> Result<Json<Value>, ApiError> {
    let entry = state.require(&parse_id(&id)?).await?;
    if let Some(a) = &req.security_analyzer
        && a.get("kind").and_then(Value::as_str).is_none()
    {
        return Err(ApiError::invalid(
            "security_analyzer",
            "a security analyzer needs a `kind`",
        ));
    }
    entry
        .conv
        .set_security_analyzer(req.security_analyzer.filter(|v| !v.is_null()));
    Ok(success())
}

pub async fn ask_agent(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<AskRequest>,
) -> Result<Json<AskResponse>, ApiError> {
    let entry = state.require(&parse_id(&id)?).await?;
    if req.question.trim().is_empty() {
        return Err(ApiError::invalid("question", "the question is empty"));
    }
    let response = entry.conv.ask(&req.question).await?;
    Ok(Json(AskResponse { response }))
}

pub async fn condense(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let entry = state.require(&parse_id(&id)?).await?;
    entry.conv.request_condensation().map_err(|_| {
        ApiError::Conflict("Cannot condense conversation: No condenser configured".into())
    })?;
    Ok(success())
}

pub async fn final_response(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let entry = state.require(&parse_id(&id)?).await?;
    Ok(Json(json!({"response": entry.conv.final_response()})))
}
