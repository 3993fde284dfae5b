//! OS confinement of a process sandbox's commands: the policy the app hands its agent-server
//! (in `BERTH_CONFINEMENT`, as JSON) and the state the agent-server reports back
//! (`GET /api/confinement`), which the CLI and the UI show.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The environment variable that carries a [`ConfinementPolicy`] to the agent-server.
pub const CONFINEMENT_ENV: &str = "BERTH_CONFINEMENT";

/// Whether the agent's commands may use the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum NetworkAccess {
    #[default]
    On,
    /// No connect or bind, except to the loopback ports the policy lists.
    Off,
}

impl NetworkAccess {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::On => "on",
            Self::Off => "off",
        }
    }
}

/// What every process the agent starts may touch. Paths are absolute.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ConfinementPolicy {
    /// Writable: the workspace, then extra folders from settings.
    pub writable: Vec<PathBuf>,
    /// Readable although inside a denied folder (extra read-only paths from settings).
    pub readable: Vec<PathBuf>,
    /// Unreadable: the user's secrets, Berth's own data, other conversations.
    pub denied: Vec<PathBuf>,
    /// The agent's own home folder (writable): caches, `~/.gitconfig` that includes the user's.
    pub home: PathBuf,
    /// The agent's own temporary folder (writable, `TMPDIR`).
    pub tmp: PathBuf,
    /// The user's real home folder, whose tools (`~/.rustup`, `~/.cargo/bin`) stay usable.
    pub user_home: Option<PathBuf>,
    #[serde(default)]
    pub network: NetworkAccess,
    /// Loopback TCP ports reachable with the network off (services given to the conversation).
    #[serde(default)]
    pub loopback_ports: Vec<u16>,
    /// Refuse to run unconfined.
    #[serde(default)]
    pub required: bool,
    /// Set: the probe fails with this reason, as on a machine with no confinement (for tests,
    /// and for users who must run unconfined on purpose).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

/// How a sandbox's commands are confined, as the user is told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ConfinementState {
    /// Linux: a Landlock domain (files, TCP) and a seccomp filter (sockets) on every command.
    Landlock {
        abi: u32,
        network: NetworkAccess,
        /// What this kernel's Landlock cannot hold, said plainly.
        notes: Vec<String>,
    },
    /// macOS: a deny-by-default `sandbox-exec` profile on every command.
    Seatbelt { network: NetworkAccess },
    /// A Docker sandbox: the container is the boundary.
    Container,
    /// Commands run with the user's full rights.
    Unconfined { reason: String },
}

impl ConfinementState {
    pub fn is_confined(&self) -> bool {
        !matches!(self, Self::Unconfined { .. })
    }

    /// One line for a header or a terminal: "Confined: Landlock ABI 7, network on".
    pub fn summary(&self) -> String {
        match self {
            Self::Landlock { abi, network, .. } => {
                format!("Confined: Landlock ABI {abi}, network {}", network.as_str())
            }
            Self::Seatbelt { network } => {
                format!("Confined: macOS sandbox, network {}", network.as_str())
            }
            Self::Container => "Isolated: Docker container".into(),
            Self::Unconfined { reason } => {
                format!("Not confined: {reason} — the agent can read your files")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_says_what_holds_and_what_does_not() {
        let confined = ConfinementState::Landlock {
            abi: 7,
            network: NetworkAccess::On,
            notes: vec![],
        };
        assert_eq!(confined.summary(), "Confined: Landlock ABI 7, network on");
        let open = ConfinementState::Unconfined {
            reason: "this kernel has no Landlock".into(),
        };
        assert_eq!(
            open.summary(),
            "Not confined: this kernel has no Landlock — the agent can read your files"
        );
        assert!(!open.is_confined());
        assert_eq!(
            serde_json::to_value(&confined).unwrap_or_default()["kind"],
            "landlock"
        );
    }
}
