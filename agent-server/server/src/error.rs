//! API errors in FastAPI's shapes: `{"detail": …}` for 4xx, and for 5xx
//! `{"detail":"Internal Server Error","exception":…,"error_id":…}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("Unauthorized")]
    Unauthorized,
    #[error("Not Found")]
    NotFound,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    /// Validation failure at `loc` (FastAPI's 422 list shape).
    #[error("{msg}")]
    Unprocessable { loc: Vec<String>, msg: String },
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    pub fn invalid(field: &str, msg: impl Into<String>) -> Self {
        ApiError::Unprocessable {
            loc: vec!["body".into(), field.into()],
            msg: msg.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match &self {
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, json!({"detail": "Unauthorized"})),
            ApiError::NotFound => (StatusCode::NOT_FOUND, json!({"detail": "Not Found"})),
            ApiError::Forbidden(m) => (StatusCode::FORBIDDEN, json!({"detail": m})),
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, json!({"detail": m})),
            ApiError::Conflict(m) => (StatusCode::CONFLICT, json!({"detail": m})),
            ApiError::TooManyRequests(m) => (StatusCode::TOO_MANY_REQUESTS, json!({"detail": m})),
            ApiError::PayloadTooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, json!({"detail": m})),
            ApiError::Unprocessable { loc, msg } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"detail": [{"type": "value_error", "loc": loc, "msg": msg, "input": null}]}),
            ),
            ApiError::Internal(m) => {
                let error_id = uuid::Uuid::new_v4().simple().to_string();
                tracing::error!(%error_id, error = %m, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"detail": "Internal Server Error", "exception": m, "error_id": error_id}),
                )
            }
        };
        (status, Json(body)).into_response()
    }
}

impl From<berth_agent::ConversationError> for ApiError {
    fn from(e: berth_agent::ConversationError) -> Self {
        use berth_agent::ConversationError as E;
        match e {
            E::AlreadyRunning => ApiError::Conflict("Conversation already running".into()),
            E::Invalid(m) => ApiError::BadRequest(m),
            E::Llm(e) => ApiError::BadRequest(e.to_string()),
            E::Store(e) => ApiError::Internal(e.to_string()),
        }
    }
}

/// A JSON body extractor whose failures are FastAPI-style 422s (or 400 for unparseable JSON)
/// instead of axum's plain-text rejections.
pub struct JsonBody<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for JsonBody<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::rejection::JsonRejection;
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(JsonBody(v)),
            Err(JsonRejection::JsonDataError(e)) => Err(ApiError::Unprocessable {
                loc: vec!["body".into()],
                msg: e.body_text(),
            }),
            Err(JsonRejection::JsonSyntaxError(e)) => Err(ApiError::BadRequest(format!(
                "Invalid JSON: {}",
                e.body_text()
            ))),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::BadRequest(
                "Expected a JSON body with Content-Type: application/json".into(),
            )),
            Err(JsonRejection::BytesRejection(e)) => {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    Err(ApiError::PayloadTooLarge(
                        "The request body is too large".into(),
                    ))
                } else {
                    Err(ApiError::BadRequest(e.body_text()))
                }
            }
            Err(other) => Err(ApiError::BadRequest(other.body_text())),
        }
    }
}
