//! Workspace routes: `/api/bash`, `/api/file`, `/api/git`, `/api/vscode`, `/api/confinement`.
//!
//! These act on the sandbox's file system, which is the isolation boundary: paths are absolute
//! and normalized (`..` resolved lexically) before use; relative paths are refused.

use berth_protocol::api::Page;
use std::path::{Component, Path, PathBuf};

use axum::Json;
use axum::body::Body;
use axum::extract::{Multipart, Path as UrlPath, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use berth_protocol::GitChange;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use super::conversations::check_limit;
use super::success;
use crate::bash::ExecuteBashRequest;
use crate::error::{ApiError, JsonBody};
use crate::git::{self, GitError};
use crate::service::AppState;

pub async fn start_bash(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<ExecuteBashRequest>,
) -> Result<Json<Value>, ApiError> {
    let cmd = state.bash.start(req).map_err(ApiError::BadRequest)?;
    Ok(Json(serde_json::to_value(cmd).unwrap_or(Value::Null)))
}

pub async fn execute_bash(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<ExecuteBashRequest>,
) -> Result<Json<Value>, ApiError> {
    let out = state
        .bash
        .execute(req)
        .await
        .map_err(ApiError::BadRequest)?;
    Ok(Json(serde_json::to_value(out).unwrap_or(Value::Null)))
}

#[derive(Deserialize)]
pub struct BashSearch {
    #[serde(rename = "kind__eq")]
    kind_eq: Option<String>,
    #[serde(rename = "command_id__eq")]
    command_id_eq: Option<String>,
    #[serde(rename = "timestamp__gte")]
    timestamp_gte: Option<String>,
    #[serde(rename = "timestamp__lt")]
    timestamp_lt: Option<String>,
    #[serde(rename = "order__gt")]
    order_gt: Option<i64>,
    sort_order: Option<String>,
    page_id: Option<String>,
    limit: Option<i64>,
}

pub async fn bash_search(
    State(state): State<AppState>,
    Query(q): Query<BashSearch>,
) -> Result<Json<Value>, ApiError> {
    let limit = check_limit(q.limit)?;
    let mut events: Vec<Value> = state
        .bash
        .events()
        .into_iter()
        .filter(|e| q.kind_eq.as_deref().is_none_or(|k| e["kind"] == k))
        .filter(|e| {
            q.command_id_eq.as_deref().is_none_or(|c| {
                e["command_id"] == c || (e["kind"] == "BashCommand" && e["id"] == c)
            })
        })
        .filter(|e| {
            q.order_gt
                .is_none_or(|o| e["order"].as_i64().is_some_and(|eo| eo > o))
        })
        .filter(|e| {
            q.timestamp_gte
                .as_deref()
                .is_none_or(|t| e["timestamp"].as_str().is_some_and(|et| et >= t))
        })
        .filter(|e| {
            q.timestamp_lt
                .as_deref()
                .is_none_or(|t| e["timestamp"].as_str().is_some_and(|et| et < t))
        })
        .collect();
    match q.sort_order.as_deref().unwrap_or("TIMESTAMP") {
        "TIMESTAMP" => {}
        "TIMESTAMP_DESC" => events.reverse(),
        other => {
            return Err(ApiError::Unprocessable {
                loc: vec!["query".into(), "sort_order".into()],
                msg: format!("unknown sort_order '{other}'"),
            });
        }
    }
    let start = match &q.page_id {
        Some(p) => events
            .iter()
            .position(|e| e["id"] == p.as_str())
            .unwrap_or(events.len()),
        None => 0,
    };
    let page: Vec<Value> = events.iter().skip(start).take(limit).cloned().collect();
    let next = events
        .get(start + limit)
        .and_then(|e| e["id"].as_str().map(str::to_string));
    Ok(Json(json!(Page {
        items: page,
        next_page_id: next,
    })))
}

pub async fn bash_get(
    State(state): State<AppState>,
    UrlPath(event_id): UrlPath<String>,
) -> Result<Json<Value>, ApiError> {
    state
        .bash
        .get(&event_id)
        .map(Json)
        .ok_or(ApiError::NotFound)
}

pub async fn bash_clear(State(state): State<AppState>) -> Json<Value> {
    Json(json!({"cleared_count": state.bash.clear()}))
}

pub async fn bash_stop(
    State(state): State<AppState>,
    UrlPath(command_id): UrlPath<String>,
) -> Result<Json<Value>, ApiError> {
    if state.bash.stop(&command_id).await {
        Ok(success())
    } else {
        Err(ApiError::NotFound)
    }
}

#[derive(Deserialize)]
pub struct PathQuery {
    path: Option<String>,
}

/// An absolute path with `.` and `..` resolved without touching the file system.
pub fn absolute(raw: Option<&str>) -> Result<PathBuf, ApiError> {
    let raw = raw
        .filter(|p| !p.is_empty())
        .ok_or_else(|| ApiError::BadRequest("the `path` query parameter is required".into()))?;
    if raw.contains('\0') {
        return Err(ApiError::BadRequest("the path contains a NUL byte".into()));
    }
    let p = Path::new(raw);
    if !p.is_absolute() {
        return Err(ApiError::BadRequest(format!(
            "the path must be absolute, got '{raw}'"
        )));
    }
    let mut out = PathBuf::from("/");
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(s) => out.push(s),
            _ => {}
        }
    }
    Ok(out)
}

pub async fn upload(
    State(_state): State<AppState>,
    Query(q): Query<PathQuery>,
    mut multipart: Multipart,
) -> Result<Json<Value>, ApiError> {
    let target = absolute(q.path.as_deref())?;
    if target.is_dir() {
        return Err(ApiError::BadRequest(format!(
            "{} is a directory",
            target.display()
        )));
    }
    let parent = target.parent().unwrap_or(Path::new("/")).to_path_buf();
    if let Some(file_ancestor) = parent.ancestors().find(|a| a.is_file()) {
        return Err(ApiError::BadRequest(format!(
            "{} is a file, not a directory",
            file_ancestor.display()
        )));
    }
    tokio::fs::create_dir_all(&parent)
        .await
        .map_err(|e| ApiError::BadRequest(format!("cannot create {}: {e}", parent.display())))?;
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        if field.name() != Some("file") {
            continue;
        }
        // Streamed to a temporary file beside the target, renamed when complete, so a failed
        // upload never leaves a half-written file at the target.
        let tmp = tempfile::NamedTempFile::new_in(&parent)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let (std_file, tmp_path) = tmp.into_parts();
        let mut file = tokio::fs::File::from_std(std_file);
        let mut size: u64 = 0;
        while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
            size += chunk.len() as u64;
            file.write_all(&chunk)
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?;
        }
        file.flush()
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        tmp_path
            .persist(&target)
            .map_err(|e| ApiError::Internal(format!("cannot write {}: {e}", target.display())))?;
        return Ok(Json(json!({"success": true, "file_size": size})));
    }
    Err(ApiError::invalid(
        "file",
        "the multipart field `file` is missing",
    ))
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge(
            "the upload is larger than the server accepts (BERTH_MAX_UPLOAD_BYTES)".into(),
        )
    } else {
        ApiError::BadRequest(format!("invalid multipart body: {}", e.body_text()))
    }
}

/// For the conversation-scoped routes: the path must be inside the conversation's workspace,
/// symbolic links resolved, else 422.
async fn within_workspace(
    state: &AppState,
    id: &str,
    raw: Option<&str>,
) -> Result<PathBuf, ApiError> {
    let entry = state.require(&super::parse_id(id)?).await?;
    let path = absolute(raw)?;
    let ws_dir = PathBuf::from(entry.conv.state().workspace.working_dir);
    let ws = std::fs::canonicalize(&ws_dir).unwrap_or(ws_dir);
    // Resolve links through the deepest part of the path that exists.
    let existing = path
        .ancestors()
        .find(|a| a.exists())
        .unwrap_or(Path::new("/"));
    let resolved = std::fs::canonicalize(existing)
        .unwrap_or_else(|_| existing.to_path_buf())
        .join(path.strip_prefix(existing).unwrap_or(Path::new("")));
    if !resolved.starts_with(&ws) {
        return Err(ApiError::Unprocessable {
            loc: vec!["query".into(), "path".into()],
            msg: format!(
                "{} is outside the conversation workspace {}",
                path.display(),
                ws.display()
            ),
        });
    }
    Ok(resolved)
}

pub async fn scoped_download(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
    Query(q): Query<PathQuery>,
) -> Result<Response, ApiError> {
    let path = within_workspace(&state, &id, q.path.as_deref()).await?;
    download(Query(PathQuery {
        path: Some(path.display().to_string()),
    }))
    .await
}

pub async fn scoped_upload(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
    Query(q): Query<PathQuery>,
    multipart: Multipart,
) -> Result<Json<Value>, ApiError> {
    let path = within_workspace(&state, &id, q.path.as_deref()).await?;
    upload(
        State(state),
        Query(PathQuery {
            path: Some(path.display().to_string()),
        }),
        multipart,
    )
    .await
}

pub async fn download(Query(q): Query<PathQuery>) -> Result<Response, ApiError> {
    let path = absolute(q.path.as_deref())?;
    let meta = tokio::fs::metadata(&path)
        .await
        .map_err(|_| ApiError::NotFound)?;
    if !meta.is_file() {
        return Err(ApiError::BadRequest(format!(
            "{} is not a file",
            path.display()
        )));
    }
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|e| ApiError::BadRequest(format!("cannot read {}: {e}", path.display())))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().replace('"', ""))
        .unwrap_or_default();
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CONTENT_LENGTH, meta.len().to_string()),
        ],
        body,
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct GitQuery {
    path: Option<String>,
    #[serde(rename = "ref")]
    git_ref: Option<String>,
    commit: Option<String>,
}

impl From<GitError> for ApiError {
    fn from(e: GitError) -> Self {
        ApiError::BadRequest(e.to_string())
    }
}

/// Files changed in the working tree against `ref` (default HEAD), untracked files included.
pub async fn git_changes(Query(q): Query<GitQuery>) -> Result<Json<Vec<GitChange>>, ApiError> {
    let repo = absolute(q.path.as_deref())?;
    Ok(Json(git::changes(&repo, q.git_ref.as_deref()).await?))
}

/// A file's content now (`modified`) and at `ref`/`commit` (`original`); null when absent.
pub async fn git_diff(Query(q): Query<GitQuery>) -> Result<Json<Value>, ApiError> {
    let file = absolute(q.path.as_deref())?;
    let base = q.commit.or(q.git_ref);
    let original = git::original(&file, base.as_deref()).await?;
    let modified = tokio::fs::read_to_string(&file).await.ok();
    Ok(Json(json!({"modified": modified, "original": original})))
}

pub async fn vscode_url() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"detail": "VSCode is not available in Berth sandboxes"})),
    )
        .into_response()
}

pub async fn vscode_status() -> Json<Value> {
    Json(
        json!({"running": false, "enabled": false, "message": "VSCode is not available in Berth sandboxes"}),
    )
}

/// How the agent's commands are confined here (a Berth extension; the app shows it).
pub async fn confinement() -> Json<berth_protocol::ConfinementState> {
    Json(berth_agent::agent_env::confiner().state().clone())
}
