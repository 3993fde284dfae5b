//! Where Berth keeps its data: the platform's app-data folder (Linux `~/.local/share/berth`,
//! macOS `~/Library/Application Support/berth`, Windows `%APPDATA%\berth`), or `BERTH_HOME`.
//! Crate: `dirs`, the small maintained crate for platform folders.

use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Paths {
    pub home: PathBuf,
}

impl Paths {
    /// `BERTH_HOME`, else the platform folder; `None` when neither can be found.
    pub fn from_env() -> Option<Self> {
        let home = std::env::var_os("BERTH_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| dirs::data_dir().map(|d| d.join("berth")))?;
        Some(Self { home })
    }

    pub fn at(home: impl Into<PathBuf>) -> Self {
        Self { home: home.into() }
    }

    pub fn database(&self) -> PathBuf {
        self.home.join("berth.db")
    }

    /// Per-sandbox files (the process sandbox's session key).
    pub fn sandbox_dir(&self, id: &str) -> PathBuf {
        self.home.join("sandboxes").join(id)
    }

    /// Where agent-servers keep conversations: outside any one sandbox, so a conversation can go
    /// on in a new sandbox when its own is gone.
    pub fn conversations(&self) -> PathBuf {
        self.home.join("conversations")
    }

    /// One conversation's own conversations folder (`conversations/<id>`, holding the
    /// agent-server's `<id>/`): the only one its sandbox is given, so no sandbox sees another
    /// conversation. A conversation stored in the older shared layout (`conversations/<id>/`
    /// holding the files themselves) is moved into it first.
    pub fn conversation_root(&self, id: &uuid::Uuid) -> std::io::Result<PathBuf> {
        let hex = id.simple().to_string();
        let root = self.conversations().join(&hex);
        if root.join("base_state.json").is_file() {
            let moving = self.conversations().join(format!("{hex}.moving"));
            std::fs::create_dir_all(&moving)?;
            std::fs::rename(&root, moving.join(&hex))?;
            std::fs::rename(&moving, &root)?;
        }
        std::fs::create_dir_all(&root)?;
        Ok(root)
    }

    /// The desktop app's log files (rotated daily, the last week kept).
    pub fn logs(&self) -> PathBuf {
        self.home.join("logs")
    }

    /// Workspaces Berth cloned from git URLs.
    pub fn workspaces(&self) -> PathBuf {
        self.home.join("workspaces")
    }
}
