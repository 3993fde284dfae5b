//! Workspace watching: each live conversation's workspace folder is watched (notify, events
//! debounced over [`DEBOUNCE`]), and after each burst of changes the app publishes the folder's
//! changed files, so the Changes view updates without polling.
//!
//! In a repository the changed files come from the sandbox's own git (`/api/git/changes`): the
//! host never runs git, or anything else that reads a repository's config, filters or hooks,
//! on a workspace the agent can write — a `core.fsmonitor` or a clean filter set by the agent
//! would run on the host. Outside a repository they are the paths touched since watching began.
//!
//! Crate: `notify-debouncer-mini` over `notify`, the maintained cross-platform file watcher
//! (inotify, FSEvents, ReadDirectoryChangesW); the debouncer folds an editor's or a build's
//! bursts into one update.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use berth_protocol::GitChangeStatus;
use notify_debouncer_mini::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::agent_client::AgentClient;

pub const DEBOUNCE: Duration = Duration::from_millis(300);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// New or untracked.
    Added,
    Deleted,
    Modified,
    Renamed,
    /// Touched, outside a repository (no base to compare with).
    Changed,
}

impl From<GitChangeStatus> for ChangeKind {
    fn from(s: GitChangeStatus) -> Self {
        match s {
            GitChangeStatus::Added => Self::Added,
            GitChangeStatus::Deleted => Self::Deleted,
            GitChangeStatus::Updated => Self::Modified,
            GitChangeStatus::Moved => Self::Renamed,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ChangedFile {
    /// Relative to the workspace.
    pub path: String,
    pub status: ChangeKind,
}

/// A conversation's sandbox, which answers for its repository's changed files.
#[derive(Clone)]
pub struct SandboxGit {
    pub client: AgentClient,
    /// The workspace as the sandbox sees it.
    pub workspace: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ChangedFiles {
    pub conversation_id: String,
    pub files: Vec<ChangedFile>,
}

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("cannot watch {path}: {message}")]
    Watch { path: String, message: String },
    #[error("workspaces are watched from within the app's async runtime")]
    NoRuntime,
}

#[derive(Clone)]
pub struct WorkspaceWatcher {
    inner: Arc<Inner>,
}

struct Inner {
    updates: broadcast::Sender<ChangedFiles>,
    watching: Mutex<HashMap<String, Watched>>,
}

struct Watched {
    _debouncer: Debouncer<RecommendedWatcher>,
    source: Arc<Source>,
}

/// What the changed files of one workspace are computed from.
struct Source {
    root: PathBuf,
    git: SandboxGit,
    touched: Mutex<BTreeSet<String>>,
    /// One answer at a time, so updates go out in the order of the bursts.
    turn: tokio::sync::Mutex<()>,
}

impl Default for WorkspaceWatcher {
    fn default() -> Self {
        Self::new()
    }
}

impl WorkspaceWatcher {
    pub fn new() -> Self {
        let (updates, _) = broadcast::channel(256);
        Self {
            inner: Arc::new(Inner {
                updates,
                watching: Mutex::new(HashMap::new()),
            }),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<ChangedFiles> {
        self.inner.updates.subscribe()
    }

    /// Watches a conversation's workspace (again: the old watch is replaced); `git` is its
    /// sandbox, asked for the changed files of a repository.
    pub fn watch(
        &self,
        conversation_id: &str,
        workspace: &Path,
        git: SandboxGit,
    ) -> Result<(), WatchError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| WatchError::NoRuntime)?;
        let root = std::fs::canonicalize(workspace).unwrap_or_else(|_| workspace.to_path_buf());
        let source = Arc::new(Source {
            root: root.clone(),
            git,
            touched: Mutex::default(),
            turn: tokio::sync::Mutex::new(()),
        });
        let updates = self.inner.updates.clone();
        let id = conversation_id.to_string();
        let handler_source = source.clone();
        let mut debouncer = new_debouncer(DEBOUNCE, move |result: DebounceEventResult| {
            let events = match result {
                Ok(events) => events,
                Err(e) => {
                    tracing::warn!(conversation = %id, error = %e, "the workspace watcher failed");
                    return;
                }
            };
            handler_source.touch(events.into_iter().map(|e| e.path));
            let (source, updates, id) = (handler_source.clone(), updates.clone(), id.clone());
            runtime.spawn(async move {
                let _turn = source.turn.lock().await;
                let files = source.changed_files(&id).await;
                // Nobody listening is fine: the view asks with `current` when it opens.
                updates
                    .send(ChangedFiles {
                        conversation_id: id,
                        files,
                    })
                    .ok();
            });
        })
        .map_err(|e| WatchError::Watch {
            path: root.display().to_string(),
            message: e.to_string(),
        })?;
        debouncer
            .watcher()
            .watch(&root, RecursiveMode::Recursive)
            .map_err(|e| WatchError::Watch {
                path: root.display().to_string(),
                message: e.to_string(),
            })?;
        self.inner
            .watching
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                conversation_id.to_string(),
                Watched {
                    _debouncer: debouncer,
                    source,
                },
            );
        Ok(())
    }

    /// The changed files now, for a view opening after the last update went out.
    pub async fn current(&self, conversation_id: &str) -> Vec<ChangedFile> {
        let source = self
            .inner
            .watching
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(conversation_id)
            .map(|w| w.source.clone());
        match source {
            Some(source) => source.changed_files(conversation_id).await,
            None => Vec::new(),
        }
    }

    pub fn unwatch(&self, conversation_id: &str) {
        self.inner
            .watching
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(conversation_id);
    }

    pub fn is_watching(&self, conversation_id: &str) -> bool {
        self.inner
            .watching
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(conversation_id)
    }
}

impl Source {
    fn touch(&self, paths: impl Iterator<Item = PathBuf>) {
        let mut touched = self.touched.lock().unwrap_or_else(|e| e.into_inner());
        for p in paths {
            if let Ok(rel) = p.strip_prefix(&self.root)
                && !rel.as_os_str().is_empty()
            {
                touched.insert(rel.to_string_lossy().into_owned());
            }
        }
    }

    /// The workspace's changed files now: the sandbox's git's view in a repository.
    async fn changed_files(&self, conversation_id: &str) -> Vec<ChangedFile> {
        if self.root.join(".git").exists() {
            match self.git.client.git_changes(&self.git.workspace).await {
                Ok(changes) => {
                    return changes
                        .into_iter()
                        .map(|c| ChangedFile {
                            path: c.path,
                            status: c.status.into(),
                        })
                        .collect();
                }
                Err(e) => {
                    tracing::warn!(conversation = %conversation_id, error = %e, "the sandbox did not list the changed files; showing the touched ones");
                }
            }
        }
        let touched = self.touched.lock().unwrap_or_else(|e| e.into_inner());
        touched
            .iter()
            .map(|path| ChangedFile {
                status: if self.root.join(path).exists() {
                    ChangeKind::Changed
                } else {
                    ChangeKind::Deleted
                },
                path: path.clone(),
            })
            .collect()
    }
}
