//! The desktop shell: one window over `berth-app` (commands through Tauri IPC, updates as Tauri
//! events), a tray menu, `berth://` links (a second launch hands its link to the running app),
//! OS notifications when an agent needs the user, and the window's size and place kept.
//! Everything it does is translate: the logic is in `berth-app`.

mod guard;
mod logs;
mod notify;
mod tray;

use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use berth_app::api::{self, ApiError, AppUpdate};
use berth_app::app::{App, AppOptions, Library};
use tauri::{AppHandle, Emitter, Manager, WebviewUrl, WebviewWindowBuilder};

/// What the commands share.
pub struct Shared {
    pub app: Arc<App>,
    /// `berth://` links not yet taken by the UI (it may still be loading).
    links: Mutex<Vec<String>>,
}

#[tauri::command]
async fn call(
    state: tauri::State<'_, Shared>,
    request: api::Request,
) -> Result<serde_json::Value, ApiError> {
    api::dispatch(&state.app, request).await
}

/// Links that arrived (first launch, a second launch, the OS); the UI parses and shows them.
#[tauri::command]
fn take_links(state: tauri::State<'_, Shared>) -> Vec<String> {
    std::mem::take(&mut *state.links.lock().unwrap_or_else(|e| e.into_inner()))
}

/// Opens the folder of the app's log files in the platform's file manager.
#[tauri::command]
fn open_logs(state: tauri::State<'_, Shared>) -> Result<(), String> {
    let folder = state.app.library.paths.logs();
    open::that_detached(&folder).map_err(|e| format!("cannot open {}: {e}", folder.display()))
}

/// Shows the main window on a route (`/c/ID`), e.g. after the quick prompt started a conversation.
#[tauri::command]
fn show_main(app: AppHandle, path: String) {
    show(&app, Some(&path));
}

pub fn show(app: &AppHandle, path: Option<&str>) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
    if let Some(p) = path {
        let _ = app.emit_to("main", "navigate", p);
    }
}

pub fn open_quick(app: &AppHandle) {
    if let Some(w) = app.get_webview_window("quick") {
        let _ = w.show();
        let _ = w.set_focus();
        return;
    }
    let built =
        WebviewWindowBuilder::new(app, "quick", WebviewUrl::App("index.html#/quick".into()))
            .title("New conversation")
            .inner_size(560.0, 300.0)
            .resizable(false)
            .always_on_top(true)
            .build();
    if let Err(e) = built {
        tracing::warn!(error = %e, "cannot open the quick prompt");
    }
}

fn hand_over_links(app: &AppHandle, args: impl IntoIterator<Item = String>) {
    let links: Vec<String> = args
        .into_iter()
        .filter(|a| a.starts_with("berth://"))
        .collect();
    if links.is_empty() {
        return;
    }
    if let Some(shared) = app.try_state::<Shared>() {
        shared
            .links
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(links);
    }
    let _ = app.emit_to("main", "deep_link", ());
    show(app, None);
}

pub fn run() -> ExitCode {
    let result = tauri::Builder::default()
        // First: a second launch hands its arguments (a link) to this one and exits.
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            hand_over_links(app, argv);
            show(app, None);
        }))
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(guard::plugin())
        .invoke_handler(tauri::generate_handler![
            call,
            take_links,
            show_main,
            open_logs,
            guard::open_link
        ])
        .setup(|tauri_app| {
            let library = Library::open_default()?;
            logs::init(&library.paths.logs());
            tracing::info!(
                version = env!("CARGO_PKG_VERSION"),
                data = %library.paths.home.display(),
                "Berth started"
            );
            let app = Arc::new(tauri::async_runtime::block_on(App::open(
                library,
                AppOptions::default(),
            ))?);
            tauri_app.manage(Shared {
                app: app.clone(),
                links: Mutex::new(Vec::new()),
            });
            let handle = tauri_app.handle().clone();
            hand_over_links(&handle, std::env::args().skip(1));
            {
                use tauri_plugin_deep_link::DeepLinkExt;
                let h = handle.clone();
                tauri_app.deep_link().on_open_url(move |event| {
                    hand_over_links(&h, event.urls().into_iter().map(|u| u.to_string()));
                });
            }
            tray::install(&handle, &app)?;
            forward_updates(handle, app);
            Ok(())
        })
        .run(tauri::generate_context!());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("berth: {e}");
            ExitCode::FAILURE
        }
    }
}

/// App updates to the windows as `update` events; the tray and notifications follow them.
fn forward_updates(handle: AppHandle, app: Arc<App>) {
    let mut updates = app.updates();
    tauri::async_runtime::spawn(async move {
        loop {
            match updates.recv().await {
                Ok(update) => {
                    if let AppUpdate::Event {
                        conversation_id,
                        event,
                    } = &update
                        && let Some(status) = notify::status_change(event)
                    {
                        notify::agent_status(&handle, &app, conversation_id, status);
                        tray::refresh(&handle, &app);
                    }
                    if let Err(e) = handle.emit("update", &update) {
                        tracing::warn!(error = %e, "could not send an update to the windows");
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                    // The window missed updates: it reloads what it shows.
                    if let Err(e) = handle.emit("update", &AppUpdate::Resync { missed }) {
                        tracing::warn!(error = %e, "could not ask the windows to reload");
                    }
                }
                Err(_) => return,
            }
        }
    });
}
