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
    // Without a key the server trusts whoever reaches it, so only loopback names may: a web
    // page that rebinds its DNS name to 127.0.0.1 would otherwise drive it.
    if state.config.session_keys.is_empty() && !loopback_host(&req) {
        return ApiError::Forbidden(
            "without a session key this server answers only requests to localhost or 127.0.0.1"
                .into(),
        )
        .into_response();
    }
    let given = req.headers().get(HEADER).and_then(|v| v.to_str().ok());
    if key_ok(&state.config.session_keys, given) {
        next.run(req).await
    } else {
        ApiError::Unauthorized.into_response()
    }
}

/// Whether the Host header names this machine's loopback (any port).
fn loopback_host(req: &Request) -> bool {
    let host = req
        .headers()
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.split(':').next().unwrap_or_default(),
    };
    matches!(name, "localhost" | "127.0.0.1" | "::1")
}

#[cfg(test)]
mod tests {
    use super::{key_ok, loopback_host};

    #[test]
    fn without_a_key_only_loopback_names_are_answered() {
        let with_host = |h: &str| {
            axum::http::Request::builder()
                .header("host", h)
                .body(axum::body::Body::empty())
                .unwrap_or_default()
        };
        for ok in [
            "127.0.0.1:8000",
            "localhost:3000",
            "[::1]:8000",
            "localhost",
        ] {
            assert!(loopback_host(&with_host(ok)), "{ok}");
        }
        for bad in [
            "evil.example:8000",
            "127.0.0.1.evil.example",
            "localhost.evil:80",
            "",
        ] {
            assert!(!loopback_host(&with_host(bad)), "{bad}");
        }
    }

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
