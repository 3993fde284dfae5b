//! What a conversation works on: a folder on this machine, or a git repository to clone. Every
//! module that names one (starts, deep links, lists) uses this type.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Repository {
    /// A folder on this machine, used in place.
    LocalFolder { path: PathBuf },
    /// A git URL, cloned into Berth's workspaces folder.
    GitUrl {
        url: String,
        #[serde(default)]
        branch: Option<String>,
        /// Create this branch after cloning, for the agent's work.
        #[serde(default)]
        new_branch: Option<String>,
        /// Full history instead of a shallow clone.
        #[serde(default)]
        full_clone: bool,
    },
}

impl Repository {
    /// How lists name the repository, and the branch the agent works on.
    pub fn describe(&self) -> (String, Option<String>) {
        match self {
            Self::LocalFolder { path } => (path.display().to_string(), None),
            Self::GitUrl {
                url,
                branch,
                new_branch,
                ..
            } => (url.clone(), new_branch.clone().or(branch.clone())),
        }
    }
}
