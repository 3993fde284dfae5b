//! The keys file: how the app hands a sandbox's agent-server its keys. The server reads the
//! file named by [`KEYS_FILE_ENV`] at start-up and deletes it, so the keys are neither in its
//! environment — which every process of the sandbox can read in `/proc/<pid>/environ`, tini's
//! too — nor on disk once it runs.

use serde::{Deserialize, Serialize};

/// The environment variable that names the keys file.
pub const KEYS_FILE_ENV: &str = "BERTH_KEYS_FILE";

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerKeys {
    /// Accepted session keys (`X-Session-API-Key`).
    pub session_api_keys: Vec<String>,
    /// What secrets are sealed with at rest; `None` = the first session key.
    #[serde(default)]
    pub secret_key: Option<String>,
}

impl std::fmt::Debug for ServerKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerKeys")
            .field("session_api_keys", &self.session_api_keys.len())
            .field("secret_key", &self.secret_key.is_some())
            .finish()
    }
}
