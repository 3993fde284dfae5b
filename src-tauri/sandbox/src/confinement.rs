//! The confinement policy of a process sandbox: what every command its agent starts may read,
//! write and reach (`berth-confine` applies it, inside the agent-server's helper). Decided here,
//! where the app knows its own data folder and the user's settings.

use std::path::{Path, PathBuf};

use berth_protocol::{ConfinementPolicy, NetworkAccess};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::SandboxSpec;
use berth_store::paths::Paths;

/// Set (to a reason), the probe fails as on a machine without confinement: for tests, and for a
/// user who must run unconfined on purpose.
pub const UNAVAILABLE_ENV: &str = "BERTH_CONFINEMENT_UNAVAILABLE";

/// The OS confinement of a process sandbox's commands (`berth-confine`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ts_rs::TS)]
#[serde(default, deny_unknown_fields)]
pub struct ConfinementSettings {
    /// Confine the agent's commands where the machine allows it. Off: they run with the user's
    /// full rights, and every conversation says so.
    pub enabled: bool,
    /// Refuse to start a process sandbox whose commands cannot be confined.
    pub required: bool,
    /// Whether the agent's commands may use the network (the agent's LLM calls always can).
    pub network: bool,
    /// Folders the agent's commands may read although Berth hides them (absolute paths).
    pub extra_readable: Vec<String>,
    /// Folders besides the workspace the agent's commands may change (absolute paths).
    pub extra_writable: Vec<String>,
}

impl Default for ConfinementSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            required: false,
            network: true,
            extra_readable: Vec::new(),
            extra_writable: Vec::new(),
        }
    }
}

/// The policy for a sandbox whose own folder is `sandbox_dir`.
pub fn policy(paths: &Paths, sandbox_dir: &Path, spec: &SandboxSpec) -> ConfinementPolicy {
    let user_home = dirs::home_dir();
    let runtime = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from);
    let mut denied = user_home
        .as_deref()
        .map(|h| berth_confine::secrets::user_secrets(h, runtime.as_deref()))
        .unwrap_or_default();
    // The database, every conversation's files, every sandbox's keys.
    denied.push(paths.home.clone());
    let settings = &spec.confinement;
    let mut writable = vec![spec.workspace.clone()];
    writable.extend(settings.extra_writable.iter().map(PathBuf::from));
    ConfinementPolicy {
        writable,
        readable: settings.extra_readable.iter().map(PathBuf::from).collect(),
        denied,
        home: sandbox_dir.join("home"),
        tmp: sandbox_dir.join("tmp"),
        user_home,
        network: if settings.network {
            NetworkAccess::On
        } else {
            NetworkAccess::Off
        },
        loopback_ports: Vec::new(),
        required: settings.required,
        unavailable: unavailable(settings.enabled),
    }
}

/// Why confinement is off on purpose, if it is: the setting, or [`UNAVAILABLE_ENV`].
fn unavailable(enabled: bool) -> Option<String> {
    if !enabled {
        return Some("confinement is turned off in Settings → Sandbox".into());
    }
    std::env::var(UNAVAILABLE_ENV)
        .ok()
        .filter(|r| !r.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn berth_s_data_and_the_user_s_keys_are_hidden_and_the_workspace_is_writable() {
        let paths = Paths::at("/data/berth");
        let mut spec = SandboxSpec::new("/work/repo");
        spec.confinement.network = false;
        spec.confinement.extra_writable = vec!["/data/cache".into()];
        let p = policy(&paths, Path::new("/data/berth/sandboxes/s1"), &spec);
        assert!(p.denied.contains(&PathBuf::from("/data/berth")));
        if let Some(home) = dirs::home_dir() {
            assert!(p.denied.contains(&home.join(".ssh")));
        }
        assert_eq!(
            p.writable,
            vec![PathBuf::from("/work/repo"), PathBuf::from("/data/cache")]
        );
        assert_eq!(p.home, PathBuf::from("/data/berth/sandboxes/s1/home"));
        assert_eq!(p.network, NetworkAccess::Off);
    }
}
