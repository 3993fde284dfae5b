//! The tray menu: New conversation (the quick prompt), recent conversations, running agents with
//! their status, Show Berth, Quit. Rebuilt when an agent's status changes.

use berth_app::app::App;
use berth_app::conversations::{PageRequest, SortBy};
use berth_protocol::ExecutionStatus;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Wry};

const TRAY: &str = "berth";

pub fn install(handle: &AppHandle, app: &App) -> tauri::Result<()> {
    let menu = menu(handle, app)?;
    let mut tray = TrayIconBuilder::with_id(TRAY)
        .tooltip("Berth")
        .menu(&menu)
        .on_menu_event(|handle, event| match event.id().as_ref() {
            "new" => super::open_quick(handle),
            "show" => super::show(handle, None),
            "quit" => handle.exit(0),
            id => {
                if let Some(conversation) = id.strip_prefix("open:") {
                    super::show(handle, Some(&format!("/c/{conversation}")));
                }
            }
        });
    if let Some(icon) = handle.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(handle)?;
    Ok(())
}

pub fn refresh(handle: &AppHandle, app: &App) {
    if let (Some(tray), Ok(menu)) = (handle.tray_by_id(TRAY), menu(handle, app)) {
        let _ = tray.set_menu(Some(menu));
    }
}

fn menu(handle: &AppHandle, app: &App) -> tauri::Result<Menu<Wry>> {
    let page = app
        .conversations
        .list(PageRequest {
            offset: 0,
            limit: 20,
            sort: SortBy::RecentlyUpdated,
        })
        .map(|p| p.items)
        .unwrap_or_default();
    let label = |title: &Option<String>| {
        let t = title.clone().unwrap_or_else(|| "(untitled)".into());
        if t.chars().count() > 40 {
            format!("{}…", t.chars().take(40).collect::<String>())
        } else {
            t
        }
    };
    let recent = Submenu::with_id(handle, "recent", "Recent conversations", true)?;
    for c in page.iter().take(6) {
        recent.append(&MenuItem::with_id(
            handle,
            format!("open:{}", c.id),
            label(&c.title),
            true,
            None::<&str>,
        )?)?;
    }
    let running: Vec<_> = page
        .iter()
        .filter(|c| c.status.is_some_and(ExecutionStatus::is_active))
        .collect();
    let agents = Submenu::with_id(
        handle,
        "running",
        format!("Running agents ({})", running.len()),
        true,
    )?;
    for c in running {
        let status = if c.status == Some(ExecutionStatus::Running) {
            "running"
        } else {
            "waiting for you"
        };
        agents.append(&MenuItem::with_id(
            handle,
            format!("open:{}", c.id),
            format!("{} — {status}", label(&c.title)),
            true,
            None::<&str>,
        )?)?;
    }
    Menu::with_items(
        handle,
        &[
            &MenuItem::with_id(handle, "new", "New conversation…", true, None::<&str>)?,
            &PredefinedMenuItem::separator(handle)?,
            &recent,
            &agents,
            &PredefinedMenuItem::separator(handle)?,
            &MenuItem::with_id(handle, "show", "Show Berth", true, None::<&str>)?,
            &MenuItem::with_id(handle, "quit", "Quit", true, None::<&str>)?,
        ],
    )
}
