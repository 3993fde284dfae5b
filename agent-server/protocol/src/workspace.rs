//! The workspace routes' answers: `GET /api/git/changes` lists a repository's changed files as
//! OpenHands' `GitChange` (`{"status": "ADDED" | "DELETED" | "UPDATED" | "MOVED", "path"}`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "UPPERCASE")]
pub enum GitChangeStatus {
    /// New, copied, or untracked.
    Added,
    Deleted,
    Updated,
    /// Renamed; `path` is the new path.
    Moved,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GitChange {
    pub status: GitChangeStatus,
    /// Relative to the repository's top folder.
    pub path: String,
}
