//! Helpers the workspace's tests share.

use std::path::{Path, PathBuf};

/// The workspace's root folder.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The debug `berth-agent-server` of this workspace, which sandboxes run (`cargo nextest run
/// --workspace` builds it; a lone `-p` run builds it here).
pub fn agent_server_binary() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    let bin = target.join("debug/berth-agent-server");
    if !bin.is_file() {
        let ok =
            std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args(["build", "-q", "-p", "berth-agent-server"])
                .current_dir(workspace_root())
                .status()
                .is_ok_and(|s| s.success());
        assert!(ok, "could not build berth-agent-server");
    }
    bin
}
