//! `berth-app`: everything the desktop window and web mode call, with no Tauri types, so it
//! builds and tests headless.
//!
//! - [`sandbox`] (the `berth-sandbox` crate): where agent-servers run (a Docker container or a
//!   local process);
//! - [`start`]: the observable task that turns "start a conversation on this repo" into a
//!   running conversation;
//! - [`agent_client`]: the app's HTTP client for an agent-server;
//! - [`mirror`] and [`bridge`]: every conversation's events in the app's own database, kept in
//!   step with the agent-server's socket, searchable;
//! - [`settings`]: validated user settings and their JSON schema; [`llm_check`]: "test
//!   connection" and local LLM servers found;
//! - [`secrets`]: secrets in the OS keychain, never in the database;
//! - [`conversations`]: starting, following, searching, exporting, deleting conversations;
//! - [`webhooks`] and [`watcher`]: events to user URLs; live changed files of workspaces;
//! - [`api`]: every UI command defined once, its TypeScript generated;
//! - [`deeplink`]: `berth://` links parsed into a typed action (never a start);
//! - [`files`]: a workspace's files for the Files tab, kept inside the workspace;
//!   [`workspace_folder`]: which folders may be a workspace at all;
//! - [`git_remote`]: a repository address parsed once, and where its provider's token may go;
//! - [`app`]: all of it wired once, as the desktop window, web mode and the CLI use it;
//! - [`store`], [`paths`], [`time`], [`token`] (the `berth-store` crate): the SQLite database,
//!   where Berth keeps its data, how records are stamped; [`home_lock`]: which process owns it.

pub use berth_sandbox as sandbox;
pub use berth_store::{paths, store, time, token};

pub mod agent_client;
pub mod api;
pub mod app;
pub mod bridge;
pub mod conversation_records;
pub mod conversations;
pub mod deeplink;
pub mod files;
pub mod git_remote;
pub mod git_tampering;
pub mod home_lock;
pub mod llm_check;
pub mod llm_gateway;
pub mod mcp;
pub mod mirror;
pub mod repository;
pub mod secrets;
pub mod settings;
pub mod start;
pub mod updates;
pub mod watcher;
pub mod webhooks;
pub mod workspace_folder;

#[cfg(test)]
mod tests {
    use serde::Serialize;
    use strum::VariantArray;

    /// Each closed set of names is stored or logged by its strum name and sent by its serde
    /// name: the two must be the same word for every variant.
    fn stored_as_sent<T: Serialize + VariantArray + Copy + Into<&'static str>>() {
        for v in T::VARIANTS {
            let sent = serde_json::to_value(v).unwrap();
            let stored: &'static str = (*v).into();
            assert_eq!(sent, stored);
        }
    }

    #[test]
    fn every_enum_is_stored_under_the_name_it_is_sent_by() {
        stored_as_sent::<crate::sandbox::SandboxKind>();
        stored_as_sent::<crate::sandbox::SandboxStatus>();
        stored_as_sent::<crate::start::StartStatus>();
        stored_as_sent::<crate::secrets::SecretKind>();
        stored_as_sent::<crate::api::ErrorCode>();
    }
}
