//! `berth-app`: everything the desktop window and web mode call, with no Tauri types, so it
//! builds and tests headless.
//!
//! - [`sandbox`]: where agent-servers run (process now; Docker next);
//! - [`start`]: the observable task that turns "start a conversation on this repo" into a
//!   running conversation;
//! - [`agent_client`]: the app's HTTP client for an agent-server;
//! - [`mirror`] and [`bridge`]: every conversation's events in the app's own database, kept in
//!   step with the agent-server's socket, searchable;
//! - [`settings`]: validated user settings and their JSON schema;
//! - [`store`]: the SQLite database; [`paths`]: where Berth keeps its data.

pub mod agent_client;
pub mod bridge;
pub mod mirror;
pub mod paths;
pub mod sandbox;
pub mod settings;
pub mod start;
pub mod store;
