//! Session-key authentication. Keys are compared in constant time (`subtle`), so the time a
//! refusal takes says nothing about how much of a guess was right.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::service::AppState;

pub const HEADER: &str = "x-session-api-key";

/// Whether `candidate` is one of the configured keys (always true when none is configured).
pub fn key_ok(keys: &[String], candidate: Option<&str>) -> bool {
    if keys.is_empty() {
        return true;
    }
    let Some(candidate) = candidate else {
        return false;
    };
    // Every key is compared, whichever matches, so timing does not reveal which one did.
    keys.iter().fold(false, |found, k| {
        found | bool::from(k.as_bytes().ct_eq(candidate.as_bytes()))
    })
}

/// Middleware for `/api`: the `X-Session-API-Key` header must carry a valid key.
pub async fn require_key(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let given = req.headers().get(HEADER).and_then(|v| v.to_str().ok());
    if key_ok(&state.config.session_keys, given) {
        next.run(req).await
    } else {
        ApiError::Unauthorized.into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::key_ok;

    #[test]
    fn keys() {
        let keys = vec!["alpha".to_string(), "beta".to_string()];
        assert!(key_ok(&keys, Some("beta")));
        assert!(!key_ok(&keys, Some("bet")));
        assert!(!key_ok(&keys, Some("")));
        assert!(!key_ok(&keys, None));
        assert!(key_ok(&[], None));
    }
}
