//! Everything that changes without the UI asking, as one stream: start tasks moving through
//! their states, conversation events as they are mirrored, and changed files of workspaces.

use berth_protocol::Event;
use serde::Serialize;
use tokio::sync::broadcast;
use ts_rs::TS;

use crate::start::StartTask;
use crate::watcher::ChangedFiles;

#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AppUpdate {
    StartTask {
        task: Box<StartTask>,
    },
    Event {
        conversation_id: String,
        event: Box<Event>,
    },
    ChangedFiles {
        changes: ChangedFiles,
    },
}

/// Forwards one source into the merged stream until either side closes.
pub(crate) fn forward<T: Clone + Send + 'static>(
    mut from: broadcast::Receiver<T>,
    to: broadcast::Sender<AppUpdate>,
    wrap: impl Fn(T) -> AppUpdate + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match from.recv().await {
                Ok(item) => {
                    let _ = to.send(wrap(item));
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "the update stream fell behind");
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    })
}
