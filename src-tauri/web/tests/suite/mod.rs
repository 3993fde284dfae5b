mod browser;
mod web;

/// The app on `library`, with process sandboxes, in web mode (serving `ui` when given).
pub async fn serve_library(
    library: berth_app::app::Library,
    ui: Option<std::path::PathBuf>,
) -> berth_web::WebServer {
    let app = berth_app::app::App::open(
        library,
        berth_app::app::AppOptions {
            runtime: Some(berth_app::settings::Runtime::Process),
            agent_server_binary: Some(berth_test_support::agent_server_binary()),
            idle_check: None,
        },
    )
    .await
    .unwrap();
    berth_web::serve(
        std::sync::Arc::new(app),
        berth_web::WebOptions {
            port: 0,
            ui_dir: ui,
        },
    )
    .await
    .unwrap()
}
