//! Everything that changes without the UI asking, as one stream: start tasks moving through
//! their states, conversation events as they are mirrored, a conversation's summary when an
//! event changed it (status, title, metrics: projected once, here, never again by a view), and
//! changed files of workspaces.

use berth_protocol::Event;
use serde::Serialize;
use tokio::sync::broadcast;
use ts_rs::TS;

use crate::conversation_records::ConversationSummary;
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
    /// A conversation's row as it is now, after an event changed it.
    Conversation {
        summary: Box<ConversationSummary>,
    },
    ChangedFiles {
        changes: ChangedFiles,
    },
    /// Updates were missed (a reader fell behind the stream): what a view shows may be stale,
    /// so it loads its snapshot again.
    Resync {
        missed: u64,
    },
}

/// Forwards one source into the merged stream until either side closes; `wrap` may leave an
/// item out.
pub(crate) fn forward<T: Clone + Send + 'static>(
    mut from: broadcast::Receiver<T>,
    to: broadcast::Sender<AppUpdate>,
    wrap: impl Fn(T) -> Option<AppUpdate> + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    let send = move |update| {
        if to.send(update).is_err() {
            // No view listens right now; one that opens later loads its snapshot first.
            tracing::trace!("an update with no one listening");
        }
    };
    tokio::spawn(async move {
        loop {
            match from.recv().await {
                Ok(item) => {
                    if let Some(update) = wrap(item) {
                        send(update);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "the update stream fell behind");
                    send(AppUpdate::Resync { missed: n });
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source that got ahead of the stream: the updates lost are replaced by a `resync`, so
    /// the views reload instead of showing a stale conversation.
    #[tokio::test]
    async fn a_reader_that_fell_behind_gets_a_resync() {
        let (source, from) = broadcast::channel::<u64>(2);
        let (to, mut merged) = broadcast::channel(16);
        for n in 0..5 {
            source.send(n).unwrap();
        }
        let task = forward(from, to, |n| {
            Some(AppUpdate::ChangedFiles {
                changes: ChangedFiles {
                    conversation_id: n.to_string(),
                    files: vec![],
                },
            })
        });
        let mut got = Vec::new();
        for _ in 0..3 {
            got.push(match merged.recv().await {
                Ok(AppUpdate::Resync { missed }) => format!("resync {missed}"),
                Ok(AppUpdate::ChangedFiles { changes }) => changes.conversation_id,
                other => format!("{other:?}"),
            });
        }
        assert_eq!(got, ["resync 3", "3", "4"]);
        drop(source);
        task.await.unwrap();
    }
}
