//! A sandbox's keys: a fresh session key per sandbox and the sealing key, kept for the app in a
//! file only the user can read (`sandboxes/<id>/keys.json`), and handed to the agent-server in a
//! copy that it deletes once read (`berth_protocol::keys`) — again at each start of a container.
//! Neither key is ever in the sandbox's environment, where every process of the sandbox could
//! read it in `/proc`.

use std::path::{Path, PathBuf};

use berth_protocol::ServerKeys;

use super::SandboxError;
use berth_store::paths::Paths;
use berth_store::token::random_token;

/// Writes `text` to a file only the user can read, creating its folders.
pub fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

#[derive(Clone)]
pub struct SandboxKeys {
    paths: Paths,
}

impl SandboxKeys {
    pub fn new(paths: Paths) -> Self {
        Self { paths }
    }

    fn path(&self, id: &str) -> PathBuf {
        self.paths.sandbox_dir(id).join("keys.json")
    }

    /// A new sandbox's keys, stored; returns the keys file's content for its agent-server.
    pub fn create(&self, id: &str, sealing_key: Option<&str>) -> Result<String, SandboxError> {
        let file = serde_json::to_string(&ServerKeys {
            session_api_keys: vec![random_token()],
            secret_key: sealing_key.map(str::to_string),
        })
        .map_err(|e| SandboxError::Other(e.to_string()))?;
        write_private(&self.path(id), &file)
            .map_err(|e| SandboxError::Start(format!("cannot store the sandbox's keys: {e}")))?;
        Ok(file)
    }

    /// The keys file's content, for an agent-server starting again.
    pub fn file(&self, id: &str) -> Result<String, SandboxError> {
        std::fs::read_to_string(self.path(id))
            .map_err(|e| SandboxError::Other(format!("the sandbox's keys are unreadable: {e}")))
    }

    pub fn session_key(&self, id: &str) -> Result<String, SandboxError> {
        let keys: ServerKeys = serde_json::from_str(&self.file(id)?)
            .map_err(|e| SandboxError::Other(format!("the sandbox's keys are unreadable: {e}")))?;
        keys.session_api_keys
            .into_iter()
            .next()
            .ok_or_else(|| SandboxError::Other("the sandbox has no session key".into()))
    }
}
