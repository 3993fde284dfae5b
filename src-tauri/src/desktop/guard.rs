//! What the windows may load, and how a link leaves the app. Agent output is attacker input: a
//! link in it must never turn a window into a remote page, which could otherwise call the app's
//! commands. So every navigation outside the app's own origin is refused (for every window,
//! through a small plugin's navigation hook), and a link the user confirmed opens in the system
//! browser through [`open_link`], http(s) and mailto only.
//!
//! The commands themselves are also in the app's ACL manifest (`build.rs`), granted by
//! `capabilities/default.json` to the app's local windows only, so even a remote page in a
//! window could call none of them.
//!
//! Crate: `open`, the small maintained crate that hands a URL to the platform's opener
//! (`xdg-open`, `open`, `ShellExecute`), which Tauri's own opener plugin uses too.

use tauri::plugin::{Builder, TauriPlugin};
use tauri::{Runtime, Url};

/// The app's own pages: `tauri://localhost` (Linux, macOS) or `http(s)://tauri.localhost`
/// (Windows).
pub fn is_app_origin(url: &Url) -> bool {
    match url.scheme() {
        "tauri" => url.host_str() == Some("localhost"),
        "http" | "https" => url.host_str() == Some("tauri.localhost"),
        _ => false,
    }
}

/// Refuses every navigation away from the app's own pages, in every window.
pub fn plugin<R: Runtime>() -> TauriPlugin<R> {
    Builder::new("navigation-guard")
        .on_navigation(|_webview, url| {
            let allowed = is_app_origin(url);
            if !allowed {
                tracing::warn!(%url, "refused a navigation away from the app");
            }
            allowed
        })
        .build()
}

/// Opens an http(s) or mailto link in the system browser (the UI asked the user first).
#[tauri::command]
pub fn open_link(url: String) -> Result<(), String> {
    let parsed = Url::parse(&url).map_err(|e| format!("not a link: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https" | "mailto") {
        return Err(format!(
            "only http, https and mailto links open, not {}:",
            parsed.scheme()
        ));
    }
    open::that_detached(parsed.as_str()).map_err(|e| format!("cannot open the link: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_apps_own_pages_load_in_a_window() {
        for ok in [
            "tauri://localhost/index.html#/c/1",
            "http://tauri.localhost/",
        ] {
            assert!(is_app_origin(&Url::parse(ok).unwrap()), "{ok}");
        }
        for bad in [
            "https://evil.example/",
            "http://localhost:1420/",
            "tauri://evil/",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "http://tauri.localhost.evil.example/",
        ] {
            assert!(!is_app_origin(&Url::parse(bad).unwrap()), "{bad}");
        }
    }
}
