//! `berth`: with a command (`run`, `conversations`, `settings`, `secrets`, `serve`) it is the
//! command line; otherwise the desktop app (a `berth://` link as argument included).
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod desktop;

fn main() -> std::process::ExitCode {
    if std::env::args()
        .nth(1)
        .is_some_and(|a| berth_cli::is_command(&a))
    {
        return berth_cli::main();
    }
    desktop::run()
}
