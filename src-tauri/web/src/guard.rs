//! What every request to web mode passes before a handler sees it, and what every answer carries.
//!
//! - The Host header names the loopback address, so a web page cannot reach the server by
//!   rebinding a DNS name to 127.0.0.1.
//! - The per-launch token: `?token=` on the first page load (answered with a redirect to the same
//!   address without it, which sets a `SameSite=Strict`, `HttpOnly` cookie, so the token leaves
//!   the address bar and the history), the cookie, or `Authorization: Bearer`.
//! - Commands (`POST`) only as JSON from the app's own origin: every `http://127.0.0.1:<port>` is
//!   the same *site* as this one, so the cookie alone would let a page of any loopback server (a
//!   dev server of the repository the agent just edited) post commands. JSON needs a CORS
//!   preflight, which nothing here answers, and `Origin`/`Sec-Fetch-Site` must say same-origin.
//! - Every answer carries the desktop window's CSP (from `tauri.conf.json`, so it is written
//!   once) with `connect-src 'self'` for HTTP and `frame-ancestors 'none'`, and will not be framed.

use std::sync::OnceLock;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use berth_app::api::{ApiError, ErrorCode};

use super::{Web, error};

const COOKIE: &str = "berth_token";
const TAURI_CONF: &str = include_str!("../../tauri.conf.json");

/// The desktop's CSP, made fit for a browser tab.
pub fn content_security_policy() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        let desktop = serde_json::from_str::<serde_json::Value>(TAURI_CONF)
            .ok()
            .and_then(|c| c["app"]["security"]["csp"].as_str().map(str::to_string))
            .unwrap_or_else(|| "default-src 'self'".into());
        let mut parts: Vec<String> = desktop
            .split(';')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty() && !p.starts_with("connect-src"))
            .collect();
        parts.push("connect-src 'self'".into());
        parts.push("frame-ancestors 'none'".into());
        parts.join("; ")
    })
}

fn refuse(code: ErrorCode, message: &str) -> Response {
    error(ApiError::new(code, message))
}

/// Host check, then the token, then (for commands) the origin; security headers on the answer.
pub async fn guard(State(web): State<Web>, request: Request, next: Next) -> Response {
    let mut response = check(&web, request, next).await;
    let headers = response.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(content_security_policy()) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

async fn check(web: &Web, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let allowed = [
        format!("127.0.0.1:{}", web.port),
        format!("localhost:{}", web.port),
    ];
    if !allowed.contains(&host) {
        return refuse(
            ErrorCode::BadHost,
            "Berth answers only on its loopback address",
        );
    }
    let (from_query, rest_of_query) = split_token(request.uri().query());
    let presented = from_query
        .clone()
        .or_else(|| cookie(request.headers()))
        .or_else(|| {
            request
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::to_string)
        });
    let ok = presented
        .is_some_and(|p| subtle::ConstantTimeEq::ct_eq(p.as_bytes(), web.token.as_bytes()).into());
    if !ok {
        return refuse(
            ErrorCode::Unauthorized,
            "Open Berth with the address `berth serve` printed (it carries the token)",
        );
    }
    if from_query.is_some() && request.method() == Method::GET {
        let path = request.uri().path();
        let location = match rest_of_query {
            Some(q) => format!("{path}?{q}"),
            None => path.to_string(),
        };
        return redirect_with_cookie(&location, &web.token);
    }
    if request.method() != Method::GET
        && let Err((code, why)) = same_origin_json(request.headers(), &host)
    {
        return refuse(code, why);
    }
    next.run(request).await
}

/// The token from a query, and the query without it.
fn split_token(query: Option<&str>) -> (Option<String>, Option<String>) {
    let Some(q) = query else {
        return (None, None);
    };
    let mut token = None;
    let rest: Vec<&str> = q
        .split('&')
        .filter(|kv| match kv.strip_prefix("token=") {
            Some(t) => {
                token = Some(t.to_string());
                false
            }
            None => !kv.is_empty(),
        })
        .collect();
    (token, (!rest.is_empty()).then(|| rest.join("&")))
}

fn redirect_with_cookie(location: &str, token: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let Ok(l) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, l);
    }
    if let Ok(c) = HeaderValue::from_str(&format!(
        "{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/"
    )) {
        headers.insert(header::SET_COOKIE, c);
    }
    response
}

type Refusal = (ErrorCode, &'static str);

/// A command must be JSON, and a browser must say it comes from this origin.
fn same_origin_json(headers: &HeaderMap, host: &str) -> Result<(), Refusal> {
    const CROSS: Refusal = (
        ErrorCode::CrossOrigin,
        "commands come only from Berth's own page",
    );
    let value = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase)
    };
    let json = value(header::CONTENT_TYPE)
        .is_some_and(|t| t.split(';').next().map(str::trim) == Some("application/json"));
    if !json {
        return Err((
            ErrorCode::NotJson,
            "commands are JSON (Content-Type: application/json)",
        ));
    }
    if let Some(origin) = value(header::ORIGIN)
        && origin != format!("http://{host}")
    {
        return Err(CROSS);
    }
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && site != "same-origin"
        && site != "none"
    {
        return Err(CROSS);
    }
    Ok(())
}

fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| {
            kv.trim()
                .strip_prefix(&format!("{COOKIE}="))
                .map(str::to_string)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_web_csp_is_the_desktops_with_http_connections_and_no_framing() {
        let csp = content_security_policy();
        assert!(csp.starts_with("default-src 'self'"), "{csp}");
        assert!(csp.contains("img-src 'self' data:"), "{csp}");
        assert!(
            csp.contains("connect-src 'self'") && !csp.contains("ipc:"),
            "{csp}"
        );
        assert!(csp.ends_with("frame-ancestors 'none'"), "{csp}");
    }

    #[test]
    fn the_token_leaves_the_query() {
        assert_eq!(
            split_token(Some("token=abc&x=1")),
            (Some("abc".into()), Some("x=1".into()))
        );
        assert_eq!(split_token(Some("token=abc")), (Some("abc".into()), None));
        assert_eq!(split_token(None), (None, None));
    }
}
