//! The HTTP surface. Handlers only translate: they parse, call the service or the engine, and
//! shape the answer.

mod conversations;
mod events;
mod mcp;
mod server;
mod workspace;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};

use crate::error::ApiError;
use crate::service::AppState;

/// JSON bodies beyond this are refused with 413 (uploads have their own, larger limit).
pub const MAX_JSON_BODY: usize = 16 * 1024 * 1024;

pub fn router(state: AppState) -> Router {
    let api = conversation_routes()
        .merge(workspace_routes(&state))
        .fallback(|| async { ApiError::NotFound })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::require_key,
        ));
    Router::new()
        .route("/alive", get(server::alive))
        .route("/health", get(server::alive))
        .route("/ready", get(server::ready))
        .route("/server_info", get(server::server_info))
        .route("/", get(server::server_info))
        .route("/sockets/events/{id}", get(crate::ws::events_socket))
        .nest("/api", api)
        .fallback(|| async { ApiError::NotFound })
        .layer(DefaultBodyLimit::max(MAX_JSON_BODY))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            activity,
        ))
        .with_state(state)
}

/// `/api/conversations/…` and `/api/mcp/…`.
fn conversation_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/conversations",
            post(conversations::create).get(conversations::batch_get),
        )
        .route("/conversations/search", get(conversations::search))
        .route("/conversations/count", get(conversations::count))
        .route(
            "/conversations/{id}",
            get(conversations::get_one)
                .patch(conversations::patch)
                .delete(conversations::delete_one),
        )
        .route("/conversations/{id}/mcp", get(mcp::servers))
        .route("/mcp/test", post(mcp::test))
        .route("/conversations/{id}/run", post(conversations::run))
        .route("/conversations/{id}/pause", post(conversations::pause))
        .route(
            "/conversations/{id}/interrupt",
            post(conversations::interrupt),
        )
        .route("/conversations/{id}/secrets", post(conversations::secrets))
        .route(
            "/conversations/{id}/confirmation_policy",
            post(conversations::confirmation_policy),
        )
        .route(
            "/conversations/{id}/security_analyzer",
            post(conversations::security_analyzer),
        )
        .route(
            "/conversations/{id}/ask_agent",
            post(conversations::ask_agent),
        )
        .route(
            "/conversations/{id}/condense",
            post(conversations::condense),
        )
        .route(
            "/conversations/{id}/agent_final_response",
            get(conversations::final_response),
        )
        .route(
            "/conversations/{id}/events",
            post(events::send).get(events::batch_get),
        )
        .route("/conversations/{id}/events/search", get(events::search))
        .route("/conversations/{id}/events/count", get(events::count))
        .route(
            "/conversations/{id}/events/respond_to_confirmation",
            post(events::respond_to_confirmation),
        )
        .route(
            "/conversations/{id}/events/{event_id}",
            get(events::get_one),
        )
}

/// Commands, files, git and editor of the workspace.
fn workspace_routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/bash/start_bash_command", post(workspace::start_bash))
        .route("/bash/execute_bash_command", post(workspace::execute_bash))
        .route("/bash/bash_events/search", get(workspace::bash_search))
        .route("/bash/bash_events/{event_id}", get(workspace::bash_get))
        .route("/bash/bash_events", delete(workspace::bash_clear))
        .route(
            "/bash/bash_commands/{command_id}/stop",
            post(workspace::bash_stop),
        )
        .route(
            "/file/upload",
            post(workspace::upload).layer(DefaultBodyLimit::max(
                state.config.max_upload_bytes as usize,
            )),
        )
        .route("/file/download", get(workspace::download))
        .route(
            "/conversations/{id}/file/upload",
            post(workspace::scoped_upload).layer(DefaultBodyLimit::max(
                state.config.max_upload_bytes as usize,
            )),
        )
        .route(
            "/conversations/{id}/file/download",
            get(workspace::scoped_download),
        )
        .route("/git/changes", get(workspace::git_changes))
        .route("/git/diff", get(workspace::git_diff))
        .route("/vscode/url", get(workspace::vscode_url))
        .route("/vscode/status", get(workspace::vscode_status))
        .route("/confinement", get(workspace::confinement))
}

/// Every request counts as activity for `idle_time`; requests are logged without bodies or keys.
async fn activity(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    if path != "/alive" && path != "/health" && path != "/server_info" {
        state.touch();
    }
    let response = next.run(req).await;
    tracing::debug!(%method, %path, status = response.status().as_u16(), "request");
    response
}

/// A conversation id from the path: dashed or plain hex; anything else is a 422.
pub fn parse_id(raw: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(raw).map_err(|_| ApiError::Unprocessable {
        loc: vec!["path".into(), "conversation_id".into()],
        msg: format!("Input should be a valid UUID, got '{raw}'"),
    })
}

/// `{"success": true}`
pub fn success() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({"success": true}))
}
