//! Web mode: `berth serve` puts the UI and every command on loopback HTTP, for headless Linux
//! machines and browser tests. Thin by design — it translates HTTP into `berth-app`'s
//! [`api::dispatch`] and its update stream into server-sent events:
//!
//! - `POST /api/call` takes a command (`{"command": "…", "args": {…}}`) and answers its JSON,
//!   or an [`ApiError`] with a 4xx/5xx status;
//! - `GET /api/updates` streams every [`AppUpdate`] as an SSE `update` event;
//! - `GET /api/export/{id}` downloads a conversation's zip, `GET /api/file/{id}?path=` a file of
//!   its workspace;
//! - everything else is the built UI (`index.html` for unknown paths, so client routes work).
//!
//! Every request passes [`guard`]: the loopback Host, the per-launch token, commands only as
//! same-origin JSON, and the desktop's CSP on every answer.
//!
//! Crates: `axum` (as the agent-server), `tower-http`'s `ServeDir` for the static files.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::middleware;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use berth_app::api::{self, ApiError, AppUpdate, ErrorCode};
use berth_app::app::App;
use futures::Stream;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tower_http::services::{ServeDir, ServeFile};

mod guard;
use guard::guard;

/// Commands larger than this are refused (a dropped file of 20 MiB, in base64, is the largest).
const MAX_BODY: usize = 32 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind { port: u16, source: std::io::Error },
}

#[derive(Debug, Clone, Default)]
pub struct WebOptions {
    /// 0: any free port.
    pub port: u16,
    /// The built UI (`ui/dist`); `None`: the API only.
    pub ui_dir: Option<PathBuf>,
}

/// A running web mode server; it stops when dropped.
pub struct WebServer {
    pub addr: SocketAddr,
    pub token: String,
    task: tokio::task::JoinHandle<()>,
}

impl WebServer {
    /// The address to open in a browser (it carries the token).
    pub fn url(&self) -> String {
        format!("http://{}/?token={}", self.addr, self.token)
    }
}

impl Drop for WebServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Clone)]
struct Web {
    app: Arc<App>,
    token: Arc<String>,
    port: u16,
}

pub async fn serve(app: Arc<App>, options: WebOptions) -> Result<WebServer, WebError> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port))
        .await
        .map_err(|source| WebError::Bind {
            port: options.port,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| WebError::Bind {
        port: options.port,
        source,
    })?;
    let token = berth_app::token::random_token();
    let web = Web {
        app,
        token: Arc::new(token.clone()),
        port: addr.port(),
    };
    let mut router = Router::new()
        .route("/api/call", post(call))
        .route("/api/updates", get(updates))
        .route("/api/export/{id}", get(export))
        .route("/api/file/{id}", get(file));
    if let Some(dir) = &options.ui_dir {
        let index = dir.join("index.html");
        router = router.fallback_service(ServeDir::new(dir).fallback(ServeFile::new(index)));
    }
    let router = router
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn_with_state(web.clone(), guard))
        .with_state(web);
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "web mode stopped");
        }
    });
    Ok(WebServer { addr, token, task })
}

/// An error answer, with the HTTP status its code stands for.
fn error(e: ApiError) -> Response {
    let status =
        StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(e)).into_response()
}

async fn call(State(web): State<Web>, body: axum::body::Bytes) -> Response {
    let request: api::Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error(ApiError::new(
                ErrorCode::BadRequest,
                format!("not a Berth command: {e}"),
            ));
        }
    };
    let name = request.name();
    match api::dispatch(&web.app, request).await {
        Ok(value) => axum::Json(value).into_response(),
        Err(e) => {
            tracing::debug!(command = name, code = %e.code, "command failed");
            error(e)
        }
    }
}

async fn updates(State(web): State<Web>) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let stream = BroadcastStream::new(web.app.updates()).filter_map(|u| {
        update_json(u).map(|json| Ok(SseEvent::default().event("update").data(json)))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// One update as the SSE data; a page that fell behind gets a resync, so it reloads what it
/// shows rather than stay stale.
fn update_json(u: Result<AppUpdate, BroadcastStreamRecvError>) -> Option<String> {
    let update =
        u.unwrap_or_else(|BroadcastStreamRecvError::Lagged(missed)| AppUpdate::Resync { missed });
    match serde_json::to_string(&update) {
        Ok(json) => Some(json),
        Err(e) => {
            tracing::warn!(error = %e, "an update could not be encoded for the page");
            None
        }
    }
}

async fn export(State(web): State<Web>, Path(id): Path<String>) -> Response {
    let dir = match tempfile_dir() {
        Ok(d) => d,
        Err(e) => return error(ApiError::new(ErrorCode::Io, e)),
    };
    let path = dir.join("conversation.zip");
    let result = api::dispatch(
        &web.app,
        api::Request::ConversationExport(api::ExportArgs {
            id: id.clone(),
            path: path.display().to_string(),
        }),
    )
    .await;
    let response = match result
        .and_then(|_| std::fs::read(&path).map_err(|e| ApiError::new(ErrorCode::Io, e.to_string())))
    {
        Ok(bytes) => Response::builder()
            .header(header::CONTENT_TYPE, "application/zip")
            .header(
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"berth-{}.zip\"",
                    id.chars()
                        .filter(char::is_ascii_alphanumeric)
                        .collect::<String>()
                ),
            )
            .body(Body::from(bytes))
            .unwrap_or_default(),
        Err(e) => error(e),
    };
    let _ = std::fs::remove_dir_all(&dir);
    response
}

fn tempfile_dir() -> Result<PathBuf, String> {
    let dir =
        std::env::temp_dir().join(format!("berth-export-{}", berth_app::token::random_token()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    Ok(dir)
}

#[derive(serde::Deserialize)]
struct FileQuery {
    path: String,
}

async fn file(
    State(web): State<Web>,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<FileQuery>,
) -> Response {
    let bytes = api::handlers::workspace_of(&web.app, &id)
        .and_then(|root| berth_app::files::read(&root, &q.path).map_err(ApiError::from));
    match bytes {
        Ok(bytes) => {
            let name: String = std::path::Path::new(&q.path)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
                .collect();
            Response::builder()
                .header(header::CONTENT_TYPE, "application/octet-stream")
                .header(
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                )
                .body(Body::from(bytes))
                .unwrap_or_default()
        }
        Err(e) => error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_that_fell_behind_is_told_to_reload() {
        let json = update_json(Err(BroadcastStreamRecvError::Lagged(7)));
        assert_eq!(json.as_deref(), Some(r#"{"type":"resync","missed":7}"#));
    }
}
