//! On-disk persistence in OpenHands' layout, so a conversation directory moves between the two
//! servers: `<root>/<id hex>/meta.json`, `base_state.json` and
//! `events/event-NNNNN-<event id>.json` (one compact JSON event per file, written atomically,
//! mode 0600). Unreadable event files are skipped with a warning rather than failing the load.

use std::path::{Path, PathBuf};

use berth_protocol::Event;
use serde_json::json;

use super::state::ConversationState;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid conversation state: {message}")]
    Corrupt { path: PathBuf, message: String },
}

#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn events_dir(&self) -> PathBuf {
        self.dir.join("events")
    }

    pub fn append(&self, index: usize, event: &Event) -> Result<(), StoreError> {
        let dir = self.events_dir();
        let path = dir.join(format!("event-{index:05}-{}.json", event.id));
        let bytes = serde_json::to_vec(event).map_err(|e| StoreError::Corrupt {
            path: path.clone(),
            message: e.to_string(),
        })?;
        write_private(&path, &bytes)
    }

    pub fn save_state(&self, state: &ConversationState) -> Result<(), StoreError> {
        let path = self.dir.join("base_state.json");
        let bytes = serde_json::to_vec_pretty(state).map_err(|e| StoreError::Corrupt {
            path: path.clone(),
            message: e.to_string(),
        })?;
        write_private(&path, &bytes)?;
        let meta = json!({
            "id": state.id.replace('-', ""),
            "title": state.title,
            "workspace": state.workspace,
            "max_iterations": state.max_iterations,
            "stuck_detection": state.stuck_detection,
            "confirmation_policy": state.confirmation_policy,
            "tags": state.tags,
            "metrics": null,
            "created_at": state.created_at,
            "updated_at": state.updated_at,
        });
        let path = self.dir.join("meta.json");
        let bytes = serde_json::to_vec_pretty(&meta).map_err(|e| StoreError::Corrupt {
            path: path.clone(),
            message: e.to_string(),
        })?;
        write_private(&path, &bytes)
    }

    pub fn load_state(&self) -> Result<ConversationState, StoreError> {
        let path = self.dir.join("base_state.json");
        let bytes = std::fs::read(&path).map_err(|e| StoreError::Read {
            path: path.clone(),
            source: e,
        })?;
        serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
            path,
            message: e.to_string(),
        })
    }

    /// Every readable event, in log order.
    pub fn load_events(&self) -> Result<Vec<Event>, StoreError> {
        let dir = self.events_dir();
        let read = match std::fs::read_dir(&dir) {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(StoreError::Read {
                    path: dir,
                    source: e,
                });
            }
        };
        let mut files: Vec<(usize, PathBuf)> = read
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let idx = name
                    .strip_prefix("event-")?
                    .split('-')
                    .next()?
                    .parse()
                    .ok()?;
                name.ends_with(".json").then_some((idx, e.path()))
            })
            .collect();
        files.sort();
        let mut events = Vec::with_capacity(files.len());
        for (_, path) in files {
            match std::fs::read(&path)
                .ok()
                .and_then(|b| serde_json::from_slice::<Event>(&b).ok())
            {
                Some(e) => events.push(e),
                None => tracing::warn!(path = %path.display(), "skipping an unreadable event file"),
            }
        }
        Ok(events)
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let err = |e| StoreError::Write {
        path: path.to_path_buf(),
        source: e,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(err)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(err)?;
    std::io::Write::write_all(&mut tmp, bytes).map_err(err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o600))
            .map_err(err)?;
    }
    // Durable before it is visible: the data reaches the disk, then the rename, then the
    // folder entry, so a power loss leaves the old file or the new one, never an empty one.
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    #[cfg(unix)]
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(err)?;
    Ok(())
}
