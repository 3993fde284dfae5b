//! Workspace watching: each live conversation's workspace folder is watched (notify, events
//! debounced over [`DEBOUNCE`]), and after each burst of changes the app publishes the folder's
//! changed files — `git status` in a repository, else every path touched since watching began —
//! so the Changes view updates without polling.
//!
//! Crate: `notify-debouncer-mini` over `notify`, the maintained cross-platform file watcher
//! (inotify, FSEvents, ReadDirectoryChangesW); the debouncer folds an editor's or a build's
//! bursts into one update.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notify_debouncer_mini::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

pub const DEBOUNCE: Duration = Duration::from_millis(300);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct ChangedFile {
    /// Relative to the workspace.
    pub path: String,
    /// `modified`, `added`, `deleted`, `renamed`, `untracked`, or `changed` outside git.
    pub status: String,
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
    root: PathBuf,
    touched: Arc<Mutex<BTreeSet<String>>>,
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

    /// Watches a conversation's workspace (again: the old watch is replaced).
    pub fn watch(&self, conversation_id: &str, workspace: &Path) -> Result<(), WatchError> {
        let root = std::fs::canonicalize(workspace).unwrap_or_else(|_| workspace.to_path_buf());
        let updates = self.inner.updates.clone();
        let id = conversation_id.to_string();
        let touched: Arc<Mutex<BTreeSet<String>>> = Arc::default();
        let handler_root = root.clone();
        let handler_touched = touched.clone();
        let mut debouncer = new_debouncer(DEBOUNCE, move |result: DebounceEventResult| {
            let Ok(events) = result else { return };
            let paths: Vec<PathBuf> = events.into_iter().map(|e| e.path).collect();
            let files = changed_files(&handler_root, &paths, &handler_touched);
            let _ = updates.send(ChangedFiles {
                conversation_id: id.clone(),
                files,
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
                    root,
                    touched,
                },
            );
        Ok(())
    }

    /// The changed files now, for a view opening after the last update went out.
    pub fn current(&self, conversation_id: &str) -> Vec<ChangedFile> {
        let watching = self
            .inner
            .watching
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match watching.get(conversation_id) {
            Some(w) => changed_files(&w.root, &[], &w.touched),
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

/// The workspace's changed files now: git's view when it is a repository.
fn changed_files(
    root: &Path,
    paths: &[PathBuf],
    touched: &Mutex<BTreeSet<String>>,
) -> Vec<ChangedFile> {
    if let Some(files) = git_status(root) {
        return files;
    }
    let mut touched = touched.lock().unwrap_or_else(|e| e.into_inner());
    for p in paths {
        if let Ok(rel) = p.strip_prefix(root)
            && !rel.as_os_str().is_empty()
        {
            touched.insert(rel.to_string_lossy().into_owned());
        }
    }
    touched
        .iter()
        .map(|path| ChangedFile {
            status: if root.join(path).exists() {
                "changed".into()
            } else {
                "deleted".into()
            },
            path: path.clone(),
        })
        .collect()
}

fn git_status(root: &Path) -> Option<Vec<ChangedFile>> {
    if !root.join(".git").exists() {
        return None;
    }
    let out = std::process::Command::new("git")
        .args(["status", "--porcelain=v1", "-z", "--untracked-files=all"])
        .current_dir(root)
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut files = Vec::new();
    let mut entries = text.split('\0').filter(|e| !e.is_empty());
    while let Some(entry) = entries.next() {
        let (code, path) = entry.split_at(entry.len().min(3));
        let code = code.trim();
        let status = match code {
            "??" => "untracked",
            c if c.contains('R') => {
                // A rename is followed by its old path.
                entries.next();
                "renamed"
            }
            c if c.contains('A') => "added",
            c if c.contains('D') => "deleted",
            _ => "modified",
        };
        files.push(ChangedFile {
            path: path.to_string(),
            status: status.into(),
        });
    }
    Some(files)
}
