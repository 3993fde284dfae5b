//! Helpers shared by the sandbox tests.

pub mod app;
pub mod process;

use std::path::{Path, PathBuf};
use std::time::Duration;

use berth_app::agent_client::AgentClient;
use berth_protocol::ExecutionStatus;

/// The agent-server binary built for this workspace.
pub fn server_binary() -> PathBuf {
    berth_test_support::agent_server_binary()
}

pub use berth_test_support::{commit, committed_repo, git};

/// Makes `dir` the folder of an ordinary user (uid 1000, the image's `agent`) when the tests run
/// as root, as a user's project is theirs: Berth hands a Docker sandbox the folder's owner and
/// refuses a root-owned folder.
pub fn users_folder(dir: &Path) {
    if nix::unistd::getuid().is_root() {
        let ok = std::process::Command::new("chown")
            .args(["-R", "1000:1000"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "cannot chown {}", dir.display());
    }
}

pub async fn wait_for(client: &AgentClient, id: &str, want: ExecutionStatus) {
    for _ in 0..500 {
        if client
            .conversation(id)
            .await
            .is_ok_and(|c| c.execution_status == want)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    panic!("conversation {id} never reached {want:?}");
}

/// A key in the user's `~/.ssh`, with content no test prints otherwise.
pub struct PlantedKey {
    pub path: PathBuf,
    pub secret: String,
}

impl PlantedKey {
    pub fn plant() -> Self {
        let home = dirs::home_dir().expect("no home folder");
        let secret = format!("BERTH-TEST-PRIVATE-KEY-{}", uuid::Uuid::new_v4().simple());
        let dir = home.join(".ssh");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("id_berth_test_{}", &secret[24..32]));
        std::fs::write(&path, &secret).unwrap();
        Self { path, secret }
    }
}

impl Drop for PlantedKey {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.path) {
            eprintln!("could not remove {}: {e}", self.path.display());
        }
    }
}
