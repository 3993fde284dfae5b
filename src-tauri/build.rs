// The app's commands go in an ACL manifest: with one, Tauri checks every command against the
// capabilities, which grant them to the app's own local windows only (capabilities/), so a
// remote page in a window could call none of them.
fn main() {
    let commands =
        tauri_build::AppManifest::new().commands(&["call", "take_links", "show_main", "open_link"]);
    if let Err(e) = tauri_build::try_build(tauri_build::Attributes::new().app_manifest(commands)) {
        eprintln!("tauri-build: {e:#}");
        std::process::exit(1);
    }
}
