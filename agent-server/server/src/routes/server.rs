//! Open routes: liveness, readiness, server information.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::service::AppState;

pub async fn alive() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

pub async fn ready() -> Json<Value> {
    Json(json!({"status": "ready"}))
}

pub async fn server_info(State(state): State<AppState>) -> Json<Value> {
    let version = env!("CARGO_PKG_VERSION");
    Json(json!({
        "uptime": state.uptime(),
        "idle_time": state.idle_time(),
        "title": "Berth Agent Server",
        "version": version,
        "sdk_version": version,
        "tools_version": version,
        "workspace_version": version,
        "build_git_sha": null,
        "build_git_ref": null,
        "python_version": null,
        "usable_tools": ["terminal", "file_editor", "task_tracker", "glob", "grep", "FinishTool", "ThinkTool"],
        "runtime_idle_timeout_seconds": null,
        "conversation_runtime": "local",
        "available_conversation_runtimes": [],
        "capabilities": ["idempotent_conversation_create_v1"],
        "app_backend_ingress_url": null,
        "max_foreground_terminal_timeout_seconds": null,
        "docs": null,
        "redoc": null,
    }))
}
