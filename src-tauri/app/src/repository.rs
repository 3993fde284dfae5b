//! What a conversation works on: a folder on this machine, or a git repository to clone. Every
//! module that names one (starts, deep links, lists) uses this type.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::git_remote::{GitRemote, GitRemoteError};

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
    /// A repository as a person types or pastes it: a git URL (`https://…`, `ssh://…`,
    /// `git@host:owner/repo`, `file://…`), checked as [`GitRemote`] checks it, or else a folder.
    /// Whether the folder may be a workspace is for the start (or the link) to decide.
    pub fn parse(text: &str) -> Result<Self, GitRemoteError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(GitRemoteError::Empty);
        }
        if text.contains("://") || text.starts_with("git@") {
            GitRemote::parse(text)?;
            return Ok(Self::GitUrl {
                url: text.to_string(),
                branch: None,
                new_branch: None,
                full_clone: false,
            });
        }
        Ok(Self::LocalFolder { path: text.into() })
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_repository_is_a_url_or_a_folder() {
        for url in [
            "https://github.com/o/r",
            "git@github.com:o/r.git",
            "ssh://git@host/o/r",
        ] {
            assert!(
                matches!(Repository::parse(url), Ok(Repository::GitUrl { url: u, .. }) if u == url),
                "{url}"
            );
        }
        assert_eq!(
            Repository::parse("  /home/me/project \n").unwrap(),
            Repository::LocalFolder {
                path: "/home/me/project".into()
            }
        );
        assert_eq!(Repository::parse("  "), Err(GitRemoteError::Empty));
        // Looks like a URL, so it is checked as one: a hidden host is refused, not cloned.
        assert!(matches!(
            Repository::parse("https://evil.example?@github.com/o/r"),
            Err(GitRemoteError::Refused(_))
        ));
    }
}
