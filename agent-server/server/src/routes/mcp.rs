//! MCP: testing one server before it is saved (`POST /api/mcp/test`, as OpenHands 1.58.2), and a
//! conversation's servers with their health and tools (`GET /api/conversations/{id}/mcp`,
//! Berth's own).

use axum::Json;
use axum::extract::{Path, State};
use berth_protocol::{McpServerState, McpTestRequest, McpTestResponse};

use super::parse_id;
use crate::error::{ApiError, JsonBody};
use crate::service::AppState;

pub async fn test(
    JsonBody(req): JsonBody<McpTestRequest>,
) -> Result<Json<McpTestResponse>, ApiError> {
    // No secrets here: the caller sends the values themselves.
    berth_agent::mcp::probe(&req, |_| None)
        .await
        .map(Json)
        .map_err(|e| ApiError::invalid("server", e.to_string()))
}

pub async fn servers(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<McpServerState>>, ApiError> {
    let entry = state.require(&parse_id(&id)?).await?;
    Ok(Json(entry.mcp.states()))
}
