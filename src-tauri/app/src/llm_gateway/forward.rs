//! One call through the gateway: the sandbox's credential is checked and taken off, the real key
//! put on in the provider's header, and the answer streamed back as it comes. Only the call the
//! agent makes (POST of a completion) goes through: the key cannot be spent on a provider's other
//! APIs (files, fine-tuning, admin), and the upstream host is the route's, never the caller's.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use berth_agent::llm::Wire;

use std::sync::Arc;

use super::Shared;
use super::routes::Route;

/// Larger requests are refused: a long conversation's context is a few MiB of JSON.
pub(super) const MAX_REQUEST_BYTES: usize = 64 << 20;

/// Request headers that are not the caller's to pass on: its credential, the connection's own,
/// and what would tell the upstream about the sandbox.
const DROPPED_REQUEST: &[&str] = &[
    "authorization",
    "x-api-key",
    "api-key",
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "upgrade",
    "proxy-authorization",
    "proxy-connection",
    "cookie",
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
];

/// Response headers that belong to the upstream connection.
const DROPPED_RESPONSE: &[&str] = &[
    "connection",
    "keep-alive",
    "transfer-encoding",
    "upgrade",
    "set-cookie",
];

/// A call the gateway will not forward, answered in the shape both providers' clients read
/// (`error.message`), so the agent shows the reason.
pub(super) struct Refusal {
    status: StatusCode,
    message: String,
}

impl Refusal {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "type": "error",
            "error": {"type": "berth_llm_gateway", "message": self.message},
        });
        (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response()
    }
}

pub(super) async fn handle(
    State(gateway): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match forward(&gateway, method, &uri, headers, body).await {
        Ok(response) => response,
        Err(refusal) => {
            tracing::warn!(path = %uri.path(), status = %refusal.status, reason = %refusal.message, "LLM gateway refused a call");
            refusal.into_response()
        }
    }
}

async fn forward(
    gateway: &Shared,
    method: Method,
    uri: &Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Refusal> {
    let credential = credential(&headers).ok_or_else(|| {
        Refusal::new(
            StatusCode::UNAUTHORIZED,
            "Berth's LLM gateway needs the sandbox's credential (Authorization: Bearer, or x-api-key).",
        )
    })?;
    let route = gateway
        .route(credential)
        .map_err(|e| Refusal::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?
        .ok_or_else(|| {
            Refusal::new(
                StatusCode::UNAUTHORIZED,
                "Berth's LLM gateway does not know this sandbox's credential: its sandbox was deleted. Continue the conversation in a new sandbox.",
            )
        })?;
    let path = berth_agent::llm::completion_path(route.wire());
    if method != Method::POST || uri.path() != path {
        return Err(Refusal::new(
            StatusCode::NOT_FOUND,
            format!(
                "Berth's LLM gateway forwards only the agent's completions (POST {path}) for this model, not {method} {}.",
                uri.path()
            ),
        ));
    }
    let body = axum::body::to_bytes(body, MAX_REQUEST_BYTES)
        .await
        .map_err(|e| {
            Refusal::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the request is larger than {} MiB, or was cut off: {e}",
                    MAX_REQUEST_BYTES >> 20
                ),
            )
        })?;
    let key = gateway
        .key(credential, &route)
        .await
        .map_err(|e| Refusal::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
    let url = format!("{}{path}", route.upstream);
    let mut request = gateway.http().post(&url).body(body);
    for (name, value) in &headers {
        if !DROPPED_REQUEST.contains(&name.as_str()) {
            request = request.header(name, value);
        }
    }
    if let Some(key) = key.as_deref().filter(|k| !k.is_empty()) {
        request = match route.wire() {
            Wire::OpenAi => request.bearer_auth(key),
            Wire::Anthropic => request.header("x-api-key", key),
        };
    }
    let upstream = request.send().await.map_err(|e| unreachable(&route, &e))?;
    let mut response = Response::builder().status(upstream.status().as_u16());
    for (name, value) in upstream.headers() {
        if !DROPPED_RESPONSE.contains(&name.as_str()) {
            response = response.header(name, value);
        }
    }
    response
        .body(Body::from_stream(upstream.bytes_stream()))
        .map_err(|e| Refusal::new(StatusCode::BAD_GATEWAY, e.to_string()))
}

/// The sandbox's credential, from the header its wire format puts the key in.
fn credential(headers: &HeaderMap) -> Option<&str> {
    fn text(v: &HeaderValue) -> Option<&str> {
        v.to_str().ok().map(str::trim).filter(|t| !t.is_empty())
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(text)
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
    bearer.or_else(|| headers.get("x-api-key").and_then(text))
}

fn unreachable(route: &Route, error: &reqwest::Error) -> Refusal {
    let mut why = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        why.push_str(": ");
        why.push_str(&cause.to_string());
        source = cause.source();
    }
    Refusal::new(
        StatusCode::BAD_GATEWAY,
        format!(
            "Berth could not reach the LLM at {} ({why}). Check that it is running and that the profile's base URL is right (Settings → LLM).",
            route.upstream
        ),
    )
}
